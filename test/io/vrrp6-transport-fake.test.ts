/**
 * Vrrp6Transport's own logic on a fake libc (no root): the order and failure of socket options,
 * the receive loop (bounded bursts, EAGAIN, a failing socket), the send checks. The readiness still
 * comes from libuv, on a pipe standing in for each socket. The kernel's drop counter (SO_MEMINFO)
 * parsed, and read for status from the receive socket only.
 */
import t from 'tap';
import { createRequire } from 'node:module';
import { Vrrp6Transport, VRRP6_RX_BURST_MAX } from '../../src/io/vrrp6-transport.js';
import { endianness } from 'node:os';
import {
  SK_MEMINFO_VARS,
  meminfoDrops,
  type MsgBuffers,
  type NativeSocket6,
  type Received6,
  type Send6,
} from '../../src/io/socket6-native.js';
import type { ReceivedPacket6 } from '../../src/runtime/ports/packets.js';

const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
const libc = koffi.load('libc.so.6');
const pipe2 = libc.func('int pipe2(_Out_ int *fds, int flags)') as (fds: number[], flags: number) => number;
const write = libc.func('intptr_t write(int fd, const uint8_t *buf, size_t len)') as (fd: number, b: Buffer, n: number) => number;
const read = libc.func('intptr_t read(int fd, _Out_ uint8_t *buf, size_t len)') as (fd: number, b: Buffer, n: number) => number;
const close = libc.func('int close(int fd)') as (fd: number) => number;

/** A fake libc: each socket is a pipe; one byte written to it is one datagram; calls are recorded. */
class FakeNative implements NativeSocket6 {
  readonly calls: string[] = [];
  readonly writers = new Map<number, number>();
  failOn: string | undefined;
  recvErrno: number | undefined;
  #errno = 0;
  sent: Send6[] = [];

  socket(): number {
    const fds = [0, 0];
    pipe2(fds, 0o4000);
    this.writers.set(fds[0]!, fds[1]!);
    this.calls.push(`socket=${fds[0]}`);
    return fds[0]!;
  }
  close(fd: number): number {
    this.calls.push(`close(${fd})`);
    const w = this.writers.get(fd);
    if (w !== undefined) close(w);
    this.writers.delete(fd);
    return close(fd);
  }
  #opt(what: string): number {
    this.calls.push(what);
    if (this.failOn !== undefined && what.startsWith(this.failOn)) {
      this.#errno = 1; // EPERM
      return -1;
    }
    return 0;
  }
  setInt(_fd: number, level: number, name: number, value: number): number {
    return this.#opt(`opt ${level}/${name}=${value}`);
  }
  setBytes(_fd: number, level: number, name: number): number {
    return this.#opt(`opt ${level}/${name}`);
  }
  bind(): number {
    return this.#opt('bind');
  }
  buffers(dataLen: number): MsgBuffers {
    return { data: Buffer.alloc(dataLen), ptr: null, free: () => {} };
  }
  sendmsg(_fd: number, _b: MsgBuffers, len: number, to: Send6): number {
    this.sent.push(to);
    return len;
  }
  recvmsg(fd: number, b: MsgBuffers): Received6 | -1 {
    if (this.recvErrno !== undefined) {
      this.#errno = this.recvErrno;
      return -1;
    }
    const one = Buffer.alloc(1);
    if (Number(read(fd, one, 1)) !== 1) {
      this.#errno = 11; // EAGAIN
      return -1;
    }
    b.data[0] = one[0]!;
    return { bytes: 1, src: 'fe80::1', srcScope: 2, dst: 'ff02::12', ifindex: 2, hopLimit: 255, truncated: false };
  }
  errno(): number {
    return this.#errno;
  }
  /** Queue `n` datagrams on the receive socket `fd`. */
  push(fd: number, n: number): void {
    write(this.writers.get(fd)!, Buffer.alloc(n, 7), n);
  }
}

const spec = { ifname: 'eth0', ifindex: 2 };

t.test('a failing option closes both sockets and names the call', async (t) => {
  for (const failOn of ['bind', 'opt 41/67=192']) {
    const fake = new FakeNative();
    fake.failOn = failOn;
    const tr = new Vrrp6Transport({ native: fake });
    const r = tr.open(spec);
    t.match(r, { ok: false, error: { kind: 'IoError', errno: 1, ifname: 'eth0' } }, failOn);
    if (!r.ok) t.equal(r.error.syscall, failOn === 'bind' ? 'bind' : 'setsockopt(IPV6_TCLASS)');
    const opened = fake.calls.filter((c) => c.startsWith('socket=')).map((c) => Number(c.slice(7)));
    for (const fd of opened) t.ok(fake.calls.includes(`close(${fd})`), `fd ${fd} closed`);
    t.same(tr.channels(), []);
  }
});

