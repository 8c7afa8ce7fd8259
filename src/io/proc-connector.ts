/**
 * The kernel's process events connector (runtime/ports/processes.ts ProcessEvents), the source
 * keepalived 2.2.7 uses for track_process (docs/keepalived-behaviour.md 2.8): a NETLINK_CONNECTOR
 * datagram socket bound to the CN_IDX_PROC group, a PROC_CN_MCAST_LISTEN message to the kernel, then
 * one `proc_event` per message (fork, exec, comm, exit; the others are ignored). Opened through
 * koffi (util/libc.ts) and read on Node's event loop through libuv (io/uv-poll.ts), like the IPv6
 * VRRP socket: non-blocking, at most {@link PROC_CN_BURST_MAX} messages per wake-up, the rest on the
 * next loop turn. A socket filter ({@link eventFilter}) keeps threads' forks and exits and the
 * unused events in the kernel: each wake-up of the event loop costs far more than the message.
 *
 * A message that is short, whose lengths disagree, that was truncated (MSG_TRUNC) or that does not
 * come from the kernel (sender port id not 0) is dropped and counted, never thrown on. ENOBUFS
 * (events lost) is reported as `overrun` and doubles the receive buffer, up to
 * {@link PROC_CN_RCVBUF_MAX}, as keepalived does before it reads /proc again.
 *
 * In any network namespace but the first, the kernel has no connector socket to send to: the
 * LISTEN message fails with ECONNREFUSED, and `start` returns that failure with nothing left open.
 *
 * Layout (host byte order; <linux/netlink.h>, <linux/connector.h>, <linux/cn_proc.h>): nlmsghdr (16
 * bytes), cn_msg (20: idx, val, seq, ack, len u16, flags u16), then proc_event: what, cpu, timestamp
 * (u64), and the event's data at offset 16 of it.
 */
import { endianness } from 'node:os';
import type { ProcEvent, ProcEventCounters, ProcessEvents } from '../runtime/ports/processes.js';
import { lazyLibc } from '../util/libc.js';
import { errnoIoError, fail, ok, type IoResult } from './io-error.js';
import { watchReadable, type FdWatch } from './uv-poll.js';

const AF_NETLINK = 16;
const NETLINK_CONNECTOR = 11;
const SOCK_DGRAM = 2;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_RCVBUF = 8;
const SO_RCVBUFFORCE = 33;
const SO_ATTACH_FILTER = 26;
const MSG_TRUNC = 0x20;
const EINTR = 4;
const ENOBUFS = 105;
const EALREADY = 114;
const ENOTSUP = 95;

const NLMSG_NOOP = 1;
const NLMSG_ERROR = 2;
const NLMSG_DONE = 3;
const NLMSG_HDRLEN = 16;
const CN_MSG_LEN = 20;
/** Where proc_event starts in a message. */
const EVENT_OFF = NLMSG_HDRLEN + CN_MSG_LEN;
/** proc_event's header: what, cpu, timestamp_ns. */
const EVENT_HDR = 16;
export const CN_IDX_PROC = 1;
export const CN_VAL_PROC = 1;
export const PROC_CN_MCAST_LISTEN = 1;
export const PROC_CN_MCAST_IGNORE = 2;

export const PROC_EVENT_NONE = 0;
export const PROC_EVENT_FORK = 1;
export const PROC_EVENT_EXEC = 2;
export const PROC_EVENT_COMM = 0x200;
export const PROC_EVENT_EXIT = 0x80000000;
/** TASK_COMM_LEN. */
const COMM_LEN = 16;

/** Data bytes each handled event needs after proc_event's header. */
const DATA_NEEDED: ReadonlyMap<number, number> = new Map([
  [PROC_EVENT_NONE, 4], // ack: err
  [PROC_EVENT_FORK, 16], // parent pid, parent tgid, child pid, child tgid
  [PROC_EVENT_EXEC, 8], // pid, tgid
  [PROC_EVENT_COMM, 8 + COMM_LEN], // pid, tgid, comm[16]
  [PROC_EVENT_EXIT, 8], // pid, tgid (exit code and signal not used)
]);

/** Messages read per wake-up before yielding to the event loop. */
export const PROC_CN_BURST_MAX = 64;
/** Receive buffer (bytes): one message is 76 bytes today; room for a larger kernel's. */
const RX_BUFFER = 512;
/** The receive buffer after a first overrun (bytes; the kernel's default is about 208 KiB). */
export const PROC_CN_RCVBUF_FIRST = 1 << 20;
/** The receive buffer never grows past this after overruns (bytes). */
export const PROC_CN_RCVBUF_MAX = 4 << 20;

