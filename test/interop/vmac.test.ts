/**
 * Interop, `use_vmac` (docs/vmac.md): vrrpd (a, priority 150) and keepalived 2.2.7 (b, priority
 * 100), both `use_vmac`, multicast VRRPv2, VRID 51. keepalived is the reference: what vrrpd makes
 * (the macvlan, its MAC, mode, address generation, link state, sysctls) is compared with what
 * keepalived makes on its own host, and the wire with keepalived's frames.
 *  1. Both start: each host has `vrrp.51` (macvlan private, 00:00:5e:00:01:33, up) even in BACKUP,
 *     with keepalived's sysctls; vrrpd becomes MASTER, the VIP is on a's vrrp.51, a client's ARP
 *     request for the VIP is answered from 00:00:5e:00:01:33. Both SIGUSR1 data dumps show the
 *     same VMAC lines (`Use VMAC, i/f name vrrp.51, ...`).
 *  2. vrrpd stops: keepalived takes over on its VMAC; a's VMAC is gone and its parent's
 *     arp_ignore/arp_filter are back to what they were.
 *  3. vrrpd starts again and takes the VIP back (preempt).
 *  4. A reload that removes the instance on a: a's VMAC is removed, keepalived takes over.
 *  5. The wire: every advert from either node has Ethernet source 00:00:5e:00:01:33 and the
 *     parent's IP; every GARP for the VIP has Ethernet source and sender MAC 00:00:5e:00:01:33.
 * Root; lab vk-vmac-, 10.239.90.0/24. About 40 s.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import {
  VRRPD_IMPL,
  adverts,
  advertProblems,
  garps,
  assertLabGone,
  createPair,
  finish,
  gracefulStop,
  interopSkip,
  waitHolder,
  type Pair,
  type T,
} from './pair.js';
import { keepalivedConf, sleep, type VrrpNode } from '../support/vrrp-harness.js';
import { pollUntil } from '../support/netns.js';
import { KEEPALIVED_VMAC, VMAC, VMAC_MAC, arpAnswer, vipPlaces, vmacDumpLines, vmacOf } from './vmac-lab.js';

const PREFIX = 'vk-vmac-';
const SUBNET = '10.239.90';
const VRID = 51;
const MAC = VMAC_MAC;
delete process.env.TMPDIR; // both daemons dump to /tmp (the node's private /tmp)

const conf = (h: 'a' | 'b', priority: number): string =>
  keepalivedConf(`${PREFIX}${h}`, { state: 'BACKUP', vrid: VRID, priority, vips: [`${SUBNET}.100/24`], extra: ['use_vmac'] });

/** A config without the VMAC instance (another VRID, no VIP in common): a reload removes VI_1. */
const otherConf = (h: string): string =>
  keepalivedConf(`${PREFIX}${h}`, { name: 'VI_2', state: 'BACKUP', vrid: 52, priority: 100, vips: [`${SUBNET}.101/24`] });

const SYSCTLS = [
  `ipv4/conf/${VMAC}/arp_ignore`,
  `ipv4/conf/${VMAC}/arp_filter`,
  `ipv4/conf/${VMAC}/accept_local`,
  `ipv4/conf/${VMAC}/rp_filter`,
  `ipv4/conf/${VMAC}/promote_secondaries`,
  `ipv6/conf/${VMAC}/disable_ipv6`,
  'ipv4/conf/eth0/arp_ignore',
  'ipv4/conf/eth0/arp_filter',
  'ipv4/conf/eth0/rp_filter',
  'ipv4/conf/all/rp_filter',
  'ipv4/conf/default/rp_filter',
];

/** The parent's and the global values a daemon changes and should leave as it found them. */
const HOST_SYSCTLS = SYSCTLS.filter((k) => !k.includes(VMAC));

