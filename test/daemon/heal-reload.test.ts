/**
 * Self-healing and reload on real namespaces (prefix vd-heal-, subnet 10.233.4.0/24), multicast
 * with PASS auth: a VIP deleted behind the master's back comes back at once with GARP and no
 * state change anywhere; SIGHUP with an unchanged and with a changed config never pauses the
 * adverts (checked on the capture's inter-advert gaps); a config that fails to load changes nothing.
 */
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { Lab, netnsSkip, pollUntil, sleep } from '../support/netns.js';
import {
  adverts,
  requireBuild,
  confText,
  control,
  garps,
  hasAddress,
  instanceConf,
  instanceStatus,
  startVrrpd,
  waitState,
} from './helpers.js';

const NET = '10.233.4';
const VIP = `${NET}.100`;
const EVIP = `${NET}.150`;

t.test('self-healing and reload', { skip: netnsSkip() || requireBuild() }, async (t) => {
  const lab = await Lab.create(t, { prefix: 'vd-heal-', subnet: NET, hosts: ['a', 'b', 'c'] });
  const conf = (prio: number, extra = '', name = 'VI_1'): string =>
    confText('n', instanceConf({ name, priority: prio, vips: [`${VIP}/24 dev eth0 label eth0:vip`], pass: 'pw', extra }));
  const a = await startVrrpd(lab, 'a', conf(150));
  const b = await startVrrpd(lab, 'b', conf(100));
  await waitState(a, 'MASTER', 8000);
  await waitState(b, 'BACKUP', 1000);

  await t.test('VIP deleted externally: re-added with GARP, no flap', async (t) => {
    const cap = await lab.capture('c', { filter: 'ip proto 112 or arp' });
    const t0 = Date.now();
    await lab.exec('a', ['ip', 'addr', 'del', `${VIP}/24`, 'dev', 'eth0']);
    await pollUntil(() => hasAddress(lab, 'a', VIP), 2000, 'VIP back on a', 5);
    t.comment(`deleted -> present again (seen by polling ip addr): ${Date.now() - t0} ms`);
    const addr = (await lab.addresses('a')).find((x) => x.local === VIP);
    t.equal(addr?.label, 'eth0:vip', 'with its label');
    await sleep(1500);
    const res = await cap.stop();
    const g = garps(res.frames).filter((x) => x.ip === VIP);
    t.ok(g.length >= 1, `GARP for the VIP seen (${g.length})`);
    t.ok(
      g.every((x) => x.mac === lab.host('a').mac),
      'from a',
    );
    t.notOk(
      adverts(res.frames).some((x) => x.priority === 0),
      'no priority-0 advert',
    );
    const st = await instanceStatus(a);
    t.equal(st.state, 'MASTER');
    t.equal(st.counters.vipRestored, 1, 'counted');
    t.equal((await instanceStatus(b)).state, 'BACKUP', 'the peer never moved');
    t.match(a.proc.output, /\(VI_1\) VIP 10\.233\.4\.100 was removed by another process/);
    t.notMatch(a.proc.output, /Entering BACKUP STATE\n/, 'no transition on a');
  });

  await t.test('SIGHUP: unchanged, changed (renamed + eVIP), and broken configs never pause adverts', async (t) => {
    const cap = await lab.capture('c', { filter: 'ip proto 112 or arp' });
    await sleep(1200);
    process.kill(a.proc.pid!, 'SIGHUP');
    await a.proc.waitFor(/Reload complete/, 3000);
    await sleep(1500);
    // Changed: renamed instance (matched by VRID + interface), an eVIP added (not on the wire).
    writeFileSync(a.conf, conf(150, `    virtual_ipaddress_excluded {\n        ${EVIP}/24\n    }`, 'RENAMED'));
    process.kill(a.proc.pid!, 'SIGHUP');
    await pollUntil(() => /Reload complete[\s\S]*Reload complete/.test(a.proc.output), 3000, 'second reload');
    await pollUntil(() => hasAddress(lab, 'a', EVIP), 2000, 'eVIP added on reload');
    await sleep(1500);
    // Broken: nothing changes.
    writeFileSync(a.conf, 'vrrp_instance X {\n  interface eth0\n  virtual_router_id 300\n}\n');
    process.kill(a.proc.pid!, 'SIGHUP');
    await a.proc.waitFor(/New config failed validation/, 3000);
    await sleep(1500);
    const res = await cap.stop();
    const ads = adverts(res.frames).filter((x) => x.src === lab.host('a').ip);
    const gaps = ads.slice(1).map((x, i) => x.tMs - ads[i]!.tMs);
    const maxGap = Math.max(...gaps);
    t.comment(`adverts from a: ${ads.length}, largest gap ${maxGap.toFixed(1)} ms over the three reloads`);
    t.ok(ads.length >= 6, 'adverts kept flowing');
    t.ok(maxGap < 1100, 'no pause longer than the advert interval');
    t.ok(
      ads.every((x) => x.priority === 150),
      'never priority 0',
    );
    t.ok(
      garps(res.frames).some((x) => x.ip === EVIP),
      'GARP for the new eVIP',
    );
    const st = (await control(a, 'status')).status.instances;
    t.same(
      st.map((i: any) => [i.name, i.state]),
      [['RENAMED', 'MASTER']],
      'kept MASTER under its new name',
    );
    t.equal((await instanceStatus(b)).state, 'BACKUP');
    t.ok(await hasAddress(lab, 'a', VIP));
    t.ok(await hasAddress(lab, 'a', EVIP), 'the broken config removed nothing');
    t.notMatch(a.proc.output.slice(a.proc.output.indexOf('Reloading')), /Entering \w+ STATE/, 'no transition after the first reload');
  });

  await t.test('graceful stop of the master after reloads removes VIP and eVIP', async (t) => {
    await a.proc.kill('SIGTERM');
    t.equal(a.proc.exitCode, 0);
    t.notOk(await hasAddress(lab, 'a', VIP));
    t.notOk(await hasAddress(lab, 'a', EVIP));
    await waitState(b, 'MASTER', 3000);
  });
});
