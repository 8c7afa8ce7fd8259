/**
 * track_process fed by the kernel's process events (src/runtime/track-process.ts, on a fake
 * ProcessEvents and a fake process table): the choice of source (events after a scan at start;
 * /proc every second when the subscription fails, is refused or is not confirmed, said once with
 * the reason), what each event does to the counts, the rescan after lost events, unsubscribing at
 * stop, the effect on an instance through the shipped Trackers, and what status shows (count and
 * source per tracked process). No root.
 */
import t from 'tap';
import { MemoryLog } from '../../src/log.js';
import { defaultTrackProcess, type TrackProcess } from '../../src/config/model.js';
import type { ProcEntry } from '../../src/runtime/ports/index.js';
import { PROCESS_EVENTS_ACK_MS, PROCESS_RESYNC_MS, PROCESS_SCAN_MS, ProcessWatch } from '../../src/runtime/track-process.js';
import { readFileSync } from 'node:fs';
import { formatInstance } from '../../src/cli/status.js';
import type { TrackReport } from '../../src/control/protocol.js';
import { buildReport } from '../../src/control/report.js';
import { Daemon } from '../../src/runtime/daemon.js';
import { validate } from '../control/json-schema.js';
import { configFromText } from '../support/config-host.js';
import { FakeIo, withTestNotifier } from './fake-io.js';
import { CONN_REFUSED, FakeProcEvents } from './fake-proc-events.js';
import { trackersSetup } from './trackers-setup.js';

const SCHEMA = JSON.parse(readFileSync(new URL('../../src/control/status.schema.json', import.meta.url), 'utf8')) as Record<
  string,
  unknown
>;

const def = (o: Partial<TrackProcess> = {}): TrackProcess => ({
  ...defaultTrackProcess('tp', { file: 'x', line: 1 }),
  process: 'haproxy',
  ...o,
});
const proc = (pid: number, comm: string, argv: string[] = [comm]): ProcEntry => ({
  pid,
  comm: comm.slice(0, 15),
  zombie: false,
  cmdline: argv.map((a) => `${a}\0`).join(''),
});

function watch() {
  const io = new FakeIo();
  const log = new MemoryLog();
  const events = new FakeProcEvents();
  const changes: [string, boolean][] = [];
  let lists = 0;
  const table = {
    list: () => (lists++, io.procs),
    entry: (pid: number) => io.procs.find((p) => p.pid === pid),
  };
  const w = new ProcessWatch({ clock: io.clock, log, table, events, onChange: (n, q) => void changes.push([n, q]) });
  return { io, log, events, changes, w, lists: () => lists };
}

const sourceLines = (log: MemoryLog) => log.lines.filter((l) => /track_process: (reading|listening)/.test(l.msg));

t.test('the connector works: subscribed, one scan at start, then no periodic scan', async (t) => {
  const s = watch();
  s.io.procs = [proc(10, 'haproxy')];
  s.w.sync([def()]);
  t.equal(s.events.starts, 1, 'subscribed');
  t.equal(s.lists(), 1, 'one scan at start');
  t.equal(s.w.source, 'events');
  t.equal(s.w.quorum('tp'), true, 'counted from the scan');
  s.events.ack();
  t.same(
    sourceLines(s.log).map((l) => [l.level, l.msg]),
    [['info', "track_process: listening to the kernel's process events (proc connector); /proc read at start"]],
    'the source said once',
  );
  s.io.procs = [];
  s.io.fake.advance(10 * PROCESS_SCAN_MS);
  t.equal(s.lists(), 1, 'no scan afterwards');
  t.same(s.changes, [], 'a process gone without an event is not seen: the events are the source');
  s.events.emit({ kind: 'exit', pid: 10, tgid: 10 });
  t.same(s.changes, [['tp', false]], 'its exit is');
  s.events.ack();
  t.equal(sourceLines(s.log).length, 1, 'still said once');
  s.w.stop();
  t.equal(s.events.stops, 1, 'unsubscribed at stop');
  t.notOk(s.events.subscribed);
});

