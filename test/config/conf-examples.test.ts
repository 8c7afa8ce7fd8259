/**
 * The annotated example configs in conf/ load with no diagnostic at all, on a host with
 * eth0..eth3 (keepalived 2.2.7 -t also exits 0 on them; checked in a namespace when they were written).
 */
import t from 'tap';
import { readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config/load.js';
import { oracleHost } from '../support/config-host.js';

const confDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../conf');
const files = readdirSync(confDir).filter((f) => f.startsWith('keepalived.conf.'));
t.ok(files.length >= 2, 'conf/ has the cloud and multicast examples');
for (const f of files) {
  t.test(f, async (t) => {
    const r = loadConfig(join(confDir, f), oracleHost());
    // not counted: the notice that a hook is not installed on this machine (keepalived -t is silent on it)
    t.same(
      r.diagnostics.filter((d) => d.exitClass !== 'none').map((d) => `${d.line}: ${d.message}`),
      [],
      'no diagnostics',
    );
    t.equal(r.exitCode, 0);
    t.ok(r.config, 'a model');
    t.ok(r.config!.instances.length >= 1);
  });
}

t.test('the cloud example is a unicast nopreempt pair with GARP refresh, track_interface and hooks', async (t) => {
  // its hook /etc/keepalived/notify_action.sh is not installed here: without the script check the
  // model keeps it (with the check it is removed, as keepalived removes a missing script)
  const r = loadConfig(join(confDir, 'keepalived.conf.cloud-unicast'), { ...oracleHost(), scriptFs: undefined });
  const i = r.config!.instances[0]!;
  t.equal(i.unicastSrcIp, '10.0.0.11');
  t.same(
    i.unicastPeers.map((p) => p.address),
    ['10.0.0.12'],
  );
  t.equal(i.nopreempt, true);
  t.equal(r.config!.global.vrrpGarpMasterRefreshMs, 5000);
  t.equal(i.garpMasterRefreshMs, 5000, 'global refresh copied into the instance');
  t.same(i.trackInterfaces, [{ name: 'eth1', weight: 0, reverse: false }]);
  t.same(i.notify.master?.argv, ['/etc/keepalived/notify_action.sh', 'MASTER']);
  t.equal(i.virtualIpaddress[0]?.label, 'eth0:vip');
});
