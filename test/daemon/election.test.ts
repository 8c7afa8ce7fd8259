/**
 * Two vrrpd nodes and a client on one bridge (prefix vd-elect-, subnet 10.233.1.0/24), multicast
 * with PASS auth: election, the client's view, crash failover (master's link cut), graceful stop
 * (priority 0 on the wire, takeover after the backup's skew time).
 */
import t from 'tap';
import { Lab, netnsSkip, pollUntil, sleep } from '../support/netns.js';
import { adverts, requireBuild, confText, garps, hasAddress, instanceConf, instanceStatus, startVrrpd, waitState } from './helpers.js';

const VIP = '10.233.1.100';

t.test('multicast election, failover and graceful stop', { skip: netnsSkip() || requireBuild() }, async (t) => {
  const lab = await Lab.create(t, { prefix: 'vd-elect-', subnet: '10.233.1', hosts: ['a', 'b', 'c'] });
  const conf = (prio: number): string =>
    confText('n', instanceConf({ priority: prio, vips: [`${VIP}/24 dev eth0 label eth0:vip`], pass: 'secret12' }));
  const cap = await lab.capture('c', { filter: 'ip proto 112 or arp' });
  const a = await startVrrpd(lab, 'a', conf(150));
  const b = await startVrrpd(lab, 'b', conf(100));

  await t.test('the higher priority wins and holds the VIP with its label', async (t) => {
    await waitState(a, 'MASTER', 8000);
    await waitState(b, 'BACKUP', 1000);
    await pollUntil(() => hasAddress(lab, 'a', VIP), 2000, 'VIP on a');
    const addr = (await lab.addresses('a')).find((x) => x.local === VIP);
    t.equal(addr?.label, 'eth0:vip', 'ip addr shows the label');
    t.notOk(await hasAddress(lab, 'b', VIP), 'backup holds no VIP');
    const ping = await lab.exec('c', ['ping', '-c', '2', '-i', '0.2', '-W', '1', VIP], { allowFail: true });
    t.equal(ping.code, 0, 'the client reaches the VIP');
    const neigh = await lab.exec('c', ['ip', 'neigh', 'show', VIP]);
    t.match(neigh.stdout, lab.host('a').mac, "the client's ARP entry points at a");
    t.match(a.proc.output, /\(VI_1\) Entering MASTER STATE/);
    t.match(b.proc.output, /\(VI_1\) Entering BACKUP STATE \(init\)/);
    const st = await instanceStatus(a);
    t.equal(st.effectivePriority, 150);
    t.ok(st.counters.advertSent >= 1);
  });

  await t.test('crash failover: cut the master link, the backup takes over', async (t) => {
    const t0 = Date.now();
    await lab.linkDown('a', 'switch');
    await waitState(b, 'MASTER', 6000);
    const took = Date.now() - t0;
    t.ok(took > 2500 && took < 4800, `takeover after ${took} ms (3 x 1 s + skew 0.609 s after the last advert)`);
    t.comment(`crash -> MASTER on b: ${took} ms`);
    await pollUntil(() => hasAddress(lab, 'b', VIP), 1000, 'VIP on b');
    await waitState(a, 'FAULT', 2000);
    t.match(a.proc.output, /Netlink reports eth0 down/);
    t.notOk(await hasAddress(lab, 'a', VIP), 'the faulted node removed the VIP');
    await lab.linkUp('a', 'switch');
    await waitState(a, 'MASTER', 8000);
    await waitState(b, 'BACKUP', 3000);
    t.match(a.proc.output, /Netlink reports eth0 up/);
  });

  await t.test('graceful stop: priority 0, backup takes over after its skew time', async (t) => {
    const before = Date.now();
    await a.proc.kill('SIGTERM', 3000);
    const exitMs = Date.now() - before;
    t.equal(a.proc.exitCode, 0, 'exit 0');
    t.ok(exitMs < 2000, `exited in ${exitMs} ms`);
    await waitState(b, 'MASTER', 3000);
    t.notOk(await hasAddress(lab, 'a', VIP), 'stopped node removed its VIP');
    await pollUntil(() => hasAddress(lab, 'b', VIP), 1000, 'VIP on b');
    await sleep(300);
    const res = await cap.stop();
    const ads = adverts(res.frames);
    const zero = ads.find((x) => x.src === lab.host('a').ip && x.priority === 0);
    t.ok(zero, 'a priority-0 advert on the wire');
    const firstB = ads.find((x) => zero && x.src === lab.host('b').ip && x.tMs > zero.tMs && x.priority === 100);
    t.ok(firstB, 'b advertises after it');
    if (zero && firstB) {
      const gap = firstB.tMs - zero.tMs;
      t.comment(`priority 0 -> first advert from b: ${gap.toFixed(1)} ms (skew for 100 = 609 ms)`);
      t.ok(gap > 550 && gap < 900, `takeover ${gap.toFixed(0)} ms after priority 0`);
      const g = garps(res.frames).find((x) => x.ip === VIP && x.tMs >= firstB.tMs);
      t.ok(g, 'b sent a GARP for the VIP');
      if (g) t.comment(`first advert -> first GARP: ${(g.tMs - firstB.tMs).toFixed(2)} ms`);
      t.ok(
        ads.every((x) => x.ttl === 255),
        'TTL 255 on every advert',
      );
    }
  });
});