/** What one message is: an event, a message to ignore, or one to drop (and count). */
export type ParsedProcMessage =
  | { readonly kind: 'event'; readonly event: ProcEvent; readonly seq: number; readonly ack: number }
  | { readonly kind: 'ignored' }
  | { readonly kind: 'malformed'; readonly reason: string };

const malformed = (reason: string): ParsedProcMessage => ({ kind: 'malformed', reason });

/** Parse one received message of `len` bytes (the kernel sends exactly one per datagram). */
export function parseProcMessage(buf: Uint8Array, len: number, le = endianness() === 'LE'): ParsedProcMessage {
  const b = Buffer.from(buf.buffer, buf.byteOffset, Math.min(len, buf.byteLength));
  const u32 = (off: number): number => (le ? b.readUInt32LE(off) : b.readUInt32BE(off));
  const i32 = (off: number): number => (le ? b.readInt32LE(off) : b.readInt32BE(off));
  const u16 = (off: number): number => (le ? b.readUInt16LE(off) : b.readUInt16BE(off));
  if (b.length < NLMSG_HDRLEN) return malformed(`${b.length} bytes: shorter than a netlink header`);
  const nlLen = u32(0);
  const type = u16(4);
  if (nlLen < NLMSG_HDRLEN || nlLen > b.length) return malformed(`nlmsg_len ${nlLen} in ${b.length} bytes`);
  if (type === NLMSG_NOOP || type === NLMSG_ERROR) return { kind: 'ignored' };
  if (nlLen < EVENT_OFF) return malformed(`nlmsg_len ${nlLen}: no room for cn_msg`);
  if (u32(NLMSG_HDRLEN) !== CN_IDX_PROC || u32(NLMSG_HDRLEN + 4) !== CN_VAL_PROC) return { kind: 'ignored' };
  const seq = u32(NLMSG_HDRLEN + 8);
  const ack = u32(NLMSG_HDRLEN + 12);
  const dataLen = u16(NLMSG_HDRLEN + 16);
  if (EVENT_OFF + dataLen > nlLen) return malformed(`cn_msg len ${dataLen} past nlmsg_len ${nlLen}`);
  if (dataLen < EVENT_HDR) return malformed(`cn_msg len ${dataLen}: shorter than a proc_event`);
  const what = u32(EVENT_OFF);
  const need = DATA_NEEDED.get(what);
  if (need === undefined) return { kind: 'ignored' }; // uid, gid, sid, ptrace, coredump...
  if (dataLen < EVENT_HDR + need) return malformed(`event 0x${what.toString(16)}: ${dataLen} bytes`);
  // an ack is a PROC_EVENT_NONE with cn_msg.ack set, and only that (keepalived's check)
  if ((what === PROC_EVENT_NONE) !== (ack !== 0)) return { kind: 'ignored' };
  const d = EVENT_OFF + EVENT_HDR;
  const event = ((): ProcEvent => {
    switch (what) {
      case PROC_EVENT_NONE:
        return { kind: 'ack', err: u32(d) };
      case PROC_EVENT_FORK:
        return { kind: 'fork', parentTgid: i32(d + 4), childPid: i32(d + 8), childTgid: i32(d + 12) };
      case PROC_EVENT_EXEC:
        return { kind: 'exec', pid: i32(d), tgid: i32(d + 4) };
      case PROC_EVENT_COMM: {
        const raw = b.subarray(d + 8, d + 8 + COMM_LEN);
        const nul = raw.indexOf(0);
        return { kind: 'comm', pid: i32(d), tgid: i32(d + 4), comm: raw.toString('utf8', 0, nul < 0 ? COMM_LEN : nul) };
      }
      default:
        return { kind: 'exit', pid: i32(d), tgid: i32(d + 4) };
    }
  })();
  return { kind: 'event', event, seq, ack };
}

/**
 * The PROC_CN_MCAST_LISTEN / IGNORE message: nlmsghdr, cn_msg, the op. The kernel answers with an
 * ack event whose cn_msg.ack is ours plus one (its seq is the kernel's own), so `nonce` in cn_msg.ack
 * tells our ack from the ones other listeners' requests bring.
 */
