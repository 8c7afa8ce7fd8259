/**
 * The Prometheus metrics (src/control/metrics.ts) and their HTTP endpoint (metrics-server.ts),
 * without root: a status report as the daemon sends it, rendered and read back with a strict
 * reader of the text format (test/support/prom-text.ts); the endpoint on loopback, scraped with
 * Node's HTTP client.
 */
import t from 'tap';
import { connect } from 'node:net';
import { hookResult, Metrics, METRICS_MIN_RENDER_MS, type MetricsSource } from '../../src/control/metrics.js';
import { METRICS_MAX_CONNECTIONS, MetricsServer } from '../../src/control/metrics-server.js';
import { parseListen } from '../../src/cli/run-args.js';
import { MemoryLog } from '../../src/log.js';
import type { HookRun } from '../../src/runtime/ports/index.js';
import type { StatusReport } from '../../src/control/protocol.js';
import { parseExposition } from '../support/prom-text.js';
import { inst, NOW, report } from '../support/status-fixtures.js';

function source(r: StatusReport, clock = { mono: 0 }): MetricsSource & { calls: number } {
  const src = {
    calls: 0,
    report: async () => {
      src.calls++;
      return r;
    },
    control: () => [
      {
        socket: 'control',
        connections: 2,
        stats: { accepted: 9, overCap: 1, idleClosed: 3, tooLong: 0, refused: 4, answered: 120, paced: 0 },
      },
    ],
    nowMs: () => NOW,
    monoMs: () => clock.mono,
  };
  return src;
}

const hook = (o: Partial<HookRun> = {}): HookRun => ({
  hook: 'notify_master',
  argv: ['/bin/m.sh'],
  state: 'MASTER',
  startedAtMs: NOW,
  durationMs: 30,
  exitCode: 0,
  signal: null,
  timedOut: false,
  ...o,
});

