/**
 * The libc side of the IPv6 VRRP socket (io/vrrp6-transport.ts), through koffi: socket, setsockopt,
 * bind, sendmsg with IPV6_PKTINFO (and IPV6_HOPLIMIT) ancillary data, recvmsg returning the hop
 * limit and destination (IPV6_RECVHOPLIMIT / IPV6_RECVPKTINFO), close. Neither Node nor
 * raw-socket can pass ancillary data, and an IPv6 raw socket has no IP header to read them from.
 *
 * msghdr, iovec, sockaddr_in6 and the control messages are laid out by hand in native memory that
 * never moves (koffi.alloc), for LP64 Linux (x86_64, aarch64): `nativeSocket6()` refuses any other
 * pointer size. Every call returns the C result; -1 comes with errno read right after the call.
 */
import { endianness } from 'node:os';
import { libc } from '../util/libc.js';
import { meminfoWord, SK_MEMINFO_DROPS, SK_MEMINFO_VARS, SO_MEMINFO } from './meminfo.js';
import { IPV6_ADDRESS_LEN, formatIpv6At } from '../protocol/ipv6-address.js';

export const AF_INET6 = 10;
export const SOL_SOCKET = 1;
export const SO_RCVBUF = 8;
export const SO_BINDTODEVICE = 25;
export const SO_ATTACH_FILTER = 26;
export const IPPROTO_IPV6 = 41;
// <linux/in6.h>, <linux/ipv6.h>
export const IPV6_CHECKSUM = 7;
export const IPV6_MULTICAST_IF = 17;
export const IPV6_MULTICAST_HOPS = 18;
export const IPV6_MULTICAST_LOOP = 19;
export const IPV6_ADD_MEMBERSHIP = 20;
export const IPV6_DROP_MEMBERSHIP = 21;
export const IPV6_MULTICAST_ALL = 29;
export const IPV6_RECVPKTINFO = 49;
export const IPV6_PKTINFO = 50;
export const IPV6_RECVHOPLIMIT = 51;
export const IPV6_HOPLIMIT = 52;
export const IPV6_TCLASS = 67;
const SOCK_RAW = 3;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
export const MSG_DONTROUTE = 4;
const MSG_CTRUNC = 8;
const MSG_TRUNC = 0x20;
export const SOCKADDR_IN6_LEN = 28;

// LP64 layouts (<sys/socket.h>, <bits/uio.h>, <netinet/in.h>)
const MSGHDR_LEN = 56;
const IOVEC_LEN = 16;
const CMSGHDR_LEN = 16;
const PKTINFO_LEN = 20;
const CONTROL_LEN = 128;
const cmsgSpace = (n: number): number => CMSGHDR_LEN + ((n + 7) & ~7);

/** A received datagram: the bytes, who sent it, to where, and with which hop limit. */
export interface Received6 {
  readonly bytes: number;
  /** The sender (msg_name), with the receiving interface as scope for link-local senders. */
  readonly src: string;
  readonly srcScope: number;
  /** IPV6_PKTINFO: the destination address of the packet and the interface it arrived on. */
  readonly dst: string | undefined;
  readonly ifindex: number | undefined;
  /** IPV6_HOPLIMIT: the packet's hop limit. */
  readonly hopLimit: number | undefined;
  /** MSG_TRUNC: the datagram was longer than the buffer (the bytes are the first part). */
  readonly truncated: boolean;
}

/** What to send: the destination, the source and interface for IPV6_PKTINFO, an optional hop limit. */
export interface Send6 {
  readonly dst: Uint8Array;
  /** Destination scope (the interface for a link-local destination), 0 otherwise. */
  readonly dstScope: number;
  readonly src: Uint8Array;
  readonly ifindex: number;
  /** IPV6_HOPLIMIT ancillary datum; undefined lets the socket's setting (or the kernel default) apply. */
  readonly hopLimit: number | undefined;
  readonly flags: number;
}

/** One native buffer set for one direction of one socket (recvmsg or sendmsg). */
export interface MsgBuffers {
  readonly data: Buffer;
  readonly ptr: unknown;
  free(): void;
}