async function sysctls(p: Pair, h: string, keys: readonly string[] = SYSCTLS): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const k of keys) out[k] = (await p.lab.exec(h, ['cat', `/proc/sys/net/${k}`], { allowFail: true })).stdout.trim();
  return out;
}

function sighup(n: VrrpNode): void {
  process.kill(Number(readFileSync(n.pidFiles[0]!, 'utf8').trim()), 'SIGHUP');
}

async function checkMaster(t: T, p: Pair, h: 'a' | 'b', what: string): Promise<void> {
  t.same(await vipPlaces(p, h), [`${VMAC} ${p.vip}/24`], `${what}: the VIP is on ${h}'s ${VMAC} only`);
  t.same(await arpAnswer(p), [MAC], `${what}: the client's ARP requests for the VIP are answered from ${MAC} alone`);
}

t.test('use_vmac: vrrpd <-> keepalived', { skip: interopSkip() }, async (t) => {
  await t.test(`${VRRPD_IMPL} (150) and keepalived (100), both use_vmac`, (t) => scenario(t));
  await assertLabGone(t, PREFIX);
});

async function scenario(t: T): Promise<void> {
  const p = await createPair(t, PREFIX, SUBNET);
  const { lab } = p;
  // Strict reverse-path filtering host-wide, as on many distributions: both daemons must clear it
  // for the VMAC (keepalived's clear_rp_filter) and put it back.
  for (const h of ['a', 'b']) await lab.exec(h, ['sysctl', '-q', '-w', 'net.ipv4.conf.all.rp_filter=1']);
  const before = await sysctls(p, 'a', HOST_SYSCTLS);
  const K = p.start({ impl: 'keepalived', host: 'b', conf: conf('b', 100) });
  let V = p.start({ impl: VRRPD_IMPL, host: 'a', conf: conf('a', 150) });

  // 1. Both VMACs, compared; vrrpd takes the VIP.
  await pollUntil(async () => (await vmacOf(p, 'a')) !== null && (await vmacOf(p, 'b')) !== null, 5000, 'both VMACs');
  const ka = await vmacOf(p, 'b');
  t.same(ka, KEEPALIVED_VMAC, 'keepalived made vrrp.51 so');
  t.same(await vmacOf(p, 'a'), ka, `${VRRPD_IMPL}'s vrrp.51 is keepalived's`);
  const tA = await waitHolder(p, 'a', 8000);
  t.same(await sysctls(p, 'a'), await sysctls(p, 'b'), "the sysctls on the VMAC and its parent are keepalived's");
  await checkMaster(t, p, 'a', `${VRRPD_IMPL} MASTER`);
  t.equal(await vmacOf(p, 'b').then((v) => v?.up), true, 'the BACKUP keeps its VMAC up');
  // The SIGUSR1 data dump: keepalived's VMAC lines, as the running keepalived writes them.
  const kDump = await vmacDumpLines(K);
  t.same(
    kDump,
    [
      '   Use VMAC, i/f name vrrp.51, is_up = true, xmit_base = false',
      '   Interface = vrrp.51, vmac on eth0',
      `     ${p.vip}/24 dev vrrp.51@eth0 scope global`,
    ],
    'keepalived.data: the reference VMAC lines',
  );
  t.same(await vmacDumpLines(V), kDump, `${VRRPD_IMPL}'s keepalived.data: the same VMAC lines`);

  // 2. vrrpd stops: keepalived takes over; a's VMAC goes, its parent's sysctls come back.
  const tStop = V.sigterm();
  const tB = await waitHolder(p, 'b', 4000);
  await gracefulStop(t, V, `${VRRPD_IMPL} SIGTERM`, tStop);
  t.equal(await vmacOf(p, 'a'), null, `${VRRPD_IMPL} removed ${VMAC} at stop`);
  const after = await sysctls(p, 'a', HOST_SYSCTLS);
  const rp = (x: Record<string, string>): string[] =>
    Object.keys(x)
      .filter((k) => k.endsWith('/rp_filter'))
      .map((k) => `${k}=${x[k]}`);
  t.same(rp(after), rp(before), `${VRRPD_IMPL} put rp_filter back (all, default, eth0)`);
  // keepalived 2.2.7 leaves the parent's arp_ignore=1 and arp_filter=1 (docs/vmac.md); vrrpd restores them.
  if (VRRPD_IMPL === 'vrrpd') t.same(after, before, "vrrpd put the parent's arp_ignore/arp_filter back");
  await checkMaster(t, p, 'b', 'keepalived MASTER');

  // 3. vrrpd again: it takes the VIP back.
  V = p.start({ impl: VRRPD_IMPL, host: 'a', conf: conf('a', 150) });
  const tA2 = await waitHolder(p, 'a', 8000);
  await checkMaster(t, p, 'a', `${VRRPD_IMPL} MASTER again`);

  // 4. A reload removing the instance: the VMAC goes, keepalived takes over.
  writeFileSync(join(V.dir, VRRPD_IMPL === 'vrrpd' ? 'run/vrrpd.conf' : 'run/keepalived.conf'), otherConf('a'));
  sighup(V);
  const tB2 = await waitHolder(p, 'b', 4000);
  await pollUntil(async () => (await vmacOf(p, 'a')) === null, 3000, `${VMAC} removed by the reload`);
  t.pass(`the reload removed ${VMAC} on a`);
  await sleep(500);

  await gracefulStop(t, V, `${VRRPD_IMPL} SIGTERM`);
  await gracefulStop(t, K, 'keepalived SIGTERM');
  t.equal(await vmacOf(p, 'b'), null, 'keepalived removed its VMAC at stop');
  await finish(p);

  // 5. The wire.
  const ips = { a: lab.host('a').ip, b: lab.host('b').ip };
  for (const h of ['a', 'b'] as const) {
    const mine = adverts(p.frames).filter((x) => x.src === ips[h]);
    t.ok(mine.length >= 3, `${h} sent adverts (${mine.length})`);
    t.same([...new Set(mine.map((x) => x.srcMac))], [MAC], `every advert from ${h} has Ethernet source ${MAC}`);
    const bad = mine.flatMap((x) => advertProblems(x, { vrid: VRID, vips: [p.vip], dst: '224.0.0.18' }));
    t.same([...new Set(bad)], [], `the adverts from ${h} are keepalived-shaped`);
  }
  // Requests only: at a takeover the old master's kernel may still hold the VIP for a few ms and
  // answer the new master's first GARP with a unicast ARP reply (VIP is-at 00:00:5e:00:01:33, to
  // 00:00:5e:00:01:33): a kernel's answer, with either daemon, not a GARP.
  const g = garps(p.frames).filter((x) => x.ip === p.vip && x.op === 1);
  for (const [what, from, to] of [
    [`${VRRPD_IMPL} takeover`, tA - 500, tStop],
    ['keepalived takeover', tB - 500, tA2 - 500],
    [`${VRRPD_IMPL} takeover again`, tA2 - 500, tB2 - 500],
  ] as const) {
    const burst = g.filter((x) => x.tsMs >= from && x.tsMs <= to);
    t.ok(burst.length >= 5, `${what}: ${burst.length} GARPs`);
    t.same(
      [
        ...new Set(
          burst
            .filter((x) => x.srcMac !== MAC || x.senderMac !== MAC || x.targetMac !== 'ff:ff:ff:ff:ff:ff')
            .map(
              (x) =>
                `op ${x.op} eth ${x.srcMac} > ${x.dstMac} sender ${x.senderMac} target ${x.targetMac} at +${(x.tsMs - from).toFixed(0)} ms`,
            ),
        ),
      ],
      [],
      `${what}: GARPs from ${MAC}, sender MAC ${MAC}, target ff:ff:ff:ff:ff:ff`,
    );
  }
}
