/**
 * The two libc calls the control plane needs that node does not offer, through koffi (already a
 * dependency; no C toolchain at run time): SO_PEERCRED on an accepted Unix socket (who is asking),
 * and a datagram to an AF_UNIX socket (sd_notify). Loaded lazily; every function returns a value
 * (null / false / errno) instead of throwing, so a missing koffi only costs the feature.
 */
import { libc } from '../util/libc.js';

const AF_UNIX = 1;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_PEERCRED = 17;

interface Native {
  getsockopt(fd: number, level: number, name: number, val: Uint8Array, len: number[]): number;
  socket(domain: number, type: number, protocol: number): number;
  sendto(fd: number, buf: Uint8Array, len: number, flags: number, addr: Uint8Array, addrlen: number): number;
  close(fd: number): number;
  errno(): number;
}

let native: Native | null | undefined;

function load(): Native | null {
  if (native !== undefined) return native;
  const c = libc();
  if (c === null) return (native = null);
  const { lib } = c;
  try {
    const getsockopt = lib.func('int getsockopt(int fd, int level, int name, _Out_ uint8_t *val, _Inout_ uint32_t *len)');
    const socket = lib.func('int socket(int domain, int type, int protocol)');
    const sendto = lib.func('intptr_t sendto(int fd, const uint8_t *buf, size_t len, int flags, const uint8_t *addr, uint32_t addrlen)');
    const close = lib.func('int close(int fd)');
    native = {
      getsockopt: (fd, level, name, val, len) => getsockopt(fd, level, name, val, len) as number,
      socket: (d, t, p) => socket(d, t, p) as number,
      sendto: (fd, buf, len, flags, addr, addrlen) => Number(sendto(fd, buf, len, flags, addr, addrlen)),
      close: (fd) => close(fd) as number,
      errno: c.errno,
    };
  } catch {
    native = null;
  }
  return native;
}

export interface PeerCred {
  readonly pid: number;
  readonly uid: number;
  readonly gid: number;
}

/** SO_PEERCRED of a connected Unix stream socket's fd, or null when it cannot be read. */
export function peerCred(fd: number): PeerCred | null {
  const n = load();
  if (n === null || !Number.isInteger(fd) || fd < 0) return null;
  const buf = new Uint8Array(12); // struct ucred { pid_t pid; uid_t uid; gid_t gid; }
  const len = [12];
  if (n.getsockopt(fd, SOL_SOCKET, SO_PEERCRED, buf, len) !== 0) return null;
  const v = new DataView(buf.buffer);
  return { pid: v.getInt32(0, true), uid: v.getUint32(4, true), gid: v.getUint32(8, true) };
}

/** `struct sockaddr_un` for a path; a leading '@' is the abstract namespace (NUL byte). */
export function sockaddrUn(path: string): Uint8Array | null {
  const p = Buffer.from(path, 'utf8');
  if (p.length === 0 || p.length > 107) return null;
  const out = new Uint8Array(2 + p.length + (path.startsWith('@') ? 0 : 1));
  new DataView(out.buffer).setUint16(0, AF_UNIX, true);
  out.set(p, 2);
  if (path.startsWith('@')) out[2] = 0;
  return out;
}

/** A connectionless AF_UNIX datagram sender (one fd, reused). */
export class UnixDatagramSender {
  #fd = -1;

  /** Send one datagram; returns 0 or an errno (-1 when koffi is unavailable). */
  send(path: string, data: Uint8Array): number {
    const n = load();
    if (n === null) return -1;
    const addr = sockaddrUn(path);
    if (addr === null) return 36; // ENAMETOOLONG
    if (this.#fd < 0) {
      this.#fd = n.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      if (this.#fd < 0) return n.errno();
    }
    const r = n.sendto(this.#fd, data, data.length, 0, addr, addr.length);
    return r < 0 ? n.errno() : 0;
  }

  close(): void {
    if (this.#fd >= 0) load()?.close(this.#fd);
    this.#fd = -1;
  }
}
