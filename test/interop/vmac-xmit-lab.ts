/**
 * The scenario the `vmac_xmit_base` interop tests run on one pair (not a test file; docs/vmac.md):
 * a has priority 150, b 100, both `use_vmac`, VRID 51. Steps: 1. election (both start); 2. crash
 * (a is killed, SIGKILL: its VIP stays behind); 3. a starts again. After each step, once the
 * holders have settled (at least 4 s, then 1.5 s without a change), the hosts holding the VIP are
 * recorded (the caller compares them with a keepalived pair's), and at the end the VMAC lines of
 * both nodes' SIGUSR1 data dumps (`Use VMAC, i/f name vrrp.51, is_up = true, xmit_base = true`). The VIP is on the holder's
 * vrrp.51; on the wire every advert of a node sending from its parent (`xmit`) leaves from the
 * parent's MAC (of another, from 00:00:5e:00:01:33), and every GARP request for the VIP has
 * 00:00:5e:00:01:33 as Ethernet source and sender MAC.
 */
import { adverts, createPair, finish, garps, type Pair, type T } from './pair.js';
import { type VrrpNode } from '../support/vrrp-harness.js';
import { pollUntil } from '../support/netns.js';
import { settledHolders, VMAC, VMAC_MAC, vipPlaces, vmacDumpLines, type PairKind } from './vmac-lab.js';

export type Host = 'a' | 'b';

export { label, type PairKind } from './vmac-lab.js';

export interface XmitRun {
  readonly prefix: string;
  readonly subnet: string;
  /** The config of host `h` with its priority, the lab's hosts' addresses known. */
  readonly conf: (p: Pair, h: Host, priority: number) => string;
  /** The hosts whose adverts leave from their parent. */
  readonly xmit: readonly Host[];
}

/** One run of the scenario: the settled holders after each step. */
export async function runXmit(t: T, s: XmitRun, k: PairKind): Promise<Record<string, string>> {
  const p = await createPair(t, s.prefix, s.subnet);
  const rec: Record<string, string> = {};
  const step = async (name: string): Promise<void> => {
    rec[name] = await settledHolders(p, 4000, 1500, 15000);
    for (const h of ['a', 'b'] as const) {
      if (!rec[name].split('+').includes(h)) continue;
      t.same(await vipPlaces(p, h), [`${VMAC} ${p.vip}/24`], `${name}: the VIP is on ${h}'s ${VMAC}`);
    }
  };
  const startA = async (): Promise<VrrpNode> => {
    const n = p.start({ impl: k.a, host: 'a', conf: s.conf(p, 'a', 150) });
    await pollUntil(() => /Startup complete/.test(n.log), 15000, `${k.a} on a started`);
    return n;
  };
  const B = p.start({ impl: k.b, host: 'b', conf: s.conf(p, 'b', 100) });
  await pollUntil(() => /Startup complete/.test(B.log), 15000, `${k.b} on b started`);
  let A = await startA();
  await step('1 election');
  await A.proc.kill('SIGKILL', 1000);
  await step('2 a crashed');
  A = await startA();
  await step('3 a back');
  // keepalived's SIGUSR1 data dump: the VMAC lines (`Use VMAC, ... xmit_base = true`), compared too.
  for (const [h, n] of [
    ['a', A],
    ['b', B],
  ] as const)
    rec[`dump ${h}`] = (await vmacDumpLines(n)).join(' | ');
  for (const n of [A, B]) await n.stop(3000);
  t.comment(`b (${k.b}):\n${B.log.trim()}`);
  await finish(p);
  for (const h of ['a', 'b'] as const) {
    const ip = p.lab.host(h).ip;
    const mine = adverts(p.frames).filter((x) => x.src === ip && x.vrid === 51);
    const mac = s.xmit.includes(h) ? p.lab.host(h).mac : VMAC_MAC;
    t.ok(mine.length >= 3, `${h} sent adverts (${mine.length})`);
    t.same([...new Set(mine.map((x) => x.srcMac))], [mac], `every advert from ${h} has Ethernet source ${mac}`);
  }
  // Requests only: a kernel's unicast ARP reply during a takeover is not a GARP (vmac.test.ts).
  const g = garps(p.frames).filter((x) => x.ip === p.vip && x.op === 1);
  t.ok(g.length >= 10, `GARP requests for the VIP (${g.length}: one burst per takeover)`);
  t.same(
    [...new Set(g.map((x) => `${x.srcMac} sender ${x.senderMac}`))],
    [`${VMAC_MAC} sender ${VMAC_MAC}`],
    `every GARP request for the VIP is from ${VMAC_MAC}, sender MAC ${VMAC_MAC}`,
  );
  return rec;
}
