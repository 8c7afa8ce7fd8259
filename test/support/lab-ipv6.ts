/**
 * IPv6 in a `Lab` host: the lab disables IPv6 everywhere (quiet captures), the IPv6 io tests turn it
 * back on for one host's eth0 without duplicate address detection (the link-local address is usable
 * at once and no DAD probes appear in captures), and wait for the link-local address.
 */
import type { Lab } from './netns.js';

/** Enable IPv6 on `host`'s eth0 (no DAD) and resolve with its link-local address (bounded: `timeoutMs`). */
export async function enableIpv6(lab: Lab, host: string, timeoutMs = 5000): Promise<string> {
  await lab.exec(host, [
    'sysctl',
    '-qw',
    'net.ipv6.conf.all.accept_dad=0',
    'net.ipv6.conf.default.accept_dad=0',
    'net.ipv6.conf.eth0.accept_dad=0',
    'net.ipv6.conf.all.disable_ipv6=0',
    'net.ipv6.conf.default.disable_ipv6=0',
    'net.ipv6.conf.eth0.disable_ipv6=0',
  ]);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ll = await linkLocal(lab, host);
    if (ll !== undefined) return ll;
    if (Date.now() >= deadline) throw new Error(`no IPv6 link-local address on ${host} eth0 after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** `host`'s eth0 link-local address (not tentative), or undefined. */
export async function linkLocal(lab: Lab, host: string): Promise<string | undefined> {
  const out = (await lab.exec(host, ['ip', '-6', '-j', 'addr', 'show', 'dev', 'eth0', 'scope', 'link'])).stdout;
  const links = JSON.parse(out || '[]') as Array<{ addr_info?: Array<{ local: string; tentative?: boolean }> }>;
  return links.flatMap((l) => l.addr_info ?? []).find((a) => a.tentative !== true)?.local;
}