export interface NativeSocket6 {
  socket(): number;
  close(fd: number): number;
  setInt(fd: number, level: number, name: number, value: number): number;
  setBytes(fd: number, level: number, name: number, value: Uint8Array): number;
  bind(fd: number, addr: Uint8Array, scope: number): number;
  /** Buffers for `dataLen` payload bytes plus the headers; free them when the socket closes. */
  buffers(dataLen: number): MsgBuffers;
  /** sendmsg of `len` bytes already copied to `b.data`; bytes sent or -1. */
  sendmsg(fd: number, b: MsgBuffers, len: number, to: Send6): number;
  /** One non-blocking recvmsg into `b`; -1 with errno (EAGAIN when nothing is left). */
  recvmsg(fd: number, b: MsgBuffers): Received6 | -1;
  /** getsockopt into `value`: the length the kernel wrote, or -1 (absent in test doubles: nothing read). */
  getBytes?(fd: number, level: number, name: number, value: Uint8Array): number;
  errno(): number;
}

export { SO_MEMINFO, SK_MEMINFO_VARS } from './meminfo.js';

/**
 * The kernel's drop counter of a socket (sk_drops: receive buffer full, or refused by the socket's
 * filter; the `drops` column of /proc/net/raw6 for this socket) from SO_MEMINFO's `len` bytes, or
 * null when they do not reach it (a kernel before 4.7 gives SK_MEMINFO_DROPS not).
 */
export function meminfoDrops(b: Uint8Array, len: number, le = endianness() === 'LE'): number | null {
  return meminfoWord(b, len, SK_MEMINFO_DROPS, le);
}

/** {@link meminfoDrops} of socket `fd` (one getsockopt), or null when unreadable. */
export function socketDrops(n: NativeSocket6, fd: number): number | null {
  if (n.getBytes === undefined) return null;
  const b = Buffer.alloc(SK_MEMINFO_VARS * 4);
  const len = n.getBytes(fd, SOL_SOCKET, SO_MEMINFO, b);
  return len < 0 ? null : meminfoDrops(b, len);
}

/** struct sockaddr_in6 (family host order, port 0, flowinfo 0, address, scope id). */
export function sockaddrIn6(addr: Uint8Array, scope: number, le = endianness() === 'LE'): Buffer {
  const b = Buffer.alloc(SOCKADDR_IN6_LEN);
  if (le) b.writeUInt16LE(AF_INET6, 0);
  else b.writeUInt16BE(AF_INET6, 0);
  b.set(addr.subarray(0, IPV6_ADDRESS_LEN), 8);
  if (le) b.writeUInt32LE(scope, 24);
  else b.writeUInt32BE(scope, 24);
  return b;
}

/** struct ipv6_mreq { in6_addr ipv6mr_multiaddr; int ipv6mr_interface; } */
export function ipv6Mreq(group: Uint8Array, ifindex: number, le = endianness() === 'LE'): Buffer {
  const b = Buffer.alloc(IPV6_ADDRESS_LEN + 4);
  b.set(group.subarray(0, IPV6_ADDRESS_LEN), 0);
  if (le) b.writeInt32LE(ifindex, 16);
  else b.writeInt32BE(ifindex, 16);
  return b;
}

/**
 * struct sock_fprog for `ret #0`: a filter that drops every packet (keepalived's no-receive send
 * socket). The kernel copies the program in setsockopt: call `free()` right after it.
 */
export function dropAllFilter(koffi: typeof import('koffi'), le: boolean): { prog: Buffer; free: () => void } {
  const insn: unknown = koffi.alloc('uint8_t', 8);
  const ib = Buffer.from(koffi.view(insn, 8));
  ib.fill(0);
  if (le)
    ib.writeUInt16LE(0x06, 0); // BPF_RET | BPF_K, k = 0
  else ib.writeUInt16BE(0x06, 0);
  const prog = Buffer.alloc(16);
  if (le) prog.writeUInt16LE(1, 0);
  else prog.writeUInt16BE(1, 0);
  writePtr(prog, 8, koffi.address(insn), le);
  return { prog, free: () => koffi.free(insn) };
}

function writePtr(b: Buffer, off: number, p: bigint, le: boolean): void {
  if (le) b.writeBigUInt64LE(p, off);
  else b.writeBigUInt64BE(p, off);
}