export function mcastMessage(op: number, nonce: number, le = endianness() === 'LE'): Buffer {
  const b = Buffer.alloc(EVENT_OFF + 4);
  const w32 = (v: number, off: number): void => void (le ? b.writeUInt32LE(v >>> 0, off) : b.writeUInt32BE(v >>> 0, off));
  const w16 = (v: number, off: number): void => void (le ? b.writeUInt16LE(v, off) : b.writeUInt16BE(v, off));
  w32(b.length, 0);
  w16(NLMSG_DONE, 4);
  w32(CN_IDX_PROC, NLMSG_HDRLEN);
  w32(CN_VAL_PROC, NLMSG_HDRLEN + 4);
  w32(nonce, NLMSG_HDRLEN + 12);
  w16(4, NLMSG_HDRLEN + 16);
  w32(op, EVENT_OFF);
  return b;
}

/** One classic BPF instruction (struct sock_filter: code u16, jt u8, jf u8, k u32). */
export interface BpfInsn {
  readonly code: number;
  readonly jt: number;
  readonly jf: number;
  readonly k: number;
}

const BPF_LD_W_ABS = 0x20;
const BPF_JEQ_K = 0x15;
const BPF_JEQ_X = 0x1d;
const BPF_TAX = 0x07;
const BPF_RET_K = 0x06;

/**
 * The socket filter that keeps, in the kernel, only what track_process uses: the ack, exec and comm
 * events, and the fork and exit events of processes (pid = tgid); a thread's fork or exit and every
 * other event never wake the daemon. BPF loads words big-endian: the event codes are compared
 * byte-swapped on a little-endian host (the pid/tgid comparison does not depend on the order).
 */
