/**
 * SO_MEMINFO (<asm-generic/socket.h>): a socket's u32 memory counters, read with one getsockopt. The
 * IPv4 transport reads it after each packet (bytes still queued, the kernel's drops); the IPv6
 * transport reads the drops for status. One reader of the array for both.
 */
import { endianness } from 'node:os';

export const SO_MEMINFO = 55;
/** <linux/sock_diag.h>: indexes of the u32 array, and its length. */
export const SK_MEMINFO_RMEM_ALLOC = 0;
export const SK_MEMINFO_DROPS = 8;
export const SK_MEMINFO_VARS = 9;

const LITTLE_ENDIAN = endianness() === 'LE';

/**
 * Word `index` of SO_MEMINFO's array in `b`, of which the kernel wrote `len` bytes; null when they
 * do not reach it (a kernel before 4.7 has no SK_MEMINFO_DROPS). No allocation: the IPv4 receive
 * path calls it for every packet.
 */
export function meminfoWord(b: Uint8Array, len: number, index: number, le = LITTLE_ENDIAN): number | null {
  const at = index * 4;
  if (len < at + 4 || b.length < at + 4) return null;
  const lo = le ? at : at + 3; // the least significant byte, then towards the most
  const d = le ? 1 : -1;
  return b[lo]! + b[lo + d]! * 0x100 + b[lo + 2 * d]! * 0x10000 + b[lo + 3 * d]! * 0x1000000;
}
