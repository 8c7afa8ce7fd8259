/**
 * What the `use_vmac` interop tests look at on a lab host (not a test file): the VMAC as
 * `ip -d link` shows it, where the VIP is, and which MACs answer a client's ARP request for it
 * (docs/vmac.md).
 */
import { existsSync, readFileSync } from 'node:fs';
import { VRRPD_IMPL, type Pair } from './pair.js';
import { sleep, wallNowMs, type Impl, type VrrpNode } from '../support/vrrp-harness.js';
import { pollUntil } from '../support/netns.js';

/** Which daemon runs on a (priority 150) and on b (priority 100). */
export interface PairKind {
  readonly a: Impl;
  readonly b: Impl;
}

export const label = (k: PairKind): string => `a ${k.a} (150), b ${k.b} (100)`;

/** The keepalived pair (the reference) first, then the vrrpd pair and both mixed pairs. */
export const PAIR_KINDS: readonly PairKind[] = [
  { a: 'keepalived', b: 'keepalived' },
  { a: VRRPD_IMPL, b: VRRPD_IMPL },
  { a: VRRPD_IMPL, b: 'keepalived' },
  { a: 'keepalived', b: VRRPD_IMPL },
];

/**
 * Start b, then a (priorities 100 and 150, each with `conf(h, priority)`), a once b is started;
 * returns when a's daemon is up, so the settling starts then (node's start-up time varies with the
 * load). `startA` starts a again the same way.
 */
export async function startVmacPair(
  p: Pair,
  k: PairKind,
  conf: (h: 'a' | 'b', priority: number) => string,
): Promise<{ A: VrrpNode; B: VrrpNode; startA: () => Promise<VrrpNode> }> {
  const startA = async (): Promise<VrrpNode> => {
    const n = p.start({ impl: k.a, host: 'a', conf: conf('a', 150) });
    await pollUntil(() => /Startup complete/.test(n.log), 15000, `${k.a} on a started`);
    return n;
  };
  const B = p.start({ impl: k.b, host: 'b', conf: conf('b', 100) });
  const A = await startA();
  return { A, B, startA };
}

export const VMAC = 'vrrp.51';
export const VMAC_MAC = '00:00:5e:00:01:33';

export interface VmacView {
  kind: string | undefined;
  mode: string | undefined;
  mac: string | undefined;
  up: boolean;
  addrGenMode: string | undefined;
  parent: string | undefined;
}

/** The VMAC on host `h` (null: no such link). */
export async function vmacOf(p: Pair, h: string, name = VMAC): Promise<VmacView | null> {
  const r = await p.lab.exec(h, ['ip', '-d', '-j', 'link', 'show', 'dev', name], { allowFail: true });
  if (r.code !== 0) return null;
  const l = (JSON.parse(r.stdout) as Array<Record<string, unknown>>)[0]!;
  const info = l.linkinfo as { info_kind?: string; info_data?: { mode?: string } } | undefined;
  return {
    kind: info?.info_kind,
    mode: info?.info_data?.mode,
    mac: l.address as string | undefined,
    up: (l.flags as string[]).includes('UP'),
    addrGenMode: l.inet6_addr_gen_mode as string | undefined,
    parent: l.link as string | undefined,
  };
}

/** What keepalived 2.2.7 makes for VRID 51 on eth0. */
export const KEEPALIVED_VMAC: VmacView = { kind: 'macvlan', mode: 'private', mac: VMAC_MAC, up: true, addrGenMode: 'none', parent: 'eth0' };

/** The VIP's address lines on `h` as `dev address/prefix`. */
export async function vipPlaces(p: Pair, h: string): Promise<string[]> {
  const r = await p.lab.exec(h, ['ip', '-j', '-4', 'addr', 'show']);
  const links = JSON.parse(r.stdout) as Array<{ ifname: string; addr_info: Array<{ local: string; prefixlen: number }> }>;
  return links.flatMap((l) => l.addr_info.filter((a) => a.local === p.vip).map((a) => `${l.ifname} ${a.local}/${a.prefixlen}`));
}

/** The MACs answering the client's ARP request for the VIP (Thomas Habets' arping from c, raw output). */
export async function arpAnswer(p: Pair): Promise<string[]> {
  const r = await p.lab.exec('c', ['arping', '-r', '-c', '2', '-w', '3', '-i', 'eth0', p.vip], { allowFail: true });
  return [
    ...new Set(
      r.stdout
        .split('\n')
        .filter((l) => /^[0-9a-f:]{17}$/i.test(l.trim()))
        .map((l) => l.trim().toLowerCase()),
    ),
  ];
}

/** Hosts holding the VIP now, by the address monitors (the kernel's view). */
export function holders(p: Pair): string {
  const on = (['a', 'b'] as const).filter((h) => {
    const ev = p.mon[h].eventsFor(p.vip);
    return ev.length > 0 && ev[ev.length - 1]!.op === 'add';
  });
  return on.length === 0 ? 'nobody' : on.join('+');
}

/** The holders once settled: at least `minMs` after the step, then `stableMs` without a change. */
export async function settledHolders(p: Pair, minMs = 4000, stableMs = 2000, maxMs = 20000): Promise<string> {
  const t0 = wallNowMs();
  let last = holders(p);
  let since = t0;
  for (;;) {
    await sleep(50);
    const h = holders(p);
    const now = wallNowMs();
    if (h !== last) [last, since] = [h, now];
    if ((now - t0 >= minMs && now - since >= stableMs) || now - t0 > maxMs) return last;
  }
}

/**
 * The VMAC lines of a daemon's SIGUSR1 data dump (its private /tmp/keepalived.data): keepalived's
 * `Use VMAC, i/f name ...` and `Interface = ...` lines, and the VIP lines without the state's `set`.
 */
export async function vmacDumpLines(n: VrrpNode): Promise<string[]> {
  const path = n.realPath('/tmp/keepalived.data');
  const read = (): string => (existsSync(path) ? readFileSync(path, 'utf8') : '');
  const before = read();
  process.kill(n.proc.pid!, 'SIGUSR1');
  await pollUntil(() => read() !== before && read().includes('------< VRRP Topology >------'), 3000, `${n.impl} keepalived.data`);
  await sleep(100);
  const topology = read().split('------< VRRP Topology >------')[1]?.split('\n------<')[0] ?? '';
  return topology
    .split('\n')
    .filter((l) => /^ {3}(Use VMAC|Interface = )/.test(l) || /^ {5}\d+\.\d+\.\d+\.\d+\S* dev /.test(l))
    .map((l) => l.replace(/ set$/, ''));
}
