/**
 * Internet checksum (RFC 1071), as used by the IPv4 header and the VRRPv2 message
 * (RFC 3768 5.3.8: "the 16-bit one's complement of the one's complement sum of the entire
 * VRRP message starting with the version field"). Pure: no I/O.
 */

/**
 * One's complement sum of `data[start, end)` as 16-bit big-endian words (an odd trailing byte is
 * padded with a zero octet), folded to 16 bits. `initial` lets callers chain ranges.
 */
export function onesComplementSum(data: Uint8Array, start = 0, end = data.length, initial = 0): number {
  let sum = initial;
  let i = start;
  // 32-bit accumulator can't overflow here: even 64 KiB of 0xffff words stays below 2^32.
  for (; i + 1 < end; i += 2) sum += ((data[i] ?? 0) << 8) | (data[i + 1] ?? 0);
  if (i < end) sum += (data[i] ?? 0) << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/**
 * The value to store in a checksum field: the one's complement of the sum over the range
 * (computed with the checksum field itself zeroed by the caller).
 */
export function internetChecksum(data: Uint8Array, start = 0, end = data.length): number {
  return ~onesComplementSum(data, start, end) & 0xffff;
}

/** True when the range, checksum field included, sums to 0xffff (RFC 1071 "verify" step). */
export function checksumIsValid(data: Uint8Array, start = 0, end = data.length): boolean {
  return onesComplementSum(data, start, end) === 0xffff;
}
