/**
 * Interop, IPv6 unicast without unicast_src_ip (issue 12): each node names its peer by its
 * link-local address, so keepalived 2.2.7 binds to and sends from eth0's link-local address
 * (docs/keepalived-behaviour.md 3.1 "Source address"), and so does vrrpd. vrrpd and keepalived in both roles,
 * then a pure vrrpd pair of the same config: election, crash and recovery with preemption,
 * priority-0 stops (roles-v6.ts, `linkLocalPeers`). Then what the same config does with global
 * peer addresses: every node hears nothing (its peer's adverts go to its global address, it listens
 * on its link-local one) and both become MASTER, keepalived pairs as vrrpd ones (the warning of
 * `vrrpd check`, src/config/runtime-support.ts). Root; lab vk-v6ll-, 10.234.35.0/24 (fd00:10:234:35::/64).
 */
import t from 'tap';
import { VRRPD_IMPL, assertLabGone, finish, interopSkip } from './pair.js';
import { adverts6, createPair6 } from './pair6.js';
import { roles6Scenario } from './roles-v6.js';
import { STATE_RE, keepalivedConf, sleep, type Impl } from '../support/vrrp-harness.js';

const PREFIX = 'vk-v6ll-';
const SUBNET = '10.234.35';

t.test('IPv6 unicast, link-local peers, no unicast_src_ip: vrrpd <-> keepalived in both roles', { skip: interopSkip() }, async (t) => {
  await roles6Scenario(t, { prefix: PREFIX, subnet: SUBNET, unicast: true, linkLocalPeers: true });
});

t.test('IPv6 unicast, link-local peers, no unicast_src_ip: a vrrpd pair', { skip: interopSkip() }, async (t) => {
  await roles6Scenario(t, { prefix: PREFIX, subnet: SUBNET, unicast: true, linkLocalPeers: true, pairs: [[VRRPD_IMPL, VRRPD_IMPL]] });
});

t.test('IPv6 unicast, global peers, no unicast_src_ip: both nodes MASTER, as keepalived', { skip: interopSkip() }, async (t) => {
  const pairs: Array<[Impl, Impl]> = [
    [VRRPD_IMPL, 'keepalived'],
    [VRRPD_IMPL, VRRPD_IMPL],
  ];
  for (const [aImpl, bImpl] of pairs) {
    await t.test(`${aImpl} (150) and ${bImpl} (100)`, async (t) => {
      const p = await createPair6(t, PREFIX, SUBNET);
      const conf = (h: 'a' | 'b', priority: number): string =>
        keepalivedConf(`${PREFIX}${h}`, {
          state: 'BACKUP',
          vrid: 53,
          priority,
          vips: [`${p.vip}/64`],
          unicastPeers: [p.lab.host(h === 'a' ? 'b' : 'a').ip6!],
        });
      const A = p.start({ impl: aImpl, host: 'a', conf: conf('a', 150) });
      await A.proc.waitFor(STATE_RE.backupInit, 8000);
      const B = p.start({ impl: bImpl, host: 'b', conf: conf('b', 100) });
      await B.proc.waitFor(STATE_RE.backupInit, 8000);
      await A.proc.waitFor(STATE_RE.master, 8000);
      await B.proc.waitFor(STATE_RE.master, 8000);
      await sleep(2500);
      for (const h of ['a', 'b'] as const)
        t.ok(
          (await p.lab.addresses6(h)).some((x) => x.local === p.vip),
          `ip -6 addr: ${h} holds ${p.vip} (split brain)`,
        );
      await finish(p);
      for (const [h, n] of [
        ['a', A],
        ['b', B],
      ] as const) {
        const host = p.lab.host(h);
        const peer = p.lab.host(h === 'a' ? 'b' : 'a');
        const mine = adverts6(p.frames).filter((x) => x.srcMac === host.mac);
        t.ok(mine.length >= 2, `${n.impl} on ${h} advertised as MASTER (${mine.length} adverts)`);
        t.same(
          [...new Set(mine.map((x) => `${x.src} > ${x.dst}`))],
          [`${host.linkLocal} > ${peer.ip6}`],
          `${n.impl} on ${h}: from its link-local address to the peer's global address`,
        );
        t.ok((n.log.match(STATE_RE.master) ?? []).length >= 1, `${n.impl} on ${h} entered MASTER`);
      }
    });
  }
  await assertLabGone(t, PREFIX);
});
