/**
 * vrrpd against keepalived 2.2.7 on the same config and the same events, each in a lab host with a
 * private mount namespace (private /tmp, /var, /run, /etc/keepalived: the host's
 * /var/keepalived, /var/log/keepalived.log and /tmp/keepalived.* are never touched):
 *
 *  1. hooks and FIFOs: notify_* with their argv only, generic notify, sync-group hooks, the
 *     hooks' environment (variables, umask, stdio, own process group), FIFO lines incl.
 *     MASTER_RX_LOWER_PRI and MASTER_PRIORITY/BACKUP_PRIORITY, and the three dump files read by an
 *     exporter-style parser (state, priorities, counters) after the same events;
 *  2. notify_action.sh (the Tencent guide's hook, as test/fixtures/deployments has it) under keepalived, under vrrpd, and vrrpd's
 *     built-in state files for the same transitions: byte for byte apart from timestamps.
 *
 * Root; lab vn-cmp-, 10.235.1.0/24. About 60 s.
 */
import t from 'tap';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { Lab, netnsSkip, pollUntil, sleep } from '../support/netns.js';
import { buildTestAdvert } from '../support/vrrp-packet.js';
import { RawVrrpTransport } from '../../src/io/raw-transport.js';
import { keepalivedUnavailable, startNode, STATE_RE, waitForNth, type Impl, type VrrpNode } from '../support/vrrp-harness.js';
import { requireBuild } from '../support/build-check.js';
import { scenarioText } from '../interop/scenarios.js';
import type { T } from '../interop/pair.js';

const PREFIX = 'vn-cmp-';
const SUBNET = '10.235.1';
const skip = netnsSkip() || keepalivedUnavailable() || requireBuild();
delete process.env.TMPDIR; // both daemons dump to /tmp (the node's private /tmp)

/** One line per run, written in one write(2) so concurrent hooks (keepalived) do not mix. */
const HOOK = `#!/bin/sh
line="HOOK"
for a in "$@"; do line="$line <$a>"; done
echo "$line" >> /tmp/hooks.log
if [ "$1" = master ]; then
  o=$(readlink /proc/$$/fd/1); e=$(readlink /proc/$$/fd/2)
  { echo "umask=$(umask)"; echo "stdin=$(readlink /proc/$$/fd/0)"; echo "stdout=$o"; echo "stderr=$e";
    echo "ownpgid=$( [ "$(ps -o pgid= -p $$ | tr -d ' ')" = "$$" ] && echo yes || echo no)"; echo "uid=$(id -u)";
    env | grep -v '^_=' | sed 's/=.*//' | sort | sed 's/^/env /'; } > /tmp/env-master
fi
`;
const FIFO_READER = `#!/bin/sh
while read -r line; do echo "$line" >> /tmp/fifo-$(basename "$1").log; done < "$1"
`;

function conf(): string {
  return `global_defs {
  router_id CMP
  vrrp_notify_fifo /tmp/vrrp.fifo
  vrrp_notify_fifo_script /etc/keepalived/fifo.sh
  vrrp_notify_priority_changes
  enable_script_security
  script_user root
}
track_file tf1 {
  file /tmp/prio
  weight 1
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority 100
  advert_int 1
  virtual_ipaddress {
    ${SUBNET}.100/24
    ${SUBNET}.101 dev eth0 label eth0:1
  }
  track_file {
    tf1
  }
  notify_master "/etc/keepalived/hook.sh master arg1 'arg 2'"
  notify_backup /etc/keepalived/hook.sh
  notify_fault "/etc/keepalived/hook.sh fault"
  notify_stop "/etc/keepalived/hook.sh stop"
  notify_master_rx_lower_pri "/etc/keepalived/hook.sh rxlower"
  notify /etc/keepalived/hook.sh
}
vrrp_instance VI_2 {
  state BACKUP
  interface eth0
  virtual_router_id 52
  priority 90
  advert_int 1
  virtual_ipaddress {
    ${SUBNET}.102
  }
}
vrrp_instance VI_3 {
  state BACKUP
  interface eth0
  virtual_router_id 53
  priority 80
  advert_int 1
  virtual_ipaddress {
    ${SUBNET}.103
  }
  notify_master "/etc/keepalived/hook.sh vi3master"
}
vrrp_sync_group G1 {
  group {
    VI_2
    VI_3
  }
  notify_master "/etc/keepalived/hook.sh gmaster"
  notify_backup "/etc/keepalived/hook.sh gbackup"
  notify_stop "/etc/keepalived/hook.sh gstop"
  notify /etc/keepalived/hook.sh
}
`;
}

