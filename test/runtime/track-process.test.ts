/**
 * Process tracking (src/runtime/track-process.ts): which processes count, the quorum from their
 * number, the fork and terminate delays on the injected clock, the scan on its interval, and the
 * effect on instances (FAULT with weight 0, priority with a weight) through the shipped Trackers
 * and Instance on a fake process table. No root.
 */
import t from 'tap';
import { MemoryLog } from '../../src/log.js';
import { makeInstanceParams } from '../../src/protocol/instance-params.js';
import { evaluateTracking, initialTrackingState, trackerShare } from '../../src/protocol/tracking.js';
import { defaultTrackProcess, type TrackProcess } from '../../src/config/model.js';
import { Daemon } from '../../src/runtime/daemon.js';
import { formatData } from '../../src/runtime/dumps.js';
import { instanceSpecs } from '../../src/runtime/params.js';
import type { ProcEntry } from '../../src/runtime/ports/index.js';
import { cmdlineBytesFor, PROCESS_SCAN_MS, ProcessQuorum, ProcessWatch, processMatches } from '../../src/runtime/track-process.js';
import { FakeClock } from '../support/fake-clock.js';
import { configFromText } from '../support/config-host.js';
import { trackersSetup } from './trackers-setup.js';
import { advanceDaemon, FakeIo, withTestNotifier } from './fake-io.js';

const def = (o: Partial<TrackProcess> = {}): TrackProcess => ({
  ...defaultTrackProcess('tp', { file: 'x', line: 1 }),
  process: 'haproxy',
  ...o,
});
const proc = (pid: number, comm: string, argv: string[] = [comm], zombie = false): ProcEntry => ({
  pid,
  comm: comm.slice(0, 15),
  zombie,
  cmdline: argv.map((a) => `${a}\0`).join(''),
});

t.test('matching: comm (15 characters), zombies, full_command, param_match', async (t) => {
  t.ok(processMatches(def(), proc(1, 'haproxy')), 'comm equal');
  t.notOk(processMatches(def(), proc(1, 'haproxy', ['haproxy'], true)), 'a zombie does not count');
  t.notOk(processMatches(def(), proc(1, 'haproxy2')), 'another comm');
  const long = 'averyveryverylongname';
  t.notOk(processMatches(def({ process: long }), proc(1, long)), 'a name over 15 characters never matches a comm');
  t.ok(processMatches(def({ process: long, fullCommand: true }), proc(1, long)), 'full_command matches argv[0]');
  const full = def({ process: '/usr/sbin/nginx', fullCommand: true });
  t.ok(processMatches(full, proc(1, 'nginx', ['/usr/sbin/nginx', '-g', 'daemon off;'])), 'full_command: arguments not looked at');
  t.notOk(processMatches(full, proc(1, 'nginx', ['nginx'])), 'full_command: argv[0] must be the whole path');
  const args = (paramMatch: TrackProcess['paramMatch'], params: string[] | null) =>
    def({ process: 'sleep', fullCommand: true, paramMatch, params });
  const sleep = (...a: string[]) => proc(1, 'sleep', ['sleep', ...a]);
  t.ok(processMatches(args('exact', ['1000']), sleep('1000')), 'exact: same arguments');
  t.notOk(processMatches(args('exact', ['1000']), sleep('1000', 'x')), 'exact: no more arguments');
  t.notOk(processMatches(args('exact', ['1000']), sleep('10000')), 'exact: whole arguments');
  t.ok(processMatches(args('exact', null), sleep()), 'exact without arguments: a process with none');
  t.notOk(processMatches(args('exact', null), sleep('1')), 'exact without arguments: not one with some');
  t.ok(processMatches(args('partial', ['1000']), sleep('1000', 'x')), 'partial: configured arguments first');
  t.notOk(processMatches(args('partial', ['100']), sleep('1000')), 'partial: whole arguments');
  t.ok(processMatches(args('initial', ['a', '100']), sleep('a', '1000', 'z')), 'initial: the last one may be a prefix');
  t.notOk(processMatches(args('initial', ['ab', '100']), sleep('a', '1000')), 'initial: the others whole');
  t.ok(processMatches(args('partial', null), sleep('q')), 'partial without arguments: any');
  t.equal(cmdlineBytesFor([args('exact', ['1000']), def()]), 'sleep'.length + 1 + 5 + 1, 'cmdline read: name, arguments and one byte more');
  t.equal(cmdlineBytesFor([def()]), 0, 'comm only: cmdline not read');
});