let cached: NativeSocket6 | null | undefined;

/** The native calls, loaded once; null without koffi or on a platform whose pointers are not 64-bit. */
export function nativeSocket6(): NativeSocket6 | null {
  if (cached !== undefined) return cached;
  const c = libc();
  if (c === null || c.koffi.sizeof('void *') !== 8) return (cached = null);
  cached = build(c.koffi, c.lib, c.errno);
  return cached;
}

// Block layout: msghdr | iovec | sockaddr_in6 (32) | control (CONTROL_LEN) | data
const NAME_OFF = MSGHDR_LEN + IOVEC_LEN;
const CONTROL_OFF = NAME_OFF + 32;
const DATA_OFF = CONTROL_OFF + CONTROL_LEN;

interface Block extends MsgBuffers {
  readonly all: Buffer;
  readonly base: bigint;
}

/** Host-order integer access for the native structures. */
class HostOrder {
  constructor(readonly le: boolean) {}
  u32(b: Buffer, off: number): number {
    return this.le ? b.readUInt32LE(off) : b.readUInt32BE(off);
  }
  u64(b: Buffer, off: number): number {
    return Number(this.le ? b.readBigUInt64LE(off) : b.readBigUInt64BE(off));
  }
  setU32(b: Buffer, off: number, v: number): void {
    if (this.le) b.writeUInt32LE(v >>> 0, off);
    else b.writeUInt32BE(v >>> 0, off);
  }
  setU64(b: Buffer, off: number, v: number | bigint): void {
    writePtr(b, off, BigInt(v), this.le);
  }
  int(v: number): Buffer {
    const b = Buffer.alloc(4);
    if (this.le) b.writeInt32LE(v);
    else b.writeInt32BE(v);
    return b;
  }
}

function allocBlock(koffi: typeof import('koffi'), dataLen: number): Block {
  const total = DATA_OFF + dataLen;
  const ptr: unknown = koffi.alloc('uint8_t', total);
  const all = Buffer.from(koffi.view(ptr, total));
  all.fill(0);
  let freed = false;
  return {
    ptr,
    all,
    base: koffi.address(ptr),
    data: all.subarray(DATA_OFF),
    free: () => {
      if (!freed) koffi.free(ptr);
      freed = true;
    },
  };
}

/** Fill msghdr + iovec for `len` data bytes and `controlLen` control bytes. */
function writeHeader(o: HostOrder, b: Block, len: number, controlLen: number): void {
  const h = b.all;
  h.fill(0, 0, CONTROL_OFF);
  o.setU64(h, 0, b.base + BigInt(NAME_OFF));
  o.setU32(h, 8, SOCKADDR_IN6_LEN);
  o.setU64(h, 16, b.base + BigInt(MSGHDR_LEN));
  o.setU64(h, 24, 1);
  o.setU64(h, 32, controlLen === 0 ? 0n : b.base + BigInt(CONTROL_OFF));
  o.setU64(h, 40, controlLen);
  o.setU64(h, MSGHDR_LEN, b.base + BigInt(DATA_OFF));
  o.setU64(h, MSGHDR_LEN + 8, len);
}

/** msghdr, destination and control messages for one sendmsg of `len` bytes already in `b.data`. */
function prepareSend(o: HostOrder, b: Block, len: number, to: Send6): void {
  const control = b.all.subarray(CONTROL_OFF, CONTROL_OFF + CONTROL_LEN);
  control.fill(0);
  // IPV6_PKTINFO: source address and outgoing interface, as keepalived's vrrp_build_ancillary_data()
  o.setU64(control, 0, CMSGHDR_LEN + PKTINFO_LEN);
  o.setU32(control, 8, IPPROTO_IPV6);
  o.setU32(control, 12, IPV6_PKTINFO);
  control.set(to.src.subarray(0, IPV6_ADDRESS_LEN), CMSGHDR_LEN);
  o.setU32(control, CMSGHDR_LEN + 16, to.ifindex);
  let controlLen = cmsgSpace(PKTINFO_LEN);
  if (to.hopLimit !== undefined) {
    o.setU64(control, controlLen, CMSGHDR_LEN + 4);
    o.setU32(control, controlLen + 8, IPPROTO_IPV6);
    o.setU32(control, controlLen + 12, IPV6_HOPLIMIT);
    o.setU32(control, controlLen + CMSGHDR_LEN, to.hopLimit);
    controlLen += cmsgSpace(4);
  }
  writeHeader(o, b, len, controlLen);
  b.all.set(sockaddrIn6(to.dst, to.dstScope, o.le), NAME_OFF);
}