// ---------------------------------------------------------------------------------------------
// An exporter's view of the dump files, modeled on what the common keepalived exporters read.

interface ExporterInstance {
  state: string;
  wantstate: string;
  iface: string;
  vrid: number;
  priority: number;
  effectivePriority: number;
  vips: string[];
  stats: Record<string, number>;
}

const NUM_STATE: Record<number, string> = { 0: 'INIT', 1: 'BACKUP', 2: 'MASTER', 3: 'FAULT' };

function parseData(text: string): Map<string, Partial<ExporterInstance>> {
  const out = new Map<string, Partial<ExporterInstance>>();
  const topo = text.split('------< VRRP Topology >------')[1]?.split(/\n------</)[0] ?? '';
  for (const block of topo.split(/\n(?= VRRP Instance = )/)) {
    const name = / VRRP Instance = (\S+)/.exec(block)?.[1];
    if (!name) continue;
    const field = (k: string): string | undefined => new RegExp(`^\\s+${k} = (.*)$`, 'm').exec(block)?.[1]?.trim();
    const vipBlock = /Virtual IP \(\d+\):\n((?: {5}.*\n?)*)/.exec(block)?.[1] ?? '';
    out.set(name, {
      state: field('State'),
      wantstate: field('Wantstate'),
      iface: field('Interface'),
      vrid: Number(field('Virtual Router ID')),
      priority: Number(field('Priority')),
      effectivePriority: Number(field('Effective priority')),
      vips: vipBlock
        .split('\n')
        .map((l) => l.trim().split(' ')[0]!)
        .filter(Boolean),
    });
  }
  return out;
}

function parseStats(text: string): Map<string, Record<string, number>> {
  const out = new Map<string, Record<string, number>>();
  for (const block of text.split(/^(?=VRRP Instance: )/m)) {
    const name = /^VRRP Instance: (\S+)/.exec(block)?.[1];
    if (!name) continue;
    const sec = (title: string, key: string): number =>
      Number(new RegExp(`${title}:\\n(?:\\s{4}.*\\n)*?\\s{4}${key}: (\\d+)`).exec(block)?.[1]);
    const top = (key: string): number => Number(new RegExp(`^  ${key}: (\\d+)`, 'm').exec(block)?.[1]);
    out.set(name, {
      advert_rcvd: sec('Advertisements', 'Received'),
      advert_sent: sec('Advertisements', 'Sent'),
      become_master: top('Became master'),
      release_master: top('Released master'),
      packet_len_err: sec('Packet Errors', 'Length'),
      ip_ttl_err: sec('Packet Errors', 'TTL'),
      invalid_type_rcvd: sec('Packet Errors', 'Invalid Type'),
      advert_interval_err: sec('Packet Errors', 'Advertisement Interval'),
      addr_list_err: sec('Packet Errors', 'Address List'),
      invalid_authtype: sec('Authentication Errors', 'Invalid Type'),
      authtype_mismatch: sec('Authentication Errors', 'Type Mismatch'),
      auth_failure: sec('Authentication Errors', 'Failure'),
      pri_zero_rcvd: sec('Priority Zero', 'Received'),
      pri_zero_sent: sec('Priority Zero', 'Sent'),
    });
  }
  return out;
}

function parseJson(text: string): Map<string, Partial<ExporterInstance> & { lastTransition: number }> {
  const arr = JSON.parse(text) as Array<{ data: Record<string, unknown>; stats: Record<string, number> }>;
  return new Map(
    arr.map((x) => [
      String(x.data.iname),
      {
        state: NUM_STATE[Number(x.data.state)],
        wantstate: NUM_STATE[Number(x.data.wantstate)],
        iface: String(x.data.ifp_ifname),
        vrid: Number(x.data.vrid),
        priority: Number(x.data.base_priority),
        effectivePriority: Number(x.data.effective_priority),
        vips: ((x.data.vips as string[] | undefined) ?? []).map((v) => v.split(' ')[0]!),
        stats: x.stats,
        lastTransition: Number(x.data.last_transition),
      },
    ]),
  );
}