t.test('the report as metrics: vrrpd_* and keepalived exporter names, labels and values', async (t) => {
  const backup = inst({
    name: 'VI_2',
    vrid: 52,
    state: 'BACKUP',
    effectivePriority: 90,
    basePriority: 100,
    vips: [{ address: '10.0.0.200', present: false }],
    tracked: [{ kind: 'script', name: 'chk_b', status: 'ko', weight: 0, contribution: null, fault: true }],
  });
  const m = await Metrics.create(
    source({
      ...report([inst(), backup]),
      sockets: [
        { family: 4, ifname: 'eth0', channel: null, rxPackets: 5100, kernelDrops: 7 },
        { family: 6, ifname: 'eth1', channel: 'ff02::12', rxPackets: 30, kernelDrops: null },
      ],
    }),
  );
  m.observeHook('VI_1', hook());
  m.observeHook('VI_1', hook({ exitCode: 1, durationMs: 2500 }));
  m.observeHook('VI_1', hook({ error: 'not run: unsafe path' }));
  m.observeLag(3);
  m.observeLag(120);
  const e = parseExposition(await m.render());
  t.equal(e.value('vrrpd_instance_state', { instance: 'VI_1', state: 'MASTER' }), 1);
  t.equal(e.value('vrrpd_instance_state', { instance: 'VI_1', state: 'BACKUP' }), 0);
  t.equal(e.value('vrrpd_instance_state', { instance: 'VI_2', state: 'BACKUP' }), 1);
  t.equal(e.find('vrrpd_instance_state', { instance: 'VI_1' }).length, 5, 'one sample per state');
  t.equal(e.value('vrrpd_instance_state_seconds', { instance: 'VI_1' }), 120, 'since 09:58, now 10:00');
  t.equal(e.value('vrrpd_instance_priority', { instance: 'VI_2' }), 90);
  t.equal(e.value('vrrpd_instance_base_priority', { instance: 'VI_2' }), 100);
  t.equal(e.value('vrrpd_instance_master_down_interval_seconds', { instance: 'VI_1' }), 3.57);
  t.equal(e.value('vrrpd_adverts_sent_total', { instance: 'VI_1' }), 120);
  t.equal(e.value('vrrpd_advert_drops_total', { instance: 'VI_1', reason: 'ttl' }), 2);
  t.equal(e.value('vrrpd_transitions_total', { instance: 'VI_1', from: 'BACKUP', to: 'MASTER', cause: 'master_down' }), 1);
  t.equal(e.value('vrrpd_vip_present', { instance: 'VI_2', address: '10.0.0.200', kind: 'vip' }), 0);
  t.equal(e.value('vrrpd_tracker_up', { instance: 'VI_1', kind: 'script', name: 'chk' }), 1);
  t.equal(e.value('vrrpd_tracker_up', { instance: 'VI_2', kind: 'script', name: 'chk_b' }), 0);
  t.equal(e.value('vrrpd_instance_info', { instance: 'VI_2', vrid: '52', interface: 'eth0', version: '2', family: '4' }), 1);
  t.equal(e.value('vrrpd_control_connections', { socket: 'control' }), 2);
  t.equal(e.value('vrrpd_control_refused_total', { socket: 'control', why: 'not_allowed' }), 4);
  t.equal(e.value('vrrpd_build_info', { version: '0.1.0' }), 1);
  t.equal(e.value('vrrpd_socket_received_packets_total', { family: '4', interface: 'eth0', channel: '' }), 5100);
  t.equal(e.value('vrrpd_socket_kernel_drops_total', { family: '4', interface: 'eth0', channel: '' }), 7);
  t.equal(e.value('vrrpd_socket_received_packets_total', { family: '6', interface: 'eth1', channel: 'ff02::12' }), 30);
  t.equal(e.find('vrrpd_socket_kernel_drops_total', { interface: 'eth1' }).length, 0, 'an unreadable drop counter: no sample');
  // hooks and lag, fed as they happen
  t.equal(e.value('vrrpd_hook_runs_total', { instance: 'VI_1', hook: 'notify_master', result: 'ok' }), 1);
  t.equal(e.value('vrrpd_hook_runs_total', { instance: 'VI_1', hook: 'notify_master', result: 'failed' }), 1);
  t.equal(e.value('vrrpd_hook_runs_total', { instance: 'VI_1', hook: 'notify_master', result: 'not_run' }), 1);
  t.equal(e.value('vrrpd_hook_duration_seconds_count', { instance: 'VI_1', hook: 'notify_master' }), 2, 'runs that ran');
  t.equal(e.value('vrrpd_hook_duration_seconds_bucket', { instance: 'VI_1', hook: 'notify_master', le: '0.05' }), 1);
  t.equal(e.value('vrrpd_event_loop_lag_seconds_count'), 2);
  t.equal(e.value('vrrpd_event_loop_lag_seconds_bucket', { le: '0.005' }), 1);
  t.equal(e.value('vrrpd_event_loop_lag_seconds_bucket', { le: '0.25' }), 2);
  // the keepalived exporter's names and labels
  t.equal(e.value('keepalived_up'), 1);
  t.equal(e.value('keepalived_vrrp_state', { iname: 'VI_1', intf: 'eth0', vrid: '51', ip_address: '10.0.0.100' }), 2, 'MASTER is 2');
  t.equal(e.value('keepalived_vrrp_state', { iname: 'VI_2', ip_address: '10.0.0.200' }), 1, 'BACKUP is 1');
  t.equal(e.value('keepalived_advertisements_sent_total', { iname: 'VI_1', intf: 'eth0', vrid: '51', state: 'MASTER' }), 120);
  t.equal(e.value('keepalived_ip_ttl_errors_total', { iname: 'VI_1' }), 2);
  t.equal(e.value('keepalived_become_master_total', { iname: 'VI_1' }), 1);
  t.equal(e.value('keepalived_script_status', { name: 'chk' }), 1);
  t.equal(e.value('keepalived_script_status', { name: 'chk_b' }), 0);
  // conventions
  for (const [name, type] of e.types) {
    t.match(name, /^[a-z_][a-z0-9_]*$/, `${name}: snake case`);
    if (type === 'counter') t.match(name, /_total$/, `${name}: a counter ends in _total`);
    t.ok(e.help.get(name), `${name} has HELP`);
  }
  t.ok(e.find('process_resident_memory_bytes').length === 1, "prom-client's process metrics");
});

