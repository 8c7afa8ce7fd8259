/**
 * Root, real network: (1) a notify_master hook that sleeps 60 s does not delay vrrpd's adverts
 * (their cadence on the wire stays 1 s), holds back the same instance's next hook (order), and
 * does not hold up a graceful stop (its process group is killed); (2) the Alibaba HaVip SNAT
 * deployment's hooks (test/fixtures/deployments: ha_vip_start.sh / ha_vip_stop.sh) add and flush the iptables NAT rules in the
 * nodes' namespaces on failover, run by vrrpd on both nodes.
 *
 * Each node runs in a private mount namespace (hooks write /tmp/log inside it). Labs vn-hw-
 * (10.235.2.0/24) and vn-ali- (10.235.3.0/24). About 35 s.
 */
import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { Lab, netnsSkip, pollUntil, sleep } from '../support/netns.js';
import { requireBuild } from '../support/build-check.js';
import { startNode, startWireWatch, STATE_RE, waitForNth } from '../support/vrrp-harness.js';
import { rewriteAddresses, scenarioText } from '../interop/scenarios.js';

const skip = netnsSkip() || requireBuild();

function iptablesMissing(): false | string {
  try {
    execFileSync('iptables', ['--version'], { stdio: 'ignore' });
    return false;
  } catch {
    return 'iptables is not installed (apt-get install iptables)';
  }
}

t.test('a hook sleeping 60 s delays no advert, keeps per-instance order, and dies at stop', { skip }, async (t) => {
  const lab = await Lab.create(t, { prefix: 'vn-hw-', subnet: '10.235.2', hosts: ['a', 'b'] });
  const rec = '#!/bin/sh\necho "$*" >> /tmp/rec.log\n';
  const conf = `vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 61
  priority 100
  advert_int 1
  virtual_ipaddress {
    10.235.2.100/24
  }
  notify_master "/etc/keepalived/hang.sh"
  notify /etc/keepalived/rec.sh
}
`;
  const files = {
    '/etc/keepalived/hang.sh': { content: '#!/bin/sh\necho $$ > /tmp/hang.pid\nsleep 60\n', mode: 0o755 },
    '/etc/keepalived/rec.sh': { content: rec, mode: 0o755 },
  };
  const wire = await startWireWatch(lab, 'b', 'eth0', 'proto 112');
  const n = startNode(lab, { impl: 'vrrpd', host: 'a', conf, files });
  t.teardown(() => n.stop(3000).then(() => {}));
  await waitForNth(n, STATE_RE.master, 0, 10_000);
  await pollUntil(() => existsSync(n.realPath('/tmp/hang.pid')), 3000, 'the hook started');
  const hangPid = Number(readFileSync(n.realPath('/tmp/hang.pid'), 'utf8'));
  const t0 = Date.now();
  await sleep(6000);
  const adverts = wire.view().adverts.filter((a) => a.src === lab.host('a').ip && a.ms >= t0 - 1000);
  const gaps = adverts.slice(1).map((a, i) => a.ms - adverts[i]!.ms);
  t.ok(adverts.length >= 6, `${adverts.length} adverts in the 6 s the hook slept`);
  t.ok(
    gaps.every((g) => g > 900 && g < 1100),
    `advert gaps while the hook hangs: ${gaps.map((g) => g.toFixed(0)).join(', ')} ms`,
  );
  t.same(
    readFileSync(n.realPath('/tmp/rec.log'), 'utf8').trim().split('\n'),
    ['INSTANCE VI_1 BACKUP 100'],
    'the MASTER notify waits behind the running notify_master',
  );
  t.doesNotThrow(() => process.kill(hangPid, 0), 'notify_master still running');
  const tStop = Date.now();
  const r = await n.stop(5000);
  t.equal(r.killed, false, 'vrrpd stopped on SIGTERM');
  t.ok(Date.now() - tStop < 3000, `stop took ${Date.now() - tStop} ms with a hung hook`);
  await sleep(200);
  t.throws(() => process.kill(hangPid, 0), "the hung hook's process is gone");
  await wire.stop();
});