// ---------------------------------------------------------------------------------------------

async function dump(n: VrrpNode, signal: NodeJS.Signals | number, file: string): Promise<string> {
  const p = n.realPath(file);
  const before = existsSync(p) ? readFileSync(p, 'utf8') : null;
  process.kill(n.proc.pid!, signal);
  await pollUntil(
    () => existsSync(p) && readFileSync(p, 'utf8') !== before && readFileSync(p, 'utf8').length > 0,
    3000,
    `${n.impl} ${file}`,
  );
  await sleep(100);
  return readFileSync(p, 'utf8');
}

interface RunResult {
  hooks: string[];
  env: string;
  fifo: string[];
  data: ReturnType<typeof parseData>;
  stats: ReturnType<typeof parseStats>;
  json: ReturnType<typeof parseJson>;
  dumpAtMs: number;
  log: string;
}

async function scenario(t: T, lab: Lab, impl: Impl): Promise<RunResult> {
  const files = {
    '/etc/keepalived/hook.sh': { content: HOOK, mode: 0o755 },
    '/etc/keepalived/fifo.sh': { content: FIFO_READER, mode: 0o755 },
    '/tmp/prio': { content: '0\n' },
  };
  const n = startNode(lab, { impl, host: 'a', conf: conf(), files, args: impl === 'vrrpd' ? ['-D'] : [] });
  t.teardown(() => n.stop(3000).then(() => {}));
  await waitForNth(n, STATE_RE.master, 0, 10_000);
  await pollUntil(
    () =>
      /Entering MASTER STATE[\s\S]*\(VI_2\) Entering MASTER STATE|\(VI_2\) Entering MASTER STATE[\s\S]*\(VI_1\) Entering MASTER STATE/.test(
        n.log,
      ),
    8000,
    'VI_1 and VI_2 MASTER',
  );
  await sleep(1500);
  // Priority change while MASTER: track_file weight 1 x 5.
  writeFileSync(n.realPath('/tmp/prio'), '5\n');
  await pollUntil(() => /Changing effective priority from 100 to 105/.test(n.log), 5000, 'priority 105');
  // A lower-priority advert for VRID 51 from host b: MASTER_RX_LOWER_PRI.
  const tr = new RawVrrpTransport({ onPacket: () => {} });
  t.teardown(() => tr.closeAll());
  const opened = lab.inNetns('b', () => tr.open('eth0', { groups: [] }));
  t.ok(opened.ok, 'sender socket in b');
  const sent = await tr.send(
    'eth0',
    buildTestAdvert({ srcIp: lab.host('b').ip, dstIp: '224.0.0.18', vrid: 51, priority: 50, vips: [`${SUBNET}.100`, `${SUBNET}.101`] }),
  );
  t.ok(sent.ok, 'lower-priority advert sent');
  await pollUntil(() => readFileSync(n.realPath('/tmp/hooks.log'), 'utf8').includes('<rxlower>'), 3000, 'rxlower hook');
  await sleep(300);
  const dumpAtMs = Date.now();
  const data = parseData(await dump(n, 'SIGUSR1', '/tmp/keepalived.data'));
  const stats = parseStats(await dump(n, 'SIGUSR2', '/tmp/keepalived.stats'));
  const json = parseJson(await dump(n, 36, '/tmp/keepalived.json'));
  const r = await n.stop(5000);
  t.equal(r.killed, false, `${impl} stopped on SIGTERM`);
  await sleep(300);
  const read = (p: string): string => (existsSync(n.realPath(p)) ? readFileSync(n.realPath(p), 'utf8') : '');
  return {
    hooks: read('/tmp/hooks.log').split('\n').filter(Boolean),
    env: read('/tmp/env-master'),
    fifo: read('/tmp/fifo-vrrp.fifo.log').split('\n').filter(Boolean),
    data,
    stats,
    json,
    dumpAtMs,
    log: n.log,
  };
}