t.test('each event: fork, exec, comm, exit; threads ignored', async (t) => {
  const s = watch();
  s.io.procs = [proc(10, 'haproxy'), proc(20, 'bash')];
  s.w.sync([def({ quorum: 2 }), def({ name: 'full', process: '/usr/sbin/nginx', fullCommand: true })]);
  s.events.ack();
  t.same(s.w.state('tp'), { count: 1, quorum: false, pending: false, source: 'events' });
  s.events.emit({ kind: 'fork', parentTgid: 10, childPid: 11, childTgid: 10 });
  t.equal(s.w.state('tp')?.count, 1, 'a new thread is not a process');
  s.events.emit({ kind: 'fork', parentTgid: 20, childPid: 21, childTgid: 21 });
  t.equal(s.w.state('tp')?.count, 1, 'the child of an untracked process is not counted');
  s.events.emit({ kind: 'fork', parentTgid: 10, childPid: 12, childTgid: 12 });
  t.same(s.w.state('tp'), { count: 2, quorum: true, pending: false, source: 'events' }, "a tracked process's child counts");
  t.same(s.changes, [['tp', true]]);
  // pid 21 execs haproxy: read again from the table
  s.io.procs = [proc(10, 'haproxy'), proc(12, 'haproxy'), proc(20, 'bash'), proc(21, 'haproxy')];
  s.events.emit({ kind: 'exec', pid: 21, tgid: 21 });
  t.equal(s.w.state('tp')?.count, 3, 'an exec into the name counts');
  s.events.emit({ kind: 'exec', pid: 22, tgid: 21 });
  t.equal(s.w.state('tp')?.count, 3, "a thread's exec is not looked at");
  s.io.procs = [proc(10, 'haproxy'), proc(12, 'sleep'), proc(20, 'bash'), proc(21, 'haproxy')];
  s.events.emit({ kind: 'exec', pid: 12, tgid: 12 });
  t.equal(s.w.state('tp')?.count, 2, 'an exec into another program stops counting');
  s.events.emit({ kind: 'exec', pid: 99, tgid: 99 });
  t.equal(s.w.state('tp')?.count, 2, 'an exec of a process already gone changes nothing');
  s.events.emit({ kind: 'comm', pid: 21, tgid: 21, comm: 'worker' });
  t.same(s.w.state('tp'), { count: 1, quorum: false, pending: false, source: 'events' }, 'a comm change away from the name stops counting');
  s.events.emit({ kind: 'comm', pid: 20, tgid: 20, comm: 'haproxy' });
  t.same(s.w.state('tp'), { count: 2, quorum: true, pending: false, source: 'events' }, 'a comm change to the name counts');
  // full_command: argv[0]; a comm event does not touch it
  s.io.procs.push(proc(30, 'nginx', ['/usr/sbin/nginx', '-g']));
  s.events.emit({ kind: 'exec', pid: 30, tgid: 30 });
  t.equal(s.w.state('full')?.count, 1, 'full_command: counted from the cmdline read after exec');
  s.events.emit({ kind: 'comm', pid: 30, tgid: 30, comm: 'other' });
  t.equal(s.w.state('full')?.count, 1, 'full_command: a comm change is not a command change');
  s.events.emit({ kind: 'exit', pid: 31, tgid: 30 });
  t.equal(s.w.state('full')?.count, 1, "a thread's exit is not the process's");
  s.events.emit({ kind: 'exit', pid: 30, tgid: 30 });
  t.equal(s.w.state('full')?.count, 0, "the process's exit is");
  s.events.emit({ kind: 'exit', pid: 10, tgid: 10 });
  t.same(s.w.state('tp'), { count: 1, quorum: false, pending: false, source: 'events' }, 'below quorum 2');
  t.same(s.changes, [
    ['tp', true],
    ['tp', false],
    ['tp', true],
    ['full', true],
    ['full', false],
    ['tp', false],
  ]);
  s.w.stop();
});

t.test('delays stay those of the scan: a restart within terminate_delay moves nothing', async (t) => {
  const s = watch();
  s.io.procs = [proc(10, 'haproxy')];
  s.w.sync([def({ terminateDelayMs: 3000, forkDelayMs: 500 })]);
  s.events.ack();
  s.events.emit({ kind: 'exit', pid: 10, tgid: 10 });
  t.equal(s.w.state('tp')?.pending, true, 'terminate_delay running');
  s.io.fake.advance(1500);
  s.io.procs = [proc(11, 'haproxy')];
  s.events.emit({ kind: 'exec', pid: 11, tgid: 11 });
  s.io.fake.advance(5000);
  t.same(s.changes, [], 'back within the delay: nothing');
  s.events.emit({ kind: 'exit', pid: 11, tgid: 11 });
  s.io.fake.advance(2999);
  t.same(s.changes, [], 'not before terminate_delay');
  s.io.fake.advance(1);
  t.same(s.changes, [['tp', false]], 'lost after terminate_delay');
  s.io.procs = [proc(12, 'haproxy')];
  s.events.emit({ kind: 'exec', pid: 12, tgid: 12 });
  s.io.fake.advance(499);
  t.same(s.changes.length, 1, 'fork_delay running');
  s.io.fake.advance(1);
  t.same(s.changes.at(-1), ['tp', true], 'gained after fork_delay');
  s.w.stop();
});