t.test(
  'Alibaba HaVip SNAT: ha_vip_start.sh / ha_vip_stop.sh add and flush iptables NAT rules on failover',
  { skip: skip || iptablesMissing() },
  async (t) => {
    const lab = await Lab.create(t, { prefix: 'vn-ali-', subnet: '10.235.3', hosts: ['a', 'b'] });
    const vip = '10.235.3.200';
    const map = { '172.18.5.11': lab.host('a').ip, '172.18.5.12': lab.host('b').ip, '172.18.5.100': vip };
    const hooks = {
      '/etc/keepalived/scripts/ha_vip_start.sh': { content: scenarioText('ha_vip_start.sh'), mode: 0o755 },
      '/etc/keepalived/scripts/ha_vip_stop.sh': { content: scenarioText('ha_vip_stop.sh'), mode: 0o755 },
    };
    const confM = rewriteAddresses(scenarioText('alibaba-havip-snat-master.keepalived.conf'), map);
    const confB = rewriteAddresses(scenarioText('alibaba-havip-snat-backup.keepalived.conf'), map);
    const snat = async (h: string): Promise<string[]> =>
      (await lab.exec(h, ['iptables', '-t', 'nat', '-S', 'POSTROUTING'])).stdout.split('\n').filter((l) => l.startsWith('-A'));
    // The hook is the example deployment's, unchanged: it SNATs to the deployment's HaVip address.
    const EXPECTED = [
      '-A POSTROUTING -d 100.64.0.0/10 -j RETURN',
      '-A POSTROUTING -d 10.0.0.0/8 -j RETURN',
      '-A POSTROUTING -s 172.18.0.0/16 ! -p vrrp -j SNAT --to-source 172.18.5.100',
    ];
    const waitRules = async (h: string, want: string[], ms: number): Promise<void> => {
      let last: string[] = [];
      await pollUntil(async () => JSON.stringify((last = await snat(h))) === JSON.stringify(want), ms, `${h} rules ${want.length}`).catch(
        (e: Error) => {
          throw new Error(`${e.message}; ${h} has ${JSON.stringify(last)}`);
        },
      );
    };

    const M = startNode(lab, { impl: 'vrrpd', host: 'a', conf: confM, files: hooks });
    t.teardown(() => M.stop(3000).then(() => {}));
    await waitForNth(M, STATE_RE.backupInit, 0, 8000);
    const B = startNode(lab, { impl: 'vrrpd', host: 'b', conf: confB, files: hooks });
    t.teardown(() => B.stop(3000).then(() => {}));
    await waitForNth(M, STATE_RE.master, 0, 8000);
    await waitRules('a', EXPECTED, 3000);
    t.same(await snat('a'), EXPECTED, 'master: ha_vip_start.sh added the SNAT rules (in its namespace)');
    t.same(await snat('b'), [], 'backup: ha_vip_stop.sh flushed (no rules)');

    await lab.linkDown('a', 'switch');
    await waitForNth(B, STATE_RE.master, 0, 6000);
    await waitRules('b', EXPECTED, 3000);
    await waitRules('a', [], 3000);
    t.same(await snat('b'), EXPECTED, 'failover: the new master added the rules');
    t.same(await snat('a'), [], 'the old master (FAULT) flushed them');

    await lab.linkUp('a', 'switch');
    await waitForNth(M, STATE_RE.master, 1, 8000);
    await waitRules('a', EXPECTED, 3000);
    await waitRules('b', [], 3000);
    t.pass('preempted back: rules follow the VIP');
    const log = readFileSync(B.realPath('/tmp/log'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split(';')[0]);
    t.same(log, ['stop', 'start', 'stop'], 'backup node hook log: backup(init), master, backup');
    // The host's own NAT table was never touched.
    const hostRules = execFileSync('iptables', ['-t', 'nat', '-S', 'POSTROUTING'], { encoding: 'utf8' });
    t.notMatch(hostRules, /172\.18\.5\.100/, 'no rule leaked to the host namespace');
  },
);