t.test('hooks, FIFO lines and dumps: vrrpd vs keepalived 2.2.7', { skip }, async (t) => {
  const lab = await Lab.create(t, { prefix: PREFIX, subnet: SUBNET, hosts: ['a', 'b'] });
  let K: RunResult | undefined;
  let V: RunResult | undefined;
  await t.test('keepalived run', async (t) => {
    K = await scenario(t, lab, 'keepalived');
  });
  await t.test('vrrpd run', async (t) => {
    V = await scenario(t, lab, 'vrrpd');
  });
  if (!K || !V) return;
  const k = K;
  const v = V;

  // 1. Hooks: the same runs with the same argv (keepalived starts them in parallel, so compare sorted).
  t.same([...v.hooks].sort(), [...k.hooks].sort(), 'the same hook runs, each with keepalived argv');
  t.ok(
    k.hooks.includes('HOOK <master> <arg1> <arg 2>') &&
      k.hooks.includes('HOOK') &&
      k.hooks.includes('HOOK <rxlower>') &&
      k.hooks.includes('HOOK <GROUP> <G1> <STOP> <0>'),
    'the reference run covered the cases',
  );
  t.comment(`hooks (vrrpd order): ${v.hooks.join(' | ')}`);
  // Per instance, vrrpd keeps the order (keepalived may not).
  const vi1 = v.hooks.filter((h) => !/G1|vi3master|gmaster|gbackup|gstop/.test(h));
  t.same(
    vi1,
    [
      'HOOK',
      'HOOK <INSTANCE> <VI_1> <BACKUP> <100>',
      'HOOK <master> <arg1> <arg 2>',
      'HOOK <INSTANCE> <VI_1> <MASTER> <100>',
      'HOOK <rxlower>',
      'HOOK <stop>',
      'HOOK <INSTANCE> <VI_1> <STOP> <105>',
    ],
    'VI_1 hooks in order',
  );

  // Environment: same variable names, umask, stdio, own process group, uid.
  t.equal(v.env, k.env, 'hook environment (variable names, umask 0177, stdin/stdout /dev/null, own process group, uid)');
  t.match(k.env, /umask=0177\nstdin=\/dev\/null\nstdout=\/dev\/null\nstderr=\/dev\/null\nownpgid=yes\nuid=0\n/);

  // 2. FIFO: the same lines. keepalived's reader is killed before its STOP lines reach it;
  // vrrpd writes them before closing (compared up to the stop).
  const upToStop = (l: string[]): string[] => l.filter((x) => !/ STOP /.test(x));
  const perName = (l: string[]): Record<string, string[]> => {
    const o: Record<string, string[]> = {};
    for (const x of l) (o[x.split(' ')[1]!] ??= []).push(x);
    return o;
  };
  t.same(perName(upToStop(v.fifo)), perName(upToStop(k.fifo)), 'FIFO lines per instance/group, in order');
  t.same([...upToStop(v.fifo)].sort(), [...upToStop(k.fifo)].sort(), 'the same FIFO lines');
  t.ok(
    k.fifo.includes('INSTANCE "VI_1" MASTER_RX_LOWER_PRI 105') &&
      k.fifo.includes('INSTANCE "VI_1" MASTER_PRIORITY 105') &&
      k.fifo.includes('GROUP "G1" MASTER 0'),
    'reference FIFO has RX_LOWER_PRI, priority and group lines',
  );
  t.same(
    v.fifo.filter((x) => / STOP /.test(x)),
    ['INSTANCE "VI_1" STOP 105', 'INSTANCE "VI_2" STOP 90', 'INSTANCE "VI_3" STOP 80', 'GROUP "G1" STOP 0'],
    'vrrpd: STOP lines before the FIFO closes',
  );
  t.comment(`keepalived FIFO: ${k.fifo.join(' | ')}`);

  // 3. Dumps through the exporter's eyes.
  for (const name of ['VI_1', 'VI_2', 'VI_3']) {
    const pick = (x: Partial<ExporterInstance> | undefined): unknown =>
      x && {
        state: x.state,
        wantstate: x.wantstate,
        iface: x.iface,
        vrid: x.vrid,
        priority: x.priority,
        effectivePriority: x.effectivePriority,
        vips: x.vips,
      };
    t.same(pick(v.data.get(name)), pick(k.data.get(name)), `${name}: keepalived.data fields`);
    t.same(pick(v.json.get(name)), pick(k.json.get(name)), `${name}: keepalived.json data fields`);
    const ks = k.stats.get(name)!;
    const vs = v.stats.get(name)!;
    const { advert_sent: kSent, ...kRest } = ks;
    const { advert_sent: vSent, ...vRest } = vs;
    t.same(vRest, kRest, `${name}: keepalived.stats counters`);
    const vj = v.json.get(name)!.stats ?? {};
    t.same(vj, { ...vs, advert_sent: vj.advert_sent }, `${name}: JSON stats = text stats (but advert_sent, read later)`);
    // advert_sent depends on how long each has been MASTER: one per second since the transition.
    for (const [who, r, sent] of [
      ['keepalived', k, kSent],
      ['vrrpd', v, vSent],
    ] as const) {
      const since = r.dumpAtMs / 1000 - r.json.get(name)!.lastTransition;
      t.ok(Math.abs(sent! - (Math.floor(since) + 1)) <= 1, `${who} ${name}: ${sent} adverts sent in ${since.toFixed(2)} s as MASTER`);
    }
  }
  t.equal(k.stats.get('VI_1')!.advert_rcvd, 1, 'reference: the one lower-priority advert counted');
});