t.test('renders are shared within METRICS_MIN_RENDER_MS, and while one runs', async (t) => {
  const clock = { mono: 1000 };
  const src = source(report([inst()]), clock);
  const m = await Metrics.create(src);
  const [a, b] = await Promise.all([m.render(), m.render()]);
  t.equal(src.calls, 1, 'two concurrent scrapes, one report');
  clock.mono += METRICS_MIN_RENDER_MS - 1;
  const c = await m.render();
  t.equal(src.calls, 1, 'within the bound: the same text');
  t.equal(a, c);
  t.equal(a, b);
  clock.mono += 2;
  await m.render();
  t.equal(src.calls, 2, 'after it: a new render');
});

t.test('hook results', async (t) => {
  t.equal(hookResult(hook()), 'ok');
  t.equal(hookResult(hook({ exitCode: 3 })), 'failed');
  t.equal(hookResult(hook({ exitCode: null, signal: 'SIGKILL', timedOut: true })), 'timeout');
  t.equal(hookResult(hook({ exitCode: null, error: 'spawn /x ENOENT' })), 'spawn_error');
  t.equal(hookResult(hook({ exitCode: null, error: 'not run: /x is unsafe' })), 'not_run');
});

t.test('--metrics-listen values', async (t) => {
  t.same(parseListen('127.0.0.1:9650'), { host: '127.0.0.1', port: 9650 });
  t.same(parseListen('[::1]:9650'), { host: '::1', port: 9650 });
  t.same(parseListen(':9650'), { host: '::', port: 9650 });
  t.same(parseListen('localhost:80'), { host: 'localhost', port: 80 });
  for (const bad of ['9650', '127.0.0.1', '127.0.0.1:0', '127.0.0.1:65536', '::1:9650', '[x]:1', 'a b:1'])
    t.match(parseListen(bad), /expected HOST:PORT/, bad);
});

t.test('the endpoint on loopback: GET /metrics, 404, 405, a bounded number of connections', async (t) => {
  const m = await Metrics.create(source(report([inst()])));
  const log = new MemoryLog();
  const server = new MetricsServer({ listen: { host: '127.0.0.1', port: 0 }, metrics: m, log });
  const at = await server.start();
  t.teardown(() => server.close());
  const base = `http://127.0.0.1:${at.port}`;
  const res = await fetch(`${base}/metrics`);
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  t.equal(parseExposition(await res.text()).value('vrrpd_instance_state', { instance: 'VI_1', state: 'MASTER' }), 1);
  t.equal((await fetch(`${base}/other`)).status, 404);
  t.equal((await fetch(`${base}/metrics`, { method: 'POST', body: 'x' })).status, 405);
  t.equal((await fetch(`${base}/metrics`, { method: 'HEAD' })).status, 200);
  // connections over the bound are closed at once, the ones within it stay usable
  const socks = await Promise.all(
    Array.from(
      { length: METRICS_MAX_CONNECTIONS },
      () =>
        new Promise<import('node:net').Socket>((resolve, reject) => {
          const s = connect(at.port, '127.0.0.1', () => resolve(s));
          s.on('error', reject);
        }),
    ),
  );
  t.teardown(() => socks.forEach((s) => s.destroy()));
  const extra = await new Promise<string>((resolve) => {
    const s = connect(at.port, '127.0.0.1', () => s.write('GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n'));
    let got = '';
    s.on('data', (d) => (got += d.toString()));
    s.on('close', () => resolve(got));
    s.on('error', () => resolve(got));
    setTimeout(() => {
      s.destroy();
      resolve('still open');
    }, 3000);
  });
  t.equal(extra, '', `connection ${METRICS_MAX_CONNECTIONS + 1} closed unanswered`);
  socks[0]!.write('GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  const answered = await new Promise<string>((resolve) => {
    let got = '';
    socks[0]!.on('data', (d) => (got += d.toString()));
    socks[0]!.on('close', () => resolve(got));
  });
  t.match(answered, /^HTTP\/1\.1 200 OK/, 'a connection within the bound is served');
});

t.test('an address it cannot listen on rejects with the reason', async (t) => {
  const m = await Metrics.create(source(report([])));
  const a = new MetricsServer({ listen: { host: '127.0.0.1', port: 0 }, metrics: m, log: new MemoryLog() });
  const at = await a.start();
  t.teardown(() => a.close());
  const b = new MetricsServer({ listen: { host: '127.0.0.1', port: at.port }, metrics: m, log: new MemoryLog() });
  await t.rejects(b.start(), /EADDRINUSE/);
});
