/**
 * `use_vmac_addr` pairs, differential (docs/vmac.md "use_vmac_addr"): the same scenario run by a
 * keepalived 2.2.7 pair (the reference), a vrrpd pair and the two mixed pairs, each in its own lab
 * whose hosts have a second interface, eth1, on a second bridge (br1). a has priority 150, b 100,
 * both `use_vmac` and `use_vmac_addr`, VRID 51 on eth0, one VIP on eth0 and one `dev eth1`. Steps:
 *  1. election: both start;
 *  2. priority-0 stop: a is stopped (SIGTERM);
 *  3. a starts again and preempts.
 * After each step, once the holders have settled, the hosts holding each VIP are recorded; every
 * pair must record keepalived's, and at the end the VMAC lines of both nodes' SIGUSR1 data dumps. Per pair: the eth1 VIP is on the holder's `vrrp1.51`, a macvlan on
 * eth1 made as keepalived makes it (MAC 00:00:5e:00:01:33, private, up, addrgenmode none) on both
 * hosts from the start (on the BACKUP too), gone from a once it is stopped; on br1 no advert and
 * every GARP request for the eth1 VIP from 00:00:5e:00:01:33 with it as sender. Root; lab
 * vk-vmaca-, 10.239.94.0/24 (eth0) and 10.239.95.0/24 (eth1), one lab at a time. About 80 s (20 s a pair).
 */
import t from 'tap';
import { adverts, assertLabGone, createPair, finish, garps, interopSkip, type Pair, type T } from './pair.js';
import { keepalivedConf } from '../support/vrrp-harness.js';
import { pollUntil, run as runCmd, type Capture } from '../support/netns.js';
import {
  label,
  PAIR_KINDS,
  settledHolders,
  startVmacPair,
  VMAC_MAC,
  vmacDumpLines,
  vmacOf,
  type PairKind,
  type VmacView,
} from './vmac-lab.js';

const PREFIX = 'vk-vmaca-';
const SUBNET = '10.239.94';
const SUBNET1 = '10.239.95';
const VIP1 = `${SUBNET1}.100`;
const ADDR_VMAC = 'vrrp1.51';
delete process.env.TMPDIR; // the daemons dump to /tmp (each node's private /tmp)

/** What keepalived 2.2.7 makes for the eth1 VIP (watched: docs/vmac.md "use_vmac_addr"). */
const KEEPALIVED_ADDR_VMAC: VmacView = { kind: 'macvlan', mode: 'private', mac: VMAC_MAC, up: true, addrGenMode: 'none', parent: 'eth1' };

const conf = (h: 'a' | 'b', priority: number): string =>
  keepalivedConf(`${PREFIX}${h}`, {
    state: 'BACKUP',
    vrid: 51,
    priority,
    vips: [`${SUBNET}.100/24`, `${VIP1}/24 dev eth1`],
    extra: ['use_vmac', 'use_vmac_addr'],
  });

const KINDS = PAIR_KINDS;

/** eth1 on a second bridge br1 for hosts a, b and c (same last octet as on eth0), and a capture of br1. */
async function addEth1(t: T, p: Pair): Promise<Capture> {
  const sw = p.lab.switchNs;
  await runCmd(['ip', '-n', sw, 'link', 'add', 'br1', 'type', 'bridge']);
  await runCmd(['ip', '-n', sw, 'link', 'set', 'br1', 'up']);
  for (const h of ['a', 'b', 'c']) {
    const host = p.lab.host(h);
    const octet = host.ip.split('.')[3]!;
    await runCmd(['ip', '-n', host.ns, 'link', 'add', 'eth1', 'type', 'veth', 'peer', 'name', `q-${h}`, 'netns', sw]);
    await runCmd(['ip', '-n', sw, 'link', 'set', `q-${h}`, 'master', 'br1', 'up']);
    await runCmd(['ip', '-n', host.ns, 'addr', 'add', `${SUBNET1}.${octet}/24`, 'dev', 'eth1']);
    await runCmd(['ip', '-n', host.ns, 'link', 'set', 'eth1', 'up']);
  }
  const cap = await p.lab.capture(sw, { ifname: 'br1', filter: 'proto 112 or arp' });
  t.teardown(() => cap.stop().catch(() => undefined));
  return cap;
}

/** Hosts holding `vip` now, by the address monitors. */
function holdersOf(p: Pair, vip: string): string {
  const on = (['a', 'b'] as const).filter((h) => {
    const ev = p.mon[h].eventsFor(vip);
    return ev.length > 0 && ev[ev.length - 1]!.op === 'add';
  });
  return on.length === 0 ? 'nobody' : on.join('+');
}

