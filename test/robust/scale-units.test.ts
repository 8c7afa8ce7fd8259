/**
 * Regression (found by bench/scale.ts at 1,000 instances): every link/address event made each
 * instance copy the whole address list and test the interface address against every instance's
 * VIPs, O(instances^2 x addresses) per event; with 1,000 instances the 1,000 VIP adds of a takeover
 * kept the daemon busy for minutes (90 % CPU, adverts missed, failover not done after 30 s).
 * On fake ports: 1,000 instances, 300 address events, bounded time (measured under load from other
 * jobs: 15.6 s before the fix, 2.1 s after).
 */
import t from 'tap';
import { loadConfig } from '../../src/config/load.js';
import { Daemon } from '../../src/runtime/daemon.js';
import { MemoryLog } from '../../src/log.js';
import { memoryHost } from '../support/config-host.js';
import { FakeIo, withTestNotifier } from '../runtime/fake-io.js';
import { scaleConf, vipOf } from '../../bench/scale.js';

t.test('1,000 instances: an address event costs O(instances), not O(instances^2)', async (t) => {
  const N = 1000;
  const IF = 4;
  const r = loadConfig('/etc/keepalived/keepalived.conf', memoryHost({ '/etc/keepalived/keepalived.conf': scaleConf('b', N, IF, 100) }));
  if (!r.config) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  const io = new FakeIo();
  for (let k = 1; k < IF; k++) io.addLink(`eth${k}`, 2 + k, `10.237.${4 + k}.2`);
  for (let i = 0; i < 1000; i++)
    io.addrs.push({
      ifindex: 2,
      address: `10.99.${i >> 8}.${i & 255}`,
      prefixLen: 32,
      peer: undefined,
      broadcast: undefined,
      scope: 0,
      label: 'eth0',
      secondary: false,
    });
  const d = new Daemon(withTestNotifier({ io, log: new MemoryLog(), vipDeleted: 'restore' }));
  const st = await d.start(r.config);
  t.ok(st.ok);
  const t0 = performance.now();
  for (let i = 0; i < 300; i++) io.deleteAddress(`10.99.${i >> 8}.${i & 255}`);
  await d.queue.idle();
  const ms = performance.now() - t0;
  t.comment(`300 address events with ${N} instances and ~${io.addrs.length + 300} addresses: ${ms.toFixed(0)} ms`);
  t.ok(ms < 9000, `bounded (${ms.toFixed(0)} ms; was O(N^2 x A) per event)`);
  t.equal(d.status().instances.filter((i) => i.state === 'BACKUP').length, N, 'all instances still BACKUP');
});

t.test('1,000 instances: 1,000 VIP address events (a mass takeover or release) skip the source pass', async (t) => {
  const N = 1000;
  const IF = 4;
  const r = loadConfig('/etc/keepalived/keepalived.conf', memoryHost({ '/etc/keepalived/keepalived.conf': scaleConf('b', N, IF, 100) }));
  if (!r.config) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  const io = new FakeIo();
  for (let k = 1; k < IF; k++) io.addLink(`eth${k}`, 2 + k, `10.237.${4 + k}.2`);
  const d = new Daemon(withTestNotifier({ io, log: new MemoryLog(), vipDeleted: 'restore' }));
  t.ok((await d.start(r.config)).ok);
  for (let i = 0; i < N; i++)
    io.addrs.push({
      ifindex: 2,
      address: vipOf(i),
      prefixLen: 32,
      peer: undefined,
      broadcast: undefined,
      scope: 0,
      label: 'eth0',
      secondary: false,
    });
  const t0 = performance.now();
  for (let i = 0; i < N; i++) io.deleteAddress(vipOf(i));
  await d.queue.idle();
  const ms = performance.now() - t0;
  t.comment(`${N} VIP delete events with ${N} instances: ${ms.toFixed(0)} ms (before 2e09fdc: 5.4 s)`);
  t.ok(ms < 3000, `bounded (${ms.toFixed(0)} ms)`);
  t.equal(d.status().instances.filter((i) => i.state === 'BACKUP').length, N, 'all instances still BACKUP');
});
