/**
 * The capabilities VRRP needs, read from the kernel (/proc/self/status `CapEff`): CAP_NET_RAW for
 * the raw VRRP and ARP sockets, CAP_NET_ADMIN for the addresses, routes and socket options. Without
 * them the daemon would start, fail to open its sockets and sit in FAULT; `vrrpd run` stops at once
 * instead, naming what is missing and how the unit grants it.
 */
import { readFileSync } from 'node:fs';

export const CAP_NET_ADMIN = 12;
export const CAP_NET_RAW = 13;

const NEEDED: readonly [number, string][] = [
  [CAP_NET_RAW, 'CAP_NET_RAW'],
  [CAP_NET_ADMIN, 'CAP_NET_ADMIN'],
];

/** The names of the needed capabilities missing from a /proc/PID/status text; null when it cannot be read. */
export function missingCapabilities(status: string): string[] | null {
  const m = /^CapEff:\s*([0-9a-fA-F]+)\s*$/m.exec(status);
  if (m === null) return null;
  const eff = BigInt(`0x${m[1]!}`);
  return NEEDED.filter(([bit]) => (eff & (1n << BigInt(bit))) === 0n).map(([, name]) => name);
}

/** This process's missing capabilities (empty when all are there, or when the kernel does not say). */
export function ownMissingCapabilities(): string[] {
  let text: string;
  try {
    text = readFileSync('/proc/self/status', 'utf8');
  } catch {
    return [];
  }
  return missingCapabilities(text) ?? [];
}
