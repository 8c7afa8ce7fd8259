/**
 * IPv6 self-healing on real namespaces (prefix vd-heal6-, subnet 10.233.14.0/24 with
 * fd00:10:233:14::/64): two vrrpd nodes run an IPv6 instance (VRRPv3 to ff02::12); an IPv6 VIP
 * deleted behind the master's back comes back at once, announced by unsolicited neighbour
 * advertisements, with no state change anywhere and no priority-0 advert, as IPv4 VIPs do
 * (heal-reload.test.ts). Status shows the IPv6 receive socket with the kernel's drops on it.
 */
import t from 'tap';
import { Lab, netnsSkip, pollUntil, sleep } from '../support/netns.js';
import { adverts6, neighbourAdverts } from '../interop/pair6.js';
import { requireBuild, confText, control, instanceConf, instanceStatus, startVrrpd, waitState } from './helpers.js';

const NET = '10.233.14';
const VIP6 = 'fd00:10:233:14::100';

t.test('IPv6 VIP deleted externally: re-added with NAs, no flap', { skip: netnsSkip() || requireBuild() }, async (t) => {
  const lab = await Lab.create(t, { prefix: 'vd-heal6-', subnet: NET, hosts: ['a', 'b', 'c'], ipv6: true });
  const conf = (prio: number): string => confText('n', instanceConf({ priority: prio, vips: [`${VIP6}/64`] }));
  const a = await startVrrpd(lab, 'a', conf(150));
  const b = await startVrrpd(lab, 'b', conf(100));
  await waitState(a, 'MASTER', 10_000);
  await waitState(b, 'BACKUP', 2000);
  const has = async (): Promise<boolean> => (await lab.addresses6('a')).some((x) => x.local === VIP6);
  t.ok(await has(), 'the VIP is on a');
  const st0 = await instanceStatus(a);
  t.match(st0, { version: 3, family: 6 });

  const cap = await lab.capture('c', { filter: 'ip6' });
  const t0 = Date.now();
  await lab.exec('a', ['ip', '-6', 'addr', 'del', `${VIP6}/64`, 'dev', 'eth0']);
  await pollUntil(has, 2000, 'VIP back on a', 5);
  t.comment(`deleted -> present again (seen by polling ip -6 addr): ${Date.now() - t0} ms`);
  const back = (await lab.addresses6('a')).find((x) => x.local === VIP6);
  t.ok(back !== undefined, 'back with its prefix');
  await sleep(1500);
  const res = await cap.stop();
  const nas = neighbourAdverts(res.frames).filter((n) => n.target === VIP6);
  t.ok(nas.length >= 1, `NAs for the VIP seen (${nas.length})`);
  t.ok(
    nas.every((n) => n.tlla === lab.host('a').mac && n.override),
    "from a, with a's MAC as the target link-layer address, Override set",
  );
  t.notOk(
    adverts6(res.frames).some((x) => x.prio === 0),
    'no priority-0 advert',
  );
  const st = await instanceStatus(a);
  t.equal(st.state, 'MASTER');
  t.equal(st.counters.vipRestored, 1, 'counted');
  t.equal((await instanceStatus(b)).state, 'BACKUP', 'the peer never moved');
  // status `sockets`: b's IPv6 receive socket, the adverts it read, and the kernel's drops on it (SO_MEMINFO through koffi).
  const sockets = (await control(b, 'status')).status.sockets as { family: number; rxPackets: number; kernelDrops: number | null }[];
  const six = sockets.filter((s) => s.family === 6);
  t.match(six, [{ family: 6, ifname: 'eth0', channel: 'ff02::12', kernelDrops: 0 }], "b's IPv6 receive socket, no kernel drop");
  t.ok(six[0]!.rxPackets >= 2, `b read a's adverts on it (${six[0]?.rxPackets})`);
  t.match(a.proc.output, new RegExp(`\\(VI_1\\) VIP ${VIP6} was removed by another process`));
});