t.test('quorum and quorum_max; fork and terminate delays on the clock', async (t) => {
  const clock = new FakeClock(0);
  const mono = {
    nowMs: () => clock.now(),
    setTimer: (ms: number, fn: () => void) => ({
      cancel: (
        (id) => () =>
          clock.cancel(id)
      )(clock.setTimeout(fn, ms)),
    }),
  };
  const changes: boolean[] = [];
  const log = new MemoryLog();
  const q = new ProcessQuorum(def({ quorum: 2, quorumMax: 3, terminateDelayMs: 2000, forkDelayMs: 500 }), 2, {
    clock: mono as never,
    log,
    onChange: (_n, v) => void changes.push(v),
  });
  t.equal(q.quorum, true, '2 in [2:3]: quorum at start, without delay');
  q.observe(1);
  t.same(changes, [], 'lost, but terminate_delay runs');
  clock.advance(1999);
  q.observe(2);
  t.same(changes, [], 'back within the delay: nothing');
  t.notOk(q.pending, 'the delay was dropped');
  clock.advance(5000);
  t.same(changes, [], 'still nothing later');
  q.observe(1);
  clock.advance(2000);
  t.same(changes, [false], 'quorum lost after terminate_delay');
  t.match(
    log.lines.map((l) => l.msg),
    ['Quorum lost for tracked process tp'],
    "keepalived's line",
  );
  q.observe(3);
  clock.advance(499);
  t.same(changes, [false], 'fork_delay running');
  clock.advance(1);
  t.same(changes, [false, true], 'gained after fork_delay');
  q.observe(4);
  clock.advance(500);
  t.same(changes, [false, true, false], 'above quorum_max: lost after fork_delay (the count went up)');
  const now = new ProcessQuorum(def(), 0, { clock: mono as never, log, onChange: (_n, v) => void changes.push(v) });
  now.observe(1);
  t.same(changes.at(-1), true, 'no delay: at once');
});

t.test('the watch scans on its interval, once for every block, and logs the polling once', async (t) => {
  const io = new FakeIo();
  const log = new MemoryLog();
  const changes: [string, boolean][] = [];
  let scans = 0;
  const w = new ProcessWatch({
    clock: io.clock,
    log,
    table: { list: () => (scans++, io.procs) },
    onChange: (n, v) => void changes.push([n, v]),
  });
  io.procs = [proc(10, 'haproxy')];
  w.sync([def(), def({ name: 'ng', process: 'nginx' })]);
  t.equal(scans, 1, 'one scan at start for both');
  t.same([w.quorum('tp'), w.quorum('ng')], [true, false], 'initial quorums');
  t.equal(log.lines.filter((l) => l.msg.includes('reading /proc every 1 s')).length, 1, 'says it polls /proc');
  io.procs = [proc(11, 'nginx')];
  io.fake.advance(PROCESS_SCAN_MS - 1);
  t.same(changes, [], 'not before the interval');
  io.fake.advance(1);
  t.same(
    changes,
    [
      ['tp', false],
      ['ng', true],
    ],
    'one scan: both changes',
  );
  w.sync([def()]);
  t.equal(w.quorum('ng'), undefined, 'a block no longer used is dropped');
  w.stop();
  io.fake.advance(10 * PROCESS_SCAN_MS);
  t.equal(scans, 2, 'stopped: no more scans');
  t.equal(log.lines.filter((l) => l.msg.includes('reading /proc')).length, 1, 'said once');
});