/** The links `vip` is on in host `h`. */
async function placesOf(p: Pair, h: string, vip: string): Promise<string[]> {
  const r = await p.lab.exec(h, ['ip', '-j', '-4', 'addr', 'show']);
  const links = JSON.parse(r.stdout) as Array<{ ifname: string; addr_info: Array<{ local: string }> }>;
  return links.filter((l) => l.addr_info.some((a) => a.local === vip)).map((l) => l.ifname);
}

async function run(t: T, k: PairKind): Promise<Record<string, string>> {
  const p = await createPair(t, PREFIX, SUBNET);
  const cap1 = await addEth1(t, p);
  const rec: Record<string, string> = {};
  const step = async (name: string): Promise<void> => {
    const h0 = await settledHolders(p);
    rec[name] = `${h0} / ${holdersOf(p, VIP1)}`;
    for (const h of ['a', 'b'] as const)
      if (holdersOf(p, VIP1).split('+').includes(h))
        t.same(await placesOf(p, h, VIP1), [ADDR_VMAC], `${name}: ${VIP1} on ${h}'s ${ADDR_VMAC}`);
  };
  const pair = await startVmacPair(p, k, conf);
  const { B, startA } = pair;
  let A = pair.A;
  await pollUntil(() => /Startup complete/.test(B.log), 15000, `${k.b} on b started`);
  for (const h of ['a', 'b'] as const)
    t.same(await vmacOf(p, h, ADDR_VMAC), KEEPALIVED_ADDR_VMAC, `${h}'s ${ADDR_VMAC} made at start, as keepalived makes it`);
  await step('1 election');

  A.sigterm();
  await step('2 a stopped');
  await A.stop(3000);
  t.equal(await vmacOf(p, 'a', ADDR_VMAC), null, `2: a's ${ADDR_VMAC} removed at stop`);

  A = await startA();
  await step('3 a back');
  // keepalived's SIGUSR1 data dump: `Use VMAC ...` lines and the VIPs on `vrrp.51@eth0`, `vrrp1.51@eth1`.
  for (const [h, n] of [
    ['a', A],
    ['b', B],
  ] as const)
    rec[`dump ${h}`] = (await vmacDumpLines(n)).join(' | ');

  for (const n of [A, B]) await n.stop(3000);
  const frames1 = (await cap1.stop()).frames;
  await finish(p);
  t.same(adverts(frames1), [], 'no advert on br1');
  const g = garps(frames1).filter((x) => x.ip === VIP1 && x.op === 1);
  t.ok(g.length >= 10, `GARP requests for ${VIP1} on br1 (${g.length}: one burst per takeover)`);
  t.same(
    [...new Set(g.filter((x) => x.srcMac !== VMAC_MAC || x.senderMac !== VMAC_MAC).map((x) => `${x.srcMac} sender ${x.senderMac}`))],
    [],
    `every GARP request for ${VIP1} is from ${VMAC_MAC}, sender MAC ${VMAC_MAC}`,
  );
  return rec;
}

t.test('use_vmac_addr pairs: the same holders as a keepalived pair', { skip: interopSkip() }, async (t) => {
  const runs = new Map<PairKind, Record<string, string>>();
  for (const k of KINDS) {
    await t.test(label(k), async (t) => void runs.set(k, await run(t, k)));
    await assertLabGone(t, PREFIX);
  }
  const ref = runs.get(KINDS[0]!);
  if (ref === undefined) return;
  t.same(
    [ref['1 election'], ref['2 a stopped'], ref['3 a back']],
    ['a / a', 'b / b', 'a / a'],
    'keepalived pair: a holds both VIPs, b after the stop, a preempts',
  );
  t.comment(`keepalived pair's dump of a: ${ref['dump a']}`);
  t.match(
    ref['dump a'],
    /Use VMAC, i\/f name vrrp\.51, is_up = true, xmit_base = false \| +Use VMAC for VIPs on other interfaces \| +Interface = vrrp\.51, vmac on eth0 \|.* dev vrrp1\.51@eth1 scope global/,
    'keepalived pair: the reference dump has the VMAC lines and the eth1 VIP on vrrp1.51@eth1',
  );
  for (const k of KINDS.slice(1)) {
    const r = runs.get(k);
    if (r === undefined) t.fail(`${label(k)}: the run did not complete`);
    else t.same(r, ref, `${label(k)}: the holders at each step are the keepalived pair's`);
  }
});