/** What recvmsg returned `n` bytes into `b`: sender, and the control messages (CMSG_FIRSTHDR / CMSG_NXTHDR). */
function parseReceived(o: HostOrder, b: Block, n: number): Received6 {
  const h = b.all;
  const controlLen = o.u64(h, 40);
  const flags = o.u32(h, 48);
  let dst: string | undefined;
  let ifindex: number | undefined;
  let hopLimit: number | undefined;
  for (let off = 0; off + CMSGHDR_LEN <= controlLen && (flags & MSG_CTRUNC) === 0;) {
    const len = o.u64(h, CONTROL_OFF + off);
    if (len < CMSGHDR_LEN || off + len > controlLen) break;
    const level = o.u32(h, CONTROL_OFF + off + 8);
    const type = o.u32(h, CONTROL_OFF + off + 12);
    const data = CONTROL_OFF + off + CMSGHDR_LEN;
    if (level === IPPROTO_IPV6 && type === IPV6_HOPLIMIT && len - CMSGHDR_LEN === 4) hopLimit = o.u32(h, data);
    if (level === IPPROTO_IPV6 && type === IPV6_PKTINFO && len - CMSGHDR_LEN === PKTINFO_LEN) {
      dst = formatIpv6At(h, data);
      ifindex = o.u32(h, data + 16);
    }
    off += (len + 7) & ~7;
  }
  return {
    bytes: Math.min(n, b.data.length),
    src: formatIpv6At(h, NAME_OFF + 8) ?? '::',
    srcScope: o.u32(h, NAME_OFF + 24),
    dst,
    ifindex,
    hopLimit,
    truncated: (flags & MSG_TRUNC) !== 0,
  };
}

function build(koffi: typeof import('koffi'), lib: import('koffi').LibraryHandle, errno: () => number): NativeSocket6 {
  const o = new HostOrder(endianness() === 'LE');
  const socket = lib.func('int socket(int domain, int type, int protocol)');
  const close = lib.func('int close(int fd)');
  const setsockopt = lib.func('int setsockopt(int fd, int level, int name, const uint8_t *value, uint32_t len)');
  const bind = lib.func('int bind(int fd, const uint8_t *addr, uint32_t len)');
  const sendmsg = lib.func('intptr_t sendmsg(int fd, void *msg, int flags)');
  const recvmsg = lib.func('intptr_t recvmsg(int fd, void *msg, int flags)');
  const getsockopt = lib.func('int getsockopt(int fd, int level, int name, _Out_ uint8_t *val, _Inout_ uint32_t *len)');
  return {
    socket: () => socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 112) as number,
    close: (fd) => close(fd) as number,
    setInt: (fd, level, name, value) => setsockopt(fd, level, name, o.int(value), 4) as number,
    setBytes: (fd, level, name, value) => setsockopt(fd, level, name, value, value.length) as number,
    bind: (fd, addr, scope) => {
      const sa = sockaddrIn6(addr, scope, o.le);
      return bind(fd, sa, sa.length) as number;
    },
    buffers: (dataLen) => allocBlock(koffi, dataLen),
    sendmsg: (fd, mb, len, to) => {
      prepareSend(o, mb as Block, len, to);
      return Number(sendmsg(fd, mb.ptr, to.flags));
    },
    recvmsg: (fd, mb) => {
      writeHeader(o, mb as Block, mb.data.length, CONTROL_LEN);
      const n = Number(recvmsg(fd, mb.ptr, 0));
      return n < 0 ? -1 : parseReceived(o, mb as Block, n);
    },
    getBytes: (fd, level, name, value) => {
      const len = [value.length];
      return (getsockopt(fd, level, name, value, len) as number) < 0 ? -1 : len[0]!;
    },
    errno,
  };
}