t.test("the share: weight 0 is a FAULT without quorum, weights as keepalived's", async (t) => {
  t.same(trackerShare(0, false, false), { fault: true, add: 0 });
  t.same(trackerShare(0, false, true), { fault: false, add: 0 });
  t.same(trackerShare(0, true, true), { fault: true, add: 0 }, 'reverse: FAULT with the quorum');
  t.same(trackerShare(10, false, true), { fault: false, add: 10 });
  t.same(trackerShare(10, false, false), { fault: false, add: 0 });
  t.same(trackerShare(-10, false, false), { fault: false, add: -10 });
  t.same(trackerShare(-10, false, true), { fault: false, add: 0 });
  t.same(trackerShare(10, true, true), { fault: false, add: -10 }, 'reverse: takes W off while held');
  const params = makeInstanceParams({
    vrid: 1,
    srcIp: '10.0.0.1',
    basePriority: 100,
    trackProcesses: [{ name: 'a', weight: 20, reverse: false }],
  });
  const st = initialTrackingState(params);
  t.equal(evaluateTracking(params, st).effectivePriority, 100, 'no quorum yet: nothing added');
  t.equal(evaluateTracking(params, { ...st, processes: { a: true } }).effectivePriority, 120, 'quorum: +20');
});

const CONF = (weight: string) => `vrrp_track_process tp {
  process haproxy
  quorum 1
  ${weight}
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  priority 100
  advert_int 1
  track_process {
    tp
  }
  virtual_ipaddress {
    10.0.0.100
  }
}
`;

const setup = (text: string) => trackersSetup(text);

t.test('weight 0: the instance goes to FAULT when the process dies, back when it returns', async (t) => {
  const s = setup(CONF('weight 0'));
  s.io.procs = [proc(5, 'haproxy')];
  s.trackers.sync();
  s.trackers.prepare(s.inst);
  t.equal(s.inst.snapshot.tracking.processes.tp, true, 'quorum recorded at start');
  s.io.procs = [];
  s.io.fake.advance(PROCESS_SCAN_MS);
  await s.drain();
  t.equal(s.inst.snapshot.state, 'FAULT', 'FAULT');
  s.io.procs = [proc(6, 'haproxy')];
  s.io.fake.advance(PROCESS_SCAN_MS);
  await s.drain();
  t.not(s.inst.snapshot.state, 'FAULT', 'out of FAULT');
  t.same(
    s.log.lines.filter((l) => l.msg.startsWith('Quorum')).map((l) => l.msg),
    ['Quorum lost for tracked process tp', 'Quorum gained for tracked process tp'],
  );
  s.trackers.stop();
});

t.test('a weight moves the priority instead', async (t) => {
  const s = setup(CONF('weight -30'));
  s.trackers.sync();
  s.trackers.prepare(s.inst);
  t.equal(s.inst.snapshot.effectivePriority, 70, 'no haproxy at start: 100 - 30');
  s.io.procs = [proc(5, 'haproxy')];
  s.io.fake.advance(PROCESS_SCAN_MS);
  await s.drain();
  t.equal(s.inst.snapshot.effectivePriority, 100, 'haproxy runs: 100');
  t.not(s.inst.snapshot.state, 'FAULT');
  s.trackers.stop();
});