t.test('subscription refused (a network namespace): /proc every second, said once with the errno text', async (t) => {
  const s = watch();
  s.events.failWith = CONN_REFUSED;
  s.io.procs = [proc(10, 'haproxy')];
  s.w.sync([def(), def({ name: 'ng', process: 'nginx' })]);
  t.equal(s.w.source, 'scan');
  t.equal(s.w.quorum('tp'), true, 'counted at start all the same');
  const lines = sourceLines(s.log);
  t.equal(lines.length, 1, 'one line');
  t.equal(lines[0]?.level, 'warn');
  t.match(lines[0]?.msg, /reading \/proc every 1 s \(send\(PROC_CN_MCAST_LISTEN\): errno 111 \(ECONNREFUSED\) - Connection refused\)/);
  s.io.procs = [];
  s.io.fake.advance(PROCESS_SCAN_MS);
  t.same(s.changes, [['tp', false]], 'seen by the next scan');
  t.equal(s.lists(), 2, 'scanning every second');
  // a reload that drops and brings back the tracking: no new attempt, no new line
  s.w.sync([]);
  s.w.sync([def()]);
  t.equal(s.events.starts, 1, 'not tried again');
  t.equal(sourceLines(s.log).length, 1, 'still one line');
  s.io.fake.advance(PROCESS_SCAN_MS);
  t.equal(s.lists(), 4, 'still scanning');
  s.w.stop();
  s.io.fake.advance(5 * PROCESS_SCAN_MS);
  t.equal(s.lists(), 4, 'stopped');
});

t.test('no ack within the wait, or a refusing ack: fall back to scanning', async (t) => {
  const s = watch();
  s.io.procs = [proc(10, 'haproxy')];
  s.w.sync([def()]);
  s.io.fake.advance(PROCESS_EVENTS_ACK_MS - 1);
  t.equal(s.w.source, 'events', 'waiting for the ack');
  s.io.procs = [];
  s.io.fake.advance(1);
  t.equal(s.w.source, 'scan', 'no ack: scanning');
  t.equal(s.events.stops, 1, 'unsubscribed');
  t.same(s.changes, [['tp', false]], 'scanned at once');
  t.match(sourceLines(s.log)[0]?.msg, /did not confirm PROC_CN_MCAST_LISTEN within 1000 ms/);
  s.w.stop();

  const r = watch();
  r.w.sync([def()]);
  r.events.ack(1);
  t.equal(r.w.source, 'scan', 'ack with an error: scanning');
  t.match(sourceLines(r.log)[0]?.msg, /refused PROC_CN_MCAST_LISTEN: error 1/);
  t.equal(sourceLines(r.log).length, 1);
  r.w.stop();

  const n = new ProcessWatch({ clock: s.io.clock, log: new MemoryLog(), table: s.io.procTable, onChange: () => {} });
  n.sync([def()]);
  t.equal(n.source, 'scan', 'no events port: scanning');
  n.stop();
});

t.test('lost events: /proc read again after PROCESS_RESYNC_MS, the events meanwhile used', async (t) => {
  const s = watch();
  s.io.procs = [proc(10, 'haproxy')];
  s.w.sync([def({ quorum: 2 })]);
  s.events.ack();
  s.io.procs = [proc(10, 'haproxy'), proc(11, 'haproxy'), proc(12, 'haproxy')];
  s.events.emit({ kind: 'overrun' });
  s.events.emit({ kind: 'overrun' });
  t.equal(s.log.messages('warn').filter((m) => m.includes('process events were lost')).length, 1, 'warned once');
  s.events.emit({ kind: 'exit', pid: 10, tgid: 10 });
  s.io.procs = [proc(11, 'haproxy'), proc(12, 'haproxy')];
  s.io.fake.advance(PROCESS_RESYNC_MS - 1);
  t.same(s.changes, [], 'not before the wait');
  t.equal(s.lists(), 1);
  s.io.fake.advance(1);
  t.equal(s.lists(), 2, 'read again');
  t.same(s.changes, [['tp', true]], 'the processes started unseen are counted');
  s.events.emit({ kind: 'exit', pid: 12, tgid: 12 });
  t.same(s.changes.at(-1), ['tp', false], 'and followed by their events afterwards');
  s.io.fake.advance(10 * PROCESS_SCAN_MS);
  t.equal(s.lists(), 2, 'no periodic scan after a resync');
  s.w.stop();
});