t.test('receive: bursts are bounded, everything arrives, EAGAIN ends a burst', async (t) => {
  const fake = new FakeNative();
  const got: ReceivedPacket6[] = [];
  const turns: number[] = [];
  let inTurn = 0;
  const tr = new Vrrp6Transport({
    native: fake,
    onPacket: (p) => {
      got.push(p);
      // count deliveries per readiness callback: a new turn starts after the loop yields
      if (inTurn === 0) setImmediate(() => (turns.push(inTurn), (inTurn = 0)));
      inTurn++;
    },
  });
  t.teardown(() => tr.closeAll());
  const r = tr.open(spec);
  t.ok(r.ok);
  const rxFd = Number(fake.calls.find((c) => c.startsWith('socket='))!.slice(7));
  const n = VRRP6_RX_BURST_MAX * 2 + 5;
  fake.push(rxFd, n);
  const deadline = Date.now() + 2000;
  while (got.length < n && Date.now() < deadline) await new Promise((res) => setTimeout(res, 5));
  await new Promise((res) => setTimeout(res, 20));
  t.equal(got.length, n, 'every datagram delivered');
  t.ok(Math.max(...turns) <= VRRP6_RX_BURST_MAX, `at most VRRP6_RX_BURST_MAX per turn (${turns.join(', ')})`);
  t.match(got[0], { family: 6, src: 'fe80::1', dst: 'ff02::12', hopLimit: 255, ifindex: 2, ifname: 'eth0' });
  t.equal(tr.channels()[0]?.rxPackets, n);
});

t.test('a receive error other than EAGAIN closes the channel and is reported', async (t) => {
  const fake = new FakeNative();
  const errors: Array<[string, string | undefined]> = [];
  const tr = new Vrrp6Transport({ native: fake, onSocketError: (key, e) => errors.push([key, e.code]) });
  t.teardown(() => tr.closeAll());
  const r = tr.open(spec);
  if (!r.ok) return t.fail('open');
  const rxFd = Number(fake.calls.find((c) => c.startsWith('socket='))!.slice(7));
  fake.recvErrno = 9;
  fake.push(rxFd, 1);
  const deadline = Date.now() + 2000;
  while (errors.length === 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 5));
  t.same(errors, [[r.value.key, 'EBADF']]);
  t.same(tr.channels(), [], 'closed');
  t.match(tr.send(r.value.key, Buffer.alloc(24), { src: 'fe80::2', dst: 'ff02::12' }), { ok: false, error: { code: 'EBADF' } });
});

t.test('send: destination scope, flags and hop limit as keepalived', async (t) => {
  const fake = new FakeNative();
  const tr = new Vrrp6Transport({ native: fake });
  t.teardown(() => tr.closeAll());
  const r = tr.open(spec);
  if (!r.ok) return t.fail('open');
  t.ok(tr.send(r.value.key, Buffer.alloc(24), { src: 'fe80::2', dst: 'ff02::12' }).ok);
  t.ok(tr.send(r.value.key, Buffer.alloc(24), { src: 'fd00::2', dst: 'fd00::3', hopLimit: 7 }).ok);
  t.ok(tr.send(r.value.key, Buffer.alloc(24), { src: 'fe80::2', dst: 'fe80::3' }).ok);
  t.match(fake.sent, [
    { dstScope: 2, ifindex: 2, hopLimit: undefined, flags: 4 },
    { dstScope: 0, ifindex: 2, hopLimit: 7, flags: 0 },
    { dstScope: 2, ifindex: 2, flags: 0 },
  ]);
  t.match(tr.send(r.value.key, Buffer.alloc(24), { src: 'fd00::2', dst: 'fd00::3', hopLimit: 256 }), {
    ok: false,
    error: { code: 'EINVAL' },
  });
  t.match(tr.send(r.value.key, Buffer.alloc(24), { src: 'nope', dst: 'fd00::3' }), { ok: false, error: { code: 'EINVAL' } });
  t.equal(tr.channels()[0]?.txPackets, 3);
});

t.test("the kernel's drops: SO_MEMINFO's SK_MEMINFO_DROPS, parsed, and read per receive socket for status", async (t) => {
  const mi = (drops: number, le: boolean): Buffer => {
    const b = Buffer.alloc(SK_MEMINFO_VARS * 4, 0xff);
    if (le) b.writeUInt32LE(drops, 32);
    else b.writeUInt32BE(drops, 32);
    return b;
  };
  t.equal(meminfoDrops(mi(1234, true), 36, true), 1234, 'little-endian');
  t.equal(meminfoDrops(mi(1234, false), 36, false), 1234, 'big-endian');
  t.equal(meminfoDrops(mi(0xfffffffe, true), 36, true), 0xfffffffe, 'a u32');
  t.equal(meminfoDrops(mi(7, true), 32, true), null, 'a kernel that gives fewer counters: unreadable');
  t.equal(meminfoDrops(Buffer.alloc(8), 8, true), null, 'a short buffer: unreadable');

  const fake = new FakeNative();
  const asked: string[] = [];
  const drops = new Map<number, number>();
  (fake as NativeSocket6).getBytes = (fd, level, name, value) => {
    asked.push(`${fd} ${level}/${name}`);
    const b = mi(drops.get(fd) ?? 0, endianness() === 'LE');
    b.copy(Buffer.from(value.buffer, value.byteOffset, value.length));
    return b.length;
  };
  const tr = new Vrrp6Transport({ native: fake });
  t.teardown(() => tr.closeAll());
  t.same(tr.stats(), [], 'no channel: nothing read');
  const r = tr.open(spec);
  if (!r.ok) return t.fail('open');
  const rxFd = Number(fake.calls.find((c) => c.startsWith('socket='))!.slice(7));
  drops.set(rxFd, 42);
  t.same(tr.stats(), [{ family: 6, ifname: 'eth0', channel: 'ff02::12', rxPackets: 0, kernelDrops: 42 }], "the receive socket's drops");
  t.same(asked, [`${rxFd} 1/55`], 'one getsockopt(SOL_SOCKET, SO_MEMINFO) on the receive socket only');
  (fake as NativeSocket6).getBytes = () => -1;
  t.equal(tr.stats()[0]?.kernelDrops, null, 'a failing getsockopt: null');
});