export function eventFilter(le = endianness() === 'LE'): BpfInsn[] {
  const code = (v: number): number => (le ? (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0 : v >>> 0);
  const ld = (off: number): BpfInsn => ({ code: BPF_LD_W_ABS, jt: 0, jf: 0, k: off });
  const d = EVENT_OFF + EVENT_HDR;
  // 14: drop, 15: accept; jumps are relative to the next instruction
  return [
    ld(EVENT_OFF),
    { code: BPF_JEQ_K, jt: 4, jf: 0, k: code(PROC_EVENT_FORK) }, // -> 6
    { code: BPF_JEQ_K, jt: 7, jf: 0, k: code(PROC_EVENT_EXIT) }, // -> 10
    { code: BPF_JEQ_K, jt: 11, jf: 0, k: code(PROC_EVENT_EXEC) },
    { code: BPF_JEQ_K, jt: 10, jf: 0, k: code(PROC_EVENT_COMM) },
    { code: BPF_JEQ_K, jt: 9, jf: 8, k: code(PROC_EVENT_NONE) },
    ld(d + 8), // fork: child pid
    { code: BPF_TAX, jt: 0, jf: 0, k: 0 },
    ld(d + 12), // child tgid
    { code: BPF_JEQ_X, jt: 5, jf: 4, k: 0 },
    ld(d), // exit: pid
    { code: BPF_TAX, jt: 0, jf: 0, k: 0 },
    ld(d + 4), // tgid
    { code: BPF_JEQ_X, jt: 1, jf: 0, k: 0 },
    { code: BPF_RET_K, jt: 0, jf: 0, k: 0 },
    { code: BPF_RET_K, jt: 0, jf: 0, k: 0xffffffff },
  ];
}

interface Native {
  readonly koffi: typeof import('koffi');
  readonly errno: () => number;
  readonly strerror: (n: number) => string;
  readonly socket: (domain: number, type: number, proto: number) => number;
  readonly bind: (fd: number, addr: Buffer, len: number) => number;
  readonly send: (fd: number, msg: Buffer, len: number, flags: number) => number | bigint;
  readonly recvmsg: (fd: number, msg: unknown, flags: number) => number | bigint;
  readonly setsockopt: (fd: number, level: number, name: number, value: Buffer, len: number) => number;
  readonly close: (fd: number) => number;
}

const loadNative = lazyLibc<Native>(({ koffi, lib, errno }) => ({
  koffi,
  errno,
  strerror: lib.func('const char *strerror(int errnum)') as Native['strerror'],
  socket: lib.func('int socket(int domain, int type, int protocol)') as Native['socket'],
  bind: lib.func('int bind(int fd, const uint8_t *addr, uint32_t len)') as Native['bind'],
  send: lib.func('intptr_t send(int fd, const uint8_t *buf, size_t len, int flags)') as Native['send'],
  recvmsg: lib.func('intptr_t recvmsg(int fd, void *msg, int flags)') as Native['recvmsg'],
  setsockopt: lib.func('int setsockopt(int fd, int level, int name, const uint8_t *value, uint32_t len)') as Native['setsockopt'],
  close: lib.func('int close(int fd)') as Native['close'],
}));

// Receive block (LP64): msghdr (56) | iovec (16) | sockaddr_nl (16) | data (RX_BUFFER)
const MSGHDR_LEN = 56;
const NAME_OFF = MSGHDR_LEN + 16;
const SOCKADDR_NL_LEN = 12;
const DATA_OFF = NAME_OFF + 16;

interface RxBlock {
  readonly ptr: unknown;
  readonly all: Buffer;
  readonly base: bigint;
}

/** The receiving socket of a started subscription. */
interface Open {
  readonly fd: number;
  readonly rx: RxBlock;
  /** Our cn_msg.ack: the kernel's ack to our LISTEN carries this plus one. */
  readonly nonce: number;
  watch: FdWatch | undefined;
  rcvbuf: number;
}

/** The real ProcessEvents: see the module comment. */
export class ProcConnector implements ProcessEvents {
  #open: Open | undefined;
  #onEvent: ((ev: ProcEvent) => void) | undefined;
  #received = 0;
  #dropped = 0;
  #overruns = 0;
  readonly #le = endianness() === 'LE';
  /** The kernel keeps only the events used (eventFilter) on the socket last opened. */
  filtered = false;

  counters(): ProcEventCounters {
    return { received: this.#received, dropped: this.#dropped, overruns: this.#overruns };
  }

  start(onEvent: (ev: ProcEvent) => void): IoResult<void> {
    if (this.#open !== undefined) return fail(errnoIoError('start', EALREADY, undefined, 'already subscribed'));
    const n = loadNative();
    if (n === null)
      return fail({
        kind: 'IoError',
        syscall: 'socket(NETLINK_CONNECTOR)',
        errno: ENOTSUP,
        code: 'ENOTSUP',
        message: 'koffi cannot reach libc',
      });
    const failed = (syscall: string, fd: number): IoResult<void> => {
      const e = n.errno();
      if (fd >= 0) n.close(fd);
      return fail(errnoIoError(syscall, e, undefined, n.strerror(e)));
    };
    const fd = n.socket(AF_NETLINK, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_CONNECTOR);
    if (fd < 0) return failed('socket(NETLINK_CONNECTOR)', -1);
    // sockaddr_nl: family, pad, port id 0 (the kernel picks one), groups CN_IDX_PROC
    const sa = Buffer.alloc(SOCKADDR_NL_LEN);
    if (this.#le) sa.writeUInt16LE(AF_NETLINK, 0);
    else sa.writeUInt16BE(AF_NETLINK, 0);
    this.#w32(sa, CN_IDX_PROC, 8);
    if (n.bind(fd, sa, sa.length) < 0) return failed('bind(CN_IDX_PROC)', fd);
    // without the filter every event still comes, and the runtime ignores what it does not use
    this.filtered = this.#attachFilter(n, fd);
    const nonce = 1 + Math.floor(Math.random() * 0x7ffffffe);
    const msg = mcastMessage(PROC_CN_MCAST_LISTEN, nonce, this.#le);
    if (Number(n.send(fd, msg, msg.length, 0)) < 0) return failed('send(PROC_CN_MCAST_LISTEN)', fd);
    const ptr: unknown = n.koffi.alloc('uint8_t', DATA_OFF + RX_BUFFER);
    const rx: RxBlock = { ptr, all: Buffer.from(n.koffi.view(ptr, DATA_OFF + RX_BUFFER)), base: n.koffi.address(ptr) };
    this.#layOut(rx);
    const open: Open = { fd, rx, nonce, watch: undefined, rcvbuf: 0 };
    this.#open = open;
    this.#onEvent = onEvent;
    const w = watchReadable(fd, (status) => this.#onReadable(n, open, status));
    if (!w.ok) {
      this.stop();
      return w;
    }
    open.watch = w.value;
    return ok(undefined);
  }

  stop(): void {
    const o = this.#open;
    if (o === undefined) return;
    this.#open = undefined;
    this.#onEvent = undefined;
    const n = loadNative();
    if (n === null) return;
    o.watch?.stop();
    const msg = mcastMessage(PROC_CN_MCAST_IGNORE, o.nonce, this.#le);
    n.send(o.fd, msg, msg.length, 0);
    n.close(o.fd);
    n.koffi.free(o.rx.ptr);
  }

  #w32(b: Buffer, v: number, off: number): void {
    if (this.#le) b.writeUInt32LE(v >>> 0, off);
    else b.writeUInt32BE(v >>> 0, off);
  }

  #w64(b: Buffer, v: bigint, off: number): void {
    if (this.#le) b.writeBigUInt64LE(v, off);
    else b.writeBigUInt64BE(v, off);
  }

  /** SO_ATTACH_FILTER with eventFilter(): struct sock_fprog points at native memory, freed after the copy. */
  #attachFilter(n: Native, fd: number): boolean {
    const insns = eventFilter(this.#le);
    const ptr: unknown = n.koffi.alloc('uint8_t', insns.length * 8);
    try {
      const b = Buffer.from(n.koffi.view(ptr, insns.length * 8));
      insns.forEach((x, i) => {
        if (this.#le) b.writeUInt16LE(x.code, i * 8);
        else b.writeUInt16BE(x.code, i * 8);
        b[i * 8 + 2] = x.jt;
        b[i * 8 + 3] = x.jf;
        this.#w32(b, x.k, i * 8 + 4);
      });
      const prog = Buffer.alloc(16);
      if (this.#le) prog.writeUInt16LE(insns.length, 0);
      else prog.writeUInt16BE(insns.length, 0);
      this.#w64(prog, n.koffi.address(ptr), 8);
      return n.setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, prog, prog.length) === 0;
    } finally {
      n.koffi.free(ptr);
    }
  }

  /** msghdr (name: the sockaddr_nl, one iovec: the data) and its iovec, in the block's own memory. */
  #layOut(rx: RxBlock): void {
    const h = rx.all;
    h.fill(0, 0, DATA_OFF);
    this.#w64(h, rx.base + BigInt(NAME_OFF), 0);
    this.#w32(h, SOCKADDR_NL_LEN, 8);
    this.#w64(h, rx.base + BigInt(MSGHDR_LEN), 16);
    this.#w64(h, 1n, 24);
    this.#w64(h, rx.base + BigInt(DATA_OFF), MSGHDR_LEN);
    this.#w64(h, BigInt(RX_BUFFER), MSGHDR_LEN + 8);
  }

  /** Up to PROC_CN_BURST_MAX messages, each handed on or counted as dropped. */
  #onReadable(n: Native, o: Open, status: number): void {
    if (this.#open !== o) return;
    if (status < 0) return; // a dead watch: the socket stays, stop() closes it
    const h = o.rx.all;
    for (let i = 0; i < PROC_CN_BURST_MAX && this.#open === o; i++) {
      // recvmsg writes back msg_namelen and msg_flags only: the rest was laid out at start
      this.#w32(h, SOCKADDR_NL_LEN, 8);
      h.fill(0, NAME_OFF, DATA_OFF);
      const got = Number(n.recvmsg(o.fd, o.rx.ptr, 0));
      if (got < 0) {
        const e = n.errno();
        if (e === EINTR) continue;
        if (e === ENOBUFS) this.#overrun(n, o);
        return; // EAGAIN: nothing left; anything else: wait for the next readiness (level-triggered)
      }
      this.#received++;
      const flags = this.#le ? h.readUInt32LE(48) : h.readUInt32BE(48);
      const nameLen = this.#le ? h.readUInt32LE(8) : h.readUInt32BE(8);
      const sender = this.#le ? h.readUInt32LE(NAME_OFF + 4) : h.readUInt32BE(NAME_OFF + 4);
      if ((flags & MSG_TRUNC) !== 0 || nameLen !== SOCKADDR_NL_LEN || sender !== 0) {
        this.#dropped++;
        continue;
      }
      this.#deliver(o, parseProcMessage(h.subarray(DATA_OFF), got, this.#le));
    }
  }

  #deliver(o: Open, m: ParsedProcMessage): void {
    if (m.kind === 'malformed') this.#dropped++;
    if (m.kind !== 'event') return;
    // an ack answers someone's LISTEN or IGNORE: ours carries our nonce plus one
    if (m.event.kind === 'ack' && m.ack !== (o.nonce + 1) >>> 0) return;
    this.#onEvent?.(m.event);
  }

  #overrun(n: Native, o: Open): void {
    this.#overruns++;
    o.rcvbuf = o.rcvbuf === 0 ? PROC_CN_RCVBUF_FIRST : Math.min(o.rcvbuf * 2, PROC_CN_RCVBUF_MAX);
    const v = Buffer.alloc(4);
    this.#w32(v, o.rcvbuf, 0);
    if (n.setsockopt(o.fd, SOL_SOCKET, SO_RCVBUFFORCE, v, 4) < 0) n.setsockopt(o.fd, SOL_SOCKET, SO_RCVBUF, v, 4);
    this.#onEvent?.({ kind: 'overrun' });
  }
}
