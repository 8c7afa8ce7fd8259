/**
 * Raw Ethernet frames out of an interface on an AF_PACKET socket, through koffi -> libc
 * (socket, sendto with a sockaddr_ll, close). Used for gratuitous ARP (docs/keepalived-behaviour.md 3.7): the
 * frames come from `buildGratuitousArp(srcMac, ip)` in src/protocol/arp-frame.ts.
 *
 * The socket is `socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)`: protocol 0 means
 * it receives nothing (no queue to drain), and non-blocking means a full device queue returns
 * EAGAIN instead of stalling the event loop. sendto() is synchronous and takes microseconds, which
 * keeps VIP-to-first-GARP latency at the cost of a function call. One socket serves every
 * interface: the destination interface is in the sockaddr_ll of each send.
 *
 * The socket belongs to the network namespace of the thread that opened it (open() it where the
 * interfaces are). Nothing is opened at import or construction.
 */
import { endianness } from 'node:os';
import { errnoIoError, fail, ok, toIoError, type IoResult } from './io-error.js';
import { loadLibc, type Libc } from './libc.js';

const AF_PACKET = 17;
const SOCK_RAW = 3;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const SOCKADDR_LL_LEN = 20;

/**
 * struct sockaddr_ll { u16 sll_family; be16 sll_protocol; int sll_ifindex; u16 sll_hatype;
 * u8 sll_pkttype; u8 sll_halen; u8 sll_addr[8]; }. With SOCK_RAW the frame already carries the
 * Ethernet header; the kernel uses only family, ifindex (and protocol for taps).
 */
export function sockaddrLl(ifindex: number, etherType: number, dstMac: Uint8Array): Buffer {
  const b = Buffer.alloc(SOCKADDR_LL_LEN);
  const le = endianness() === 'LE';
  if (le) b.writeUInt16LE(AF_PACKET, 0);
  else b.writeUInt16BE(AF_PACKET, 0);
  b.writeUInt16BE(etherType, 2);
  if (le) b.writeInt32LE(ifindex, 4);
  else b.writeInt32BE(ifindex, 4);
  b[11] = 6;
  b.set(dstMac.subarray(0, 6), 12);
  return b;
}

export class PacketSocket {
  #fd = -1;
  #libc: Libc | undefined;
  #sent = 0;
  #errors = 0;

  get isOpen(): boolean {
    return this.#fd >= 0;
  }

  get counters(): { sent: number; errors: number } {
    return { sent: this.#sent, errors: this.#errors };
  }

  /** Open the socket in the calling thread's network namespace. Idempotent. EPERM when not root. */
  open(): IoResult<true> {
    if (this.#fd >= 0) return ok(true);
    let libc: Libc;
    try {
      libc = loadLibc();
    } catch (err) {
      return fail(toIoError('dlopen(libc)', err));
    }
    this.#libc = libc;
    const fd = libc.socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return fail(errnoIoError('socket(AF_PACKET, SOCK_RAW)', libc.errno()));
    this.#fd = fd;
    return ok(true);
  }

  /**
   * Send one complete Ethernet frame (>= 14 bytes, header included) out of `ifindex`. Opens the
   * socket on first use. Errors as values: ENXIO/ENODEV (no such interface), ENETDOWN (link
   * down), EAGAIN (device queue full), EMSGSIZE.
   */
  send(ifindex: number, frame: Uint8Array, ifname?: string): IoResult<number> {
    if (frame.length < 14) {
      this.#errors++;
      return fail({
        kind: 'IoError',
        syscall: 'sendto(AF_PACKET)',
        errno: 22,
        code: 'EINVAL',
        message: 'frame shorter than an Ethernet header',
        ifname,
      });
    }
    const o = this.open();
    if (!o.ok) {
      this.#errors++;
      return fail({ ...o.error, ifname });
    }
    const libc = this.#libc!;
    const etherType = (frame[12]! << 8) | frame[13]!;
    const addr = sockaddrLl(ifindex, etherType, frame.subarray(0, 6));
    const n = libc.sendto(this.#fd, frame, frame.length, 0, addr, addr.length);
    if (n < 0) {
      this.#errors++;
      return fail(errnoIoError('sendto(AF_PACKET)', libc.errno(), ifname));
    }
    this.#sent++;
    return ok(n);
  }

  close(): void {
    if (this.#fd >= 0 && this.#libc) this.#libc.close(this.#fd);
    this.#fd = -1;
  }
}

/** ifindex of `ifname` in the calling thread's namespace, or an ENODEV IoError. */
export function ifNameToIndex(ifname: string): IoResult<number> {
  try {
    const i = loadLibc().if_nametoindex(ifname);
    return i ? ok(i) : fail({ kind: 'IoError', syscall: 'if_nametoindex', errno: 19, code: 'ENODEV', message: 'No such device', ifname });
  } catch (err) {
    return fail(toIoError('if_nametoindex', err, ifname));
  }
}
