/**
 * Pure runtime pieces: config -> params on the shipped examples and the example deployments
 * (test/fixtures/deployments), demux, reload
 * matching, strtol, rate limiting, log output and redaction.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config/load.js';
import { instanceSpecs, SOURCE_TRACKER } from '../../src/runtime/params.js';
import { demux } from '../../src/runtime/demux.js';
import { listDiff, planReload } from '../../src/runtime/reload-diff.js';
import { strtol } from '../../src/runtime/track-inputs.js';
import { createLog, ctime, RateLimiter } from '../../src/log.js';
import { encodeAdvert } from '../../src/protocol/advert.js';
import { buildIpv4Packet } from '../../src/protocol/ipv4-header.js';
import { memoryHost } from '../support/config-host.js';

function specsOf(path: string) {
  const text = readFileSync(path, 'utf8');
  const r = loadConfig('/etc/keepalived/keepalived.conf', memoryHost({ '/etc/keepalived/keepalived.conf': text }));
  if (!r.config) throw new Error(`${path}: ${r.diagnostics.map((d) => d.message).join('; ')}`);
  return instanceSpecs(r.config);
}

t.test('params: conf/keepalived.conf.cloud-unicast', async (t) => {
  const [s] = specsOf('conf/keepalived.conf.cloud-unicast');
  t.ok(s);
  if (!s) return;
  t.equal(s.unicast, true);
  t.equal(s.configuredSrcIp, '10.0.0.11');
  t.same(
    s.peers.map((p) => p.address),
    ['10.0.0.12'],
  );
  t.equal(s.authType, 1);
  t.equal(s.authPass, 'vrrpd-01');
  const p = s.params;
  t.match(p, { vrid: 51, basePriority: 100, nopreempt: true, adverIntMs: 1000, srcIp: '10.0.0.11', vips: ['10.0.0.100'] });
  t.match(p.garp, { masterDelayMs: 1000, masterRepeat: 3, masterRefreshMs: 5000 });
  t.same(
    p.trackInterfaces.map((i) => [i.name, i.weight]),
    [
      [SOURCE_TRACKER, 0],
      ['eth0', 0],
      ['eth1', 0],
    ],
    'source, own interface and track_interface, all weight 0',
  );
  t.equal(s.vipEntries[0]?.label, 'eth0:vip');
  t.equal(s.matchKey, '51|4|eth0|unicast|10.0.0.11');
  t.same(Object.keys(s.notify).sort(), ['backup', 'fault', 'master', 'stop']);
});

const deployment = (name: string): string => fileURLToPath(new URL(`../fixtures/deployments/${name}`, import.meta.url));

t.test('params: multicast example and the Alibaba pair', async (t) => {
  const [m] = specsOf('conf/keepalived.conf.multicast');
  t.ok(m && !m.unicast && m.mcastGroup === '224.0.0.18' && m.configuredSrcIp === null);
  t.equal(m?.params.srcIp, '0.0.0.0', 'resolved from the interface at run time');
  const [master] = specsOf(deployment('alibaba-havip-snat-master.keepalived.conf'));
  const [backup] = specsOf(deployment('alibaba-havip-snat-backup.keepalived.conf'));
  t.equal(master?.params.initialState, 'MASTER');
  t.equal(master?.params.basePriority, 100);
  t.equal(backup?.params.basePriority, 99);
  t.equal(master?.vipEntries[0]?.label, 'eth0:snat');
  const [tencent] = specsOf(deployment('tencent-havip.keepalived.conf'));
  t.ok(tencent, 'the Tencent guide config maps (its unknown track_script is ignored)');
  t.equal(tencent?.params.trackScripts.length, 0);
});

t.test('params: dont_track_primary, VIP on another interface, script and file joins', async (t) => {
  const text = `vrrp_script chk {\n  script /bin/true\n  weight -10\n  rise 2\n  fall 3\n}\ntrack_file tf {\n  file /tmp/x\n  weight 5\n}\nvrrp_instance V {\n  interface eth0\n  dont_track_primary\n  virtual_router_id 9\n  priority 100\n  virtual_ipaddress {\n    10.1.0.1/24 dev eth1\n    10.2.0.1/24 dev eth2 no_track\n  }\n  track_script {\n    chk weight 30\n  }\n  track_file {\n    tf\n  }\n}\n`;
  const r = loadConfig('/k.conf', memoryHost({ '/k.conf': text }));
  const [s] = instanceSpecs(r.config!);
  t.same(
    s?.params.trackInterfaces.map((i) => i.name),
    [SOURCE_TRACKER, 'eth1'],
    'no own interface; VIP interface tracked unless no_track',
  );
  t.match(s?.params.trackScripts[0], { name: 'chk', weight: 30, rise: 2, fall: 3 });
  t.match(s?.params.trackFiles[0], { name: 'tf', weight: 5 });
  t.same(s?.params.noTrackAddresses, ['10.2.0.1']);
});

const pkt = (src: string, dst: string, vrid: number): Buffer =>
  buildIpv4Packet({
    srcIp: src,
    dstIp: dst,
    ttl: 255,
    id: 1,
    payload: encodeAdvert({ vrid, priority: 100, authType: 0, adverIntSec: 1, vips: [] }),
  });

t.test('demux by interface, VRID, destination and source', async (t) => {
  const targets = [
    { id: 'm51', ifname: 'eth0', vrid: 51, unicast: false, srcIp: '10.0.0.1', mcastGroup: '224.0.0.18', peers: [] },
    { id: 'u51a', ifname: 'eth0', vrid: 51, unicast: true, srcIp: '10.0.0.1', mcastGroup: '224.0.0.18', peers: [{ address: '10.0.0.2' }] },
    { id: 'u51b', ifname: 'eth0', vrid: 51, unicast: true, srcIp: '10.0.0.1', mcastGroup: '224.0.0.18', peers: [{ address: '10.0.0.3' }] },
    { id: 'm51e1', ifname: 'eth1', vrid: 51, unicast: false, srcIp: '10.1.0.1', mcastGroup: '224.0.0.18', peers: [] },
  ];
  const pick = (ifname: string, p: Buffer): string => {
    const r = demux(targets, ifname, p);
    return r.kind === 'instance' ? r.target.id : r.kind;
  };
  t.equal(pick('eth0', pkt('10.0.0.2', '224.0.0.18', 51)), 'm51');
  t.equal(pick('eth1', pkt('10.1.0.2', '224.0.0.18', 51)), 'm51e1', 'same VRID on another interface is another router');
  t.equal(pick('eth0', pkt('10.0.0.2', '10.0.0.1', 51)), 'u51a', 'unicast duplicate VRIDs: the source picks');
  t.equal(pick('eth0', pkt('10.0.0.3', '10.0.0.1', 51)), 'u51b');
  t.equal(pick('eth0', pkt('10.0.0.2', '224.0.0.18', 52)), 'unknown-vrid');
  t.equal(pick('eth0', Buffer.from([0x45, 0])), 'malformed');
  const only = [targets[0]!];
  t.equal(
    demux(only, 'eth0', pkt('10.0.0.2', '10.0.0.1', 51)).kind,
    'instance',
    'kind mismatch still reaches the instance (codec counts it)',
  );
});

t.test('reload matching and list diff', async (t) => {
  const plan = planReload(
    [
      { matchKey: 'a', n: 1 },
      { matchKey: 'b', n: 2 },
    ],
    [
      { matchKey: 'b', n: 3 },
      { matchKey: 'c', n: 4 },
    ],
  );
  t.same(
    plan.kept.map(([o, n]) => [o.n, n.n]),
    [[2, 3]],
  );
  t.same(
    plan.removed.map((x) => x.n),
    [1],
  );
  t.same(
    plan.added.map((x) => x.n),
    [4],
  );
  t.same(listDiff([1, 2, 3], [2, 3, 4], String), { gone: [1], added: [4] });
});

t.test('strtol semantics for track files', async (t) => {
  t.equal(strtol('42'), 42);
  t.equal(strtol('  -17abc'), -17);
  t.equal(strtol('+5\n'), 5);
  t.equal(strtol('abc'), 0);
  t.equal(strtol(''), 0);
  t.equal(strtol('99999999999'), 2147483647);
});

t.test('rate limiter: first logged, then one per window with the suppressed count', async (t) => {
  const r = new RateLimiter(1000);
  t.same(r.check('k', 0), { suppressed: 0 });
  t.equal(r.check('k', 10), null);
  t.equal(r.check('k', 20), null);
  t.same(r.check('other', 20), { suppressed: 0 });
  t.same(r.check('k', 1001), { suppressed: 2 });
});

t.test('log: console lines keepalived-style, JSON with fixed keys, secrets censored', async (t) => {
  // keepalived's ctime format pads a one-digit day with a space: each case on a fixed date, so the
  // test means the same on the 2nd of a month as on the 25th (issue 9).
  for (const [at, want] of [
    [new Date(2026, 11, 2, 4, 48, 56), 'Wed Dec  2 04:48:56 2026: (VI_1) Entering MASTER STATE\n'],
    [new Date(2026, 10, 25, 23, 5, 9), 'Wed Nov 25 23:05:09 2026: (VI_1) Entering MASTER STATE\n'],
    [new Date(2027, 0, 9, 0, 0, 0), 'Sat Jan  9 00:00:00 2027: (VI_1) Entering MASTER STATE\n'],
    [new Date(2027, 0, 10, 12, 0, 0), 'Sun Jan 10 12:00:00 2027: (VI_1) Entering MASTER STATE\n'],
  ] as const) {
    const lines: string[] = [];
    const c = createLog({ console: true, write: (l) => lines.push(l), now: () => at });
    c.child({ instance: 'VI_1' }).info({ state: 'MASTER' }, '(VI_1) Entering MASTER STATE');
    c.debug({}, 'hidden without -D');
    t.same(lines, [want], want.trim());
  }
  t.equal(ctime(new Date(2026, 10, 24, 2, 25, 4)), 'Tue Nov 24 02:25:04 2026');
  const json: string[] = [];
  const j = createLog({ write: (l) => json.push(l), detail: true });
  j.child({ instance: 'VI_1', vrid: 51 }).info(
    { state: 'BACKUP', reason: 'init', authPass: 'secret12' },
    '(VI_1) Entering BACKUP STATE (init)',
  );
  const o = JSON.parse(json[0]!);
  t.match(o, { level: 'info', instance: 'VI_1', vrid: 51, state: 'BACKUP', reason: 'init', msg: '(VI_1) Entering BACKUP STATE (init)' });
  t.notOk(json[0]!.includes('secret12'), 'auth_pass censored');
});