t.test('daemon: a reload that adds track_process to a kept MASTER applies the quorum at once', async (t) => {
  const io = new FakeIo();
  const log = new MemoryLog();
  const d = new Daemon(withTestNotifier({ io, log }));
  t.teardown(() => d.stop(0));
  const plain = CONF('weight 0').replace(/  track_process \{\n    tp\n  \}\n/, '');
  const r = await d.start(configFromText(plain));
  if (!r.ok) throw new Error(r.error.message);
  await advanceDaemon(d, io, 3609);
  t.equal(d.status().instances[0]!.state, 'MASTER');
  io.procs = [proc(7, 'haproxy')];
  await d.reload(configFromText(CONF('weight 0')));
  await advanceDaemon(d, io, 1);
  t.equal(d.status().instances[0]!.state, 'MASTER', 'haproxy runs: still MASTER');
  io.procs = [];
  await advanceDaemon(d, io, PROCESS_SCAN_MS);
  t.equal(d.status().instances[0]!.state, 'FAULT', 'haproxy gone: FAULT within a scan');
  t.ok(
    log.messages('info').some((m) => m === 'Quorum lost for tracked process tp'),
    'logged',
  );
  const weighted = configFromText(CONF('weight -20'));
  await d.reload(weighted);
  await advanceDaemon(d, io, 1);
  t.not(d.status().instances[0]!.state, 'FAULT', 'reloaded with a weight: out of FAULT');
  t.equal(d.status().instances[0]!.effectivePriority, 80, 'at 100 - 20');
  const dump = formatData(d.status(), weighted, () => ({ uid: 0, gid: 0 }));
  t.match(dump, /   Tracked processes :\n     tp, weight -20\n/, "keepalived's data dump lines");
});

t.test("references: the instance's weight wins over the block's, the sync group's apply to its members", async (t) => {
  // VI_1 tracks tp itself and tq both itself (weight 3) and through the group (5); VI_2 both (keepalived: the group's weight,
  // unless the instance's is 0)
  const text = `vrrp_track_process tp {
  process haproxy
  weight 10 reverse
}
vrrp_track_process tq {
  process nginx
}
vrrp_sync_group G {
  group {
    VI_1
    VI_2
  }
  track_process {
    tq weight 5
  }
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  track_process {
    tp weight -7
    tq weight 3
  }
  virtual_ipaddress {
    10.0.0.100
  }
}
vrrp_instance VI_2 {
  interface eth0
  virtual_router_id 52
  track_process {
    tp
    tq weight 0
  }
  virtual_ipaddress {
    10.0.0.101
  }
}
`;
  const [a, b] = instanceSpecs(configFromText(text));
  t.same(a!.params.trackProcesses, [
    { name: 'tp', weight: -7, reverse: true },
    { name: 'tq', weight: 5, reverse: false },
  ]);
  t.same(
    b!.params.trackProcesses,
    [
      { name: 'tp', weight: 10, reverse: true },
      { name: 'tq', weight: 0, reverse: false },
    ],
    'tracked by the instance with weight 0 and by the group: stays 0',
  );
  t.same(
    a!.trackProcesses.map((p) => p.name),
    ['tp', 'tq'],
    'the blocks the trackers scan for',
  );
});

t.test('a reload that changes the quorum counts afresh; one that changes the weight keeps the count', async (t) => {
  const io = new FakeIo();
  const log = new MemoryLog();
  const w = new ProcessWatch({ clock: io.clock, log, table: io.procTable, onChange: () => {} });
  io.procs = [proc(1, 'haproxy'), proc(2, 'haproxy')];
  w.sync([def({ quorum: 1, quorumMax: 1 })]);
  t.equal(w.quorum('tp'), false, '2 processes, at most 1: no quorum');
  w.sync([def({ quorum: 1, quorumMax: 2 })]);
  t.equal(w.quorum('tp'), true, 'quorum_max 2 after the reload: quorum at once');
  io.procs = [];
  w.sync([def({ quorum: 1, quorumMax: 2, weight: 5, terminateDelayMs: 5000 })]);
  t.same(w.state('tp'), { count: 2, quorum: true, pending: false, source: 'scan' }, 'only weight and delay changed: the count is kept');
  io.fake.advance(PROCESS_SCAN_MS);
  t.same(w.state('tp'), { count: 0, quorum: true, pending: true, source: 'scan' }, 'and the new terminate_delay applies');
  w.stop();
});
