/**
 * The few libc calls io/ makes through koffi, loaded lazily on first use (so importing io/ needs
 * neither root nor the native module to load). Every function returns the raw C result; callers
 * read `errno()` immediately after a -1, before any other FFI call can overwrite it.
 */
import { libc } from '../util/libc.js';

export interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  close(fd: number): number;
  /** sendto(fd, buf, len, flags, sockaddr, addrlen) */
  sendto(fd: number, buf: Uint8Array, len: number, flags: number, addr: Uint8Array, addrlen: number): number;
  setsockopt(fd: number, level: number, name: number, value: Uint8Array, len: number): number;
  if_nametoindex(name: string): number;
  /** errno of the last failed call on this thread. */
  errno(): number;
}

let cached: Libc | undefined;

export function loadLibc(): Libc {
  if (cached) return cached;
  const c = libc();
  if (c === null) throw new Error('koffi cannot load libc.so.6');
  const { lib } = c;
  // Buffers are passed as `uint8_t *` (koffi pins them for the call); sockaddr as raw bytes too.
  const socket = lib.func('int socket(int domain, int type, int protocol)');
  const close = lib.func('int close(int fd)');
  const sendto = lib.func('intptr_t sendto(int fd, const uint8_t *buf, size_t len, int flags, const uint8_t *addr, uint32_t addrlen)');
  const setsockopt = lib.func('int setsockopt(int fd, int level, int name, const uint8_t *value, uint32_t len)');
  const ifNameToIndex = lib.func('unsigned int if_nametoindex(const char *name)');
  cached = {
    socket: (d, t, p) => socket(d, t, p) as number,
    close: (fd) => close(fd) as number,
    sendto: (fd, buf, len, flags, addr, addrlen) => Number(sendto(fd, buf, len, flags, addr, addrlen)),
    setsockopt: (fd, level, name, value, len) => setsockopt(fd, level, name, value, len) as number,
    if_nametoindex: (name) => ifNameToIndex(name) as number,
    errno: c.errno,
  };
  return cached;
}
