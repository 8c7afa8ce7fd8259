/**
 * `use_vmac` with `vmac_xmit_base` (docs/vmac.md), differential: the same scenario run by a
 * keepalived 2.2.7 pair (the reference) and by pairs with vrrpd on one side, each in its own lab.
 * a has priority 150, b 100, both `use_vmac`, multicast VRRPv2, VRID 51; two configurations:
 *  - both: a and b with `vmac_xmit_base` (keepalived pair, vrrpd a, vrrpd b);
 *  - b only: b with `vmac_xmit_base`, a without (keepalived pair, vrrpd b). a's adverts leave from
 *    the virtual MAC, which is also b's VMAC's: in private mode b's macvlan driver hands them to
 *    b's VMAC only, and b, listening on its parent, never hears a.
 * Steps: 1. election (both start); 2. crash (a is killed, SIGKILL: its VIP stays behind);
 * 3. a starts again. After each step, once the holders have settled (at least 4 s, then 1.5 s
 * without a change), the hosts holding the VIP are recorded; every pair must record keepalived's.
 * The VIP is on the holder's vrrp.51; on the wire every advert of a node with `vmac_xmit_base`
 * leaves from its parent's MAC (of one without, from 00:00:5e:00:01:33), and every GARP request for
 * the VIP has 00:00:5e:00:01:33 as Ethernet source and sender MAC. Root; lab vk-vmx-,
 * 10.239.92.0/24, one lab at a time. About 2 minutes.
 */
import t from 'tap';
import { VRRPD_IMPL, adverts, assertLabGone, createPair, finish, garps, interopSkip, type Pair, type T } from './pair.js';
import { keepalivedConf, sleep, wallNowMs, type Impl, type VrrpNode } from '../support/vrrp-harness.js';
import { pollUntil } from '../support/netns.js';
import { VMAC, VMAC_MAC, vipPlaces } from './vmac-lab.js';

const PREFIX = 'vk-vmx-';
const SUBNET = '10.239.92';

type Host = 'a' | 'b';

interface Setup {
  readonly name: string;
  /** The hosts whose config has `vmac_xmit_base`. */
  readonly xmit: readonly Host[];
}

const BOTH: Setup = { name: 'both with vmac_xmit_base', xmit: ['a', 'b'] };
const B_ONLY: Setup = { name: 'b only with vmac_xmit_base', xmit: ['b'] };

const conf = (s: Setup, h: Host, priority: number): string =>
  keepalivedConf(`${PREFIX}${h}`, {
    state: 'BACKUP',
    vrid: 51,
    priority,
    vips: [`${SUBNET}.100/24`],
    extra: s.xmit.includes(h) ? ['use_vmac', 'vmac_xmit_base'] : ['use_vmac'],
  });

interface PairKind {
  readonly a: Impl;
  readonly b: Impl;
}

const KK: PairKind = { a: 'keepalived', b: 'keepalived' };
const RUNS: ReadonlyArray<{ setup: Setup; kinds: readonly PairKind[] }> = [
  { setup: BOTH, kinds: [KK, { a: VRRPD_IMPL, b: 'keepalived' }, { a: 'keepalived', b: VRRPD_IMPL }] },
  { setup: B_ONLY, kinds: [KK, { a: 'keepalived', b: VRRPD_IMPL }] },
];

const label = (k: PairKind): string => `a ${k.a} (150), b ${k.b} (100)`;

/** Hosts holding the VIP now, by the address monitors (the kernel's view). */
function holders(p: Pair): string {
  const on = (['a', 'b'] as const).filter((h) => {
    const ev = p.mon[h].eventsFor(p.vip);
    return ev.length > 0 && ev[ev.length - 1]!.op === 'add';
  });
  return on.length === 0 ? 'nobody' : on.join('+');
}

/** The holders once settled: at least `minMs` after the step, then `stableMs` without a change. */
async function settled(p: Pair, minMs = 4000, stableMs = 1500, maxMs = 15000): Promise<string> {
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

async function run(t: T, s: Setup, k: PairKind): Promise<Record<string, string>> {
  const p = await createPair(t, PREFIX, SUBNET);
  const rec: Record<string, string> = {};
  const step = async (name: string): Promise<void> => {
    rec[name] = await settled(p);
    for (const h of ['a', 'b'] as const) {
      if (!rec[name].split('+').includes(h)) continue;
      t.same(await vipPlaces(p, h), [`${VMAC} ${p.vip}/24`], `${name}: the VIP is on ${h}'s ${VMAC}`);
    }
  };
  const startA = async (): Promise<VrrpNode> => {
    const n = p.start({ impl: k.a, host: 'a', conf: conf(s, 'a', 150) });
    await pollUntil(() => /Startup complete/.test(n.log), 15000, `${k.a} on a started`);
    return n;
  };
  const B = p.start({ impl: k.b, host: 'b', conf: conf(s, 'b', 100) });
  await pollUntil(() => /Startup complete/.test(B.log), 15000, `${k.b} on b started`);
  let A = await startA();
  await step('1 election');
  await A.proc.kill('SIGKILL', 1000);
  await step('2 a crashed');
  A = await startA();
  await step('3 a back');
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

t.test('use_vmac with vmac_xmit_base: the same holders as a keepalived pair', { skip: interopSkip() }, async (t) => {
  for (const { setup, kinds } of RUNS) {
    const runs = new Map<PairKind, Record<string, string>>();
    for (const k of kinds) {
      await t.test(`${setup.name}: ${label(k)}`, async (t) => void runs.set(k, await run(t, setup, k)));
      await assertLabGone(t, PREFIX);
    }
    const ref = runs.get(KK);
    if (ref === undefined) continue;
    t.comment(`${setup.name}: keepalived pair ${JSON.stringify(ref)}`);
    for (const k of kinds.slice(1)) {
      const r = runs.get(k);
      if (r === undefined) t.fail(`${setup.name}, ${label(k)}: the run did not complete`);
      else t.same(r, ref, `${setup.name}, ${label(k)}: the holders at each step are the keepalived pair's`);
    }
  }
});