t.test('notify_action.sh and the built-in state files: same bytes for the same transitions', { skip }, async (t) => {
  const lab = await Lab.create(t, { prefix: PREFIX, subnet: SUBNET, hosts: ['a'] });
  const tencent = (ip: string): string => `global_defs {
  router_id LVS_DEVEL
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority 30
  advert_int 1
  unicast_src_ip ${ip}
  unicast_peer {
    ${SUBNET}.250
  }
  virtual_ipaddress {
    ${SUBNET}.135
  }
  notify_master "/etc/keepalived/notify_action.sh MASTER"
  notify_backup "/etc/keepalived/notify_action.sh BACKUP"
  notify_fault "/etc/keepalived/notify_action.sh FAULT"
  notify_stop "/etc/keepalived/notify_action.sh STOP"
  track_interface {
    eth0
  }
}
`;
  const out: Record<string, Record<string, string>> = {};
  for (const impl of ['keepalived', 'vrrpd'] as const) {
    const files = { '/etc/keepalived/notify_action.sh': { content: scenarioText('notify_action.sh'), mode: 0o755 } };
    const n = startNode(lab, {
      impl,
      host: 'a',
      conf: tencent(lab.host('a').ip),
      files,
      args: impl === 'vrrpd' ? ['--state-dir', '/var/vrrpd', '--state-log', '/var/vrrpd/keepalived.log'] : [],
    });
    t.teardown(() => n.stop(3000).then(() => {}));
    await waitForNth(n, STATE_RE.master, 0, 10_000);
    await lab.linkDown('a', 'host');
    await waitForNth(n, STATE_RE.fault, 0, 5000);
    await sleep(300);
    await lab.linkUp('a', 'host');
    await waitForNth(n, STATE_RE.master, 1, 10_000);
    await sleep(500);
    await n.stop(5000);
    await sleep(300);
    const read = (p: string): string => (existsSync(n.realPath(p)) ? readFileSync(n.realPath(p), 'utf8') : '<missing>');
    const noTime = (s: string): string => s.replace(/^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\]/gm, '[T]');
    out[impl] = {
      state: read('/var/keepalived/state'),
      count: read('/var/keepalived/vip_check_failed_count'),
      log: noTime(read('/var/log/keepalived.log')),
    };
    if (impl === 'vrrpd') {
      out['builtin'] = {
        state: read('/var/vrrpd/state'),
        count: read('/var/vrrpd/vip_check_failed_count'),
        log: noTime(read('/var/vrrpd/keepalived.log')),
      };
      t.equal(read('/var/vrrpd/VI_1.state'), 'STOP', 'per-instance state file');
    }
    t.comment(`${impl}: ${JSON.stringify(out[impl])}${impl === 'vrrpd' ? ` built-in: ${JSON.stringify(out['builtin'])}` : ''}`);
  }
  t.same(
    out['keepalived'],
    {
      state: 'STOP',
      count: '0',
      log: '[T]  notify_backup\n[T]  notify_master\n[T]  notify_fault\n[T]  notify_backup\n[T]  notify_master\n[T]  notify_stop\n',
    },
    'keepalived ran notify_action.sh for BACKUP, MASTER, FAULT, BACKUP, MASTER, STOP',
  );
  t.same(out['vrrpd'], out['keepalived'], 'vrrpd runs notify_action.sh with the same result');
  t.same(out['builtin'], out['keepalived'], "vrrpd's built-in state files: the same bytes (timestamps aside)");
});