t.test('stop with nothing tracked unsubscribes; tracking again subscribes again', async (t) => {
  const s = watch();
  s.w.sync([def()]);
  s.events.ack();
  s.w.sync([]);
  t.equal(s.events.stops, 1, 'nothing tracked: unsubscribed');
  t.equal(s.w.source, undefined);
  s.io.procs = [proc(5, 'haproxy')];
  s.w.sync([def()]);
  t.equal(s.events.starts, 2, 'subscribed again');
  t.equal(s.w.quorum('tp'), true, 'counted afresh');
  s.events.emit({ kind: 'exit', pid: 5, tgid: 5 });
  t.equal(s.w.quorum('tp'), false, 'events followed');
  t.equal(sourceLines(s.log).length, 1, 'said once');
  s.w.stop();
});

/** One instance tracking haproxy with weight 0 (FAULT without it). */
const WEIGHT0_TP = `vrrp_track_process tp {
  process haproxy
  weight 0
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  priority 100
  track_process {
    tp
  }
  virtual_ipaddress {
    10.0.0.100
  }
}
`;

t.test('through Trackers: weight 0 faults on the exit event and recovers on the exec', async (t) => {
  const text = WEIGHT0_TP;
  const events = new FakeProcEvents();
  const { io, trackers, inst, drain, log } = trackersSetup(text, { procEvents: events });
  io.procs = [proc(5, 'haproxy')];
  trackers.sync();
  trackers.prepare(inst);
  events.ack();
  t.equal(inst.snapshot.tracking.processes.tp, true, 'quorum at start');
  events.emit({ kind: 'exit', pid: 5, tgid: 5 });
  await drain();
  t.equal(inst.snapshot.state, 'FAULT', 'FAULT at the exit event, no scan needed');
  io.procs = [proc(6, 'haproxy')];
  events.emit({ kind: 'exec', pid: 6, tgid: 6 });
  await drain();
  t.not(inst.snapshot.state, 'FAULT', 'out of FAULT at the exec event');
  t.same(
    log.messages('info').filter((m) => m.startsWith('Quorum')),
    ['Quorum lost for tracked process tp', 'Quorum gained for tracked process tp'],
  );
  trackers.stop();
  t.equal(events.stops, 1, 'unsubscribed at stop');
});

t.test('status: each tracked process with its count and source (events, or scan after a fallback)', async (t) => {
  const text = WEIGHT0_TP;
  class EventsIo extends FakeIo {
    readonly procEvents = new FakeProcEvents();
  }
  const io = new EventsIo();
  io.procs = [proc(5, 'haproxy'), proc(6, 'haproxy')];
  const d = new Daemon(withTestNotifier({ io, log: new MemoryLog() }));
  const r = await d.start(configFromText(text));
  if (!r.ok) throw new Error(r.error.message);
  t.teardown(() => d.stop(0));
  io.procEvents.ack();
  const meta = { version: 't', configLoadedAtMs: null, eventLoop: { p50Ms: 0, p99Ms: 0 }, holdFor: () => null, nodeMaintenance: null };
  const row = (): TrackReport | undefined => buildReport(d, meta).instances[0]!.tracked.find((x) => x.kind === 'process');
  t.match(row(), { name: 'tp', status: 'quorum', count: 2, source: 'events', pending: false }, 'the proc connector, 2 running');
  t.match(formatInstance(buildReport(d, meta).instances[0]!, 0), /^track process: +tp quorum \(weight 0: 0\), 2 running, proc connector$/m);
  io.procs = [proc(6, 'haproxy')];
  io.procEvents.emit({ kind: 'exit', pid: 5, tgid: 5 });
  await d.queue.idle();
  t.match(row(), { count: 1, source: 'events' }, 'an exit event: 1 running');
  // A refusing ack: the watch falls back to reading /proc, and status says so.
  io.procEvents.ack(111);
  await d.queue.idle();
  t.match(row(), { count: 1, source: 'scan' }, 'after the fallback: scan');
  t.match(formatInstance(buildReport(d, meta).instances[0]!, 0), /^track process: +tp quorum \(weight 0: 0\), 1 running, polling \/proc$/m);
  t.same(validate(SCHEMA, buildReport(d, meta)), [], 'the report validates against the schema');
});
