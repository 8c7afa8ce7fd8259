/**
 * Fast adverts under garbage-collection load (issue 12, item 5): two vrrpd nodes, VRRPv3 unicast,
 * `advert_int 0.05` (lab `vr-fad-`, 10.237.30.0/24, VIP .100, VRID 52; a priority 150, b 100; no
 * auth) for `--minutes` (default 10), while
 *  - `status` is requested over each node's control socket `--poll-hz` times a second (default 50),
 *    with the project's client (src/control/client.ts `request`), as an exporter would, only faster;
 *  - each node gets SIGHUP (a reload) every `--reload-every` s (default 10; b half a period after a);
 *  - both run a `notify` hook on every transition (it appends its arguments to /tmp/notify.log);
 *  - `--takeovers N` (default 2) scheduled takeovers, spread evenly over the run: the odd ones write
 *    a's config with priority 50 and SIGHUP it (b must take over), the even ones restore 150 (a must
 *    take the VIP back). Nothing else may move the VIP.
 * Both daemons run with node's `--trace-gc`, so the collections the load causes are counted.
 * Reported (after the start-up election):
 *  - every VIP add from `ip -ts monitor address` in both hosts (= an ownership change) and the
 *    scheduled takeover that explains it; unexplained ones fail the run, and so does a scheduled
 *    takeover that did not happen;
 *  - the event-loop lag: the worst `eventLoop.maxLagMs`, `p99Ms` and `lateTimers` in the status
 *    replies (maxLagMs and lateTimers only record lags and late timers over the daemon's warning
 *    threshold, 250 ms in src/cli/compose.ts and src/io/system-clock.ts, so 0 means "none over
 *    250 ms"; p99Ms is node's event-loop delay histogram over the last minute at most); the worst
 *    status round trip; the worst gap between one node's adverts on the wire while it was master
 *    (tcpdump at b's bridge port) and how late that was: the lag that matters at this interval;
 *    the longest GC pause;
 *  - status replies ok / failed, reloads applied (status `reloads`) vs SIGHUPs sent, hook runs vs
 *    state entries in each log, both daemons still running at the end.
 * Usage: node build/bench/fast-advert.js [--minutes 10] [--advert-int 0.05] [--poll-hz 50]
 *          [--reload-every 10] [--takeovers 2] [--json FILE] [--logs DIR] [--version 3]
 *        (`--logs DIR`: each daemon's output, with its --trace-gc lines, and its hook log)
 *        (`--version 2 --advert-int 1`: the same load on VRRPv2 with PASS auth, for comparison)
 *        (`--minutes 1` for a quick try; npm run bench:fast-advert -- --minutes 1)
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { getPriority, loadavg } from 'node:os';
import { join } from 'node:path';
import { BenchLab } from '../test/support/ns-lab.js';
import {
  countMatches,
  maxOverlapMs,
  ownership,
  sleep,
  startAddrMonitor,
  startNode,
  startWireWatch,
  STATE_RE,
  vrrpdUnavailable,
  wallNowMs,
  type AddrMonitor,
  type VrrpNode,
} from '../test/support/vrrp-harness.js';
import {
  advertMs,
  badAdvertInt,
  boundText,
  describe,
  gcPauses,
  masterDownMs,
  masterAdvertGaps,
  Poller,
  type PollStats,
  timedConf,
  wireReader,
  type Timing,
} from './vrrp-timing.js';
import { runIfMain } from './entry.js';

const PREFIX = 'vr-fad-';
const NET = '10.237.30';
const VIP = `${NET}.100`;
const VRID = 52;
const PRIO = { a: 150, b: 100 } as const;
const DEMOTED = 50;
type Host = 'a' | 'b';

interface Options {
  minutes: number;
  timing: Timing;
  pollHz: number;
  reloadEveryS: number;
  takeovers: number;
  json?: string;
  logs?: string;
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    minutes: 10,
    timing: { version: 3, advertIntS: 0.05, versionIn: 'global' },
    pollHz: 50,
    reloadEveryS: 10,
    takeovers: 2,
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const num = (): number => {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v < 0) throw new Error(`${k} needs a number >= 0`);
      return v;
    };
    if (k === '--minutes') o.minutes = num();
    else if (k === '--advert-int') o.timing.advertIntS = num();
    else if (k === '--version') o.timing.version = num() === 2 ? 2 : 3;
    else if (k === '--poll-hz') o.pollHz = Math.max(1, num());
    else if (k === '--reload-every') o.reloadEveryS = Math.max(1, num());
    else if (k === '--takeovers') o.takeovers = Math.floor(num());
    else if (k === '--json') o.json = argv[++i];
    else if (k === '--logs') o.logs = argv[++i];
    else throw new Error(`unknown argument ${k}`);
  }
  const bad = badAdvertInt(o.timing.version, o.timing.advertIntS);
  if (bad) throw new Error(`--advert-int ${o.timing.advertIntS}: ${bad}`);
  return o;
}

const NOTIFY_SH =
  '#!/bin/sh\n# fast-advert: every transition runs this (argv: TYPE NAME STATE PRIORITY)\necho "$(date +%s.%N) $*" >> /tmp/notify.log\n';

function conf(lab: BenchLab, h: Host, priority: number, t: Timing): string {
  const peer: Host = h === 'a' ? 'b' : 'a';
  return timedConf(
    `fad-${h}`,
    {
      state: 'BACKUP',
      vrid: VRID,
      priority,
      vips: [`${VIP}/24`],
      unicastSrc: lab.host(h).ip,
      unicastPeers: [lab.host(peer).ip],
      extra: ['notify /etc/keepalived/notify.sh'],
    },
    t,
    'fad12345',
  );
}

interface Scheduled {
  ms: number;
  action: 'demote a' | 'restore a';
  expect: Host;
}

interface Transition {
  ms: number;
  host: Host;
  explainedBy: string | null;
}

export interface FastAdvertResult {
  options: Options;
  startedAt: string;
  windowMs: number;
  scheduled: (Scheduled & { happened: boolean })[];
  transitions: Transition[];
  vipEvents: Record<Host, { adds: number; dels: number }>;
  maxOverlapMs: number;
  pollers: Record<Host, PollStats>;
  sighups: Record<Host, number>;
  hooks: Record<Host, { runs: number; stops: number; stateEntries: number }>;
  /** os.loadavg() at the start and the end; the daemons' nice value (they inherit this process's). */
  load: { start: number[]; end: number[]; nice: number };
  gaps: ReturnType<typeof masterAdvertGaps>;
  gc: Record<Host, ReturnType<typeof gcPauses>>;
  running: Record<Host, boolean>;
  leakedVips: string[];
}

/** Start a, wait until it is master, then b, and wait until b is a steady backup. */
async function startPair(
  lab: BenchLab,
  o: Options,
  files: Record<string, { content: string; mode: number }>,
): Promise<Record<Host, VrrpNode>> {
  const start = (h: Host): VrrpNode =>
    startNode(lab, { impl: 'vrrpd', host: h, conf: conf(lab, h, PRIO[h], o.timing), files, nodeArgs: ['--trace-gc'] });
  const a = start('a');
  await a.proc.waitFor(STATE_RE.master, 20_000);
  const b = start('b');
  await b.proc.waitFor(STATE_RE.backup, 20_000);
  await sleep(1000);
  return { a, b };
}

/** VIP adds after `from`, each matched to the scheduled takeover that explains it (or none). */
function explain(mons: Record<Host, AddrMonitor>, from: number, scheduled: Scheduled[], t0: number, adv: number): Transition[] {
  const adds = (['a', 'b'] as const)
    .flatMap((host) => mons[host].eventsFor(VIP).map((e) => ({ ...e, host })))
    .filter((e) => e.op === 'add' && e.ms >= from)
    .sort((x, y) => x.ms - y.ms);
  const used = new Set<Scheduled>();
  // A reload is parsed in a worker, then the backup's down timer runs: a few seconds is plenty.
  const window = 3000 + 10 * adv;
  return adds.map((e) => {
    const s = scheduled.find((x) => !used.has(x) && x.expect === e.host && e.ms >= x.ms && e.ms - x.ms <= window);
    if (s) used.add(s);
    return {
      ms: e.ms - t0,
      host: e.host,
      explainedBy: s ? `${s.action} at ${((s.ms - t0) / 1000).toFixed(1)} s (+${(e.ms - s.ms).toFixed(0)} ms)` : null,
    };
  });
}

export async function runFastAdvert(o: Options, log: (s: string) => void): Promise<FastAdvertResult> {
  const lab = await BenchLab.start(PREFIX, NET, ['a', 'b']);
  const timers: NodeJS.Timeout[] = [];
  try {
    const files = { '/etc/keepalived/notify.sh': { content: NOTIFY_SH, mode: 0o755 } };
    const mons = { a: await startAddrMonitor(lab, 'a'), b: await startAddrMonitor(lab, 'b') };
    const wire = await startWireWatch(lab, lab.switchNs, lab.host('b').swPort, 'proto 112');
    const nodes = await startPair(lab, o, files);
    const t0 = wallNowMs();
    const startedAt = new Date().toISOString();
    const loadStart = loadavg();
    const durMs = o.minutes * 60_000;
    log(`${startedAt}: a master, b backup; ${o.minutes} min at advert_int ${o.timing.advertIntS}`);
    const pollers = { a: new Poller(nodes.a.realPath('/run/vrrpd.sock'), t0), b: new Poller(nodes.b.realPath('/run/vrrpd.sock'), t0) };
    pollers.a.start(o.pollHz);
    pollers.b.start(o.pollHz);
    const sighups = { a: 0, b: 0 };
    const hup = (h: Host): void => {
      const pid = nodes[h].proc.pid;
      if (pid !== undefined && nodes[h].proc.running) {
        process.kill(pid, 'SIGHUP');
        sighups[h]++;
      }
    };
    const half = (o.reloadEveryS * 1000) / 2;
    let turn = 0;
    timers.push(setInterval(() => hup(turn++ % 2 === 0 ? 'a' : 'b'), half));
    const scheduled: Scheduled[] = [];
    for (let k = 1; k <= o.takeovers; k++) {
      // Off the reload grid (a quarter period past it), so no periodic SIGHUP lands on the same moment.
      const at = Math.round((k * durMs) / (o.takeovers + 1) / half) * half + half / 2;
      const demote = k % 2 === 1;
      timers.push(
        setTimeout(() => {
          const s: Scheduled = { ms: wallNowMs(), action: demote ? 'demote a' : 'restore a', expect: demote ? 'b' : 'a' };
          scheduled.push(s);
          writeFileSync(nodes.a.realPath('/run/vrrpd.conf'), conf(lab, 'a', demote ? DEMOTED : PRIO.a, o.timing));
          hup('a');
          log(
            `${((s.ms - t0) / 1000).toFixed(1)} s: ${s.action} (priority ${demote ? DEMOTED : PRIO.a}, SIGHUP); ${s.expect} must take over`,
          );
        }, at),
      );
    }
    const minuteTimer = setInterval(() => {
      const p = pollers;
      log(
        `${((wallNowMs() - t0) / 60_000).toFixed(1)} min: status ok ${p.a.ok}/${p.b.ok}, failed ${p.a.failed}/${p.b.failed}, max rtt ${p.a.maxRttMs.toFixed(1)}/${p.b.maxRttMs.toFixed(1)} ms, p99 lag ${p.a.maxP99Ms}/${p.b.maxP99Ms} ms (a/b)`,
      );
    }, 60_000);
    timers.push(minuteTimer);
    await sleep(durMs);
    for (const t of timers) clearInterval(t);
    pollers.a.stop();
    pollers.b.stop();
    await sleep(2500); // the last requests answer or time out
    const end = wallNowMs();
    return await finish({ lab, o, nodes, mons, wire, pollers, sighups, scheduled, t0, end, startedAt, loadStart });
  } finally {
    for (const t of timers) clearInterval(t);
    await lab.destroy();
  }
}

interface FinishInput {
  lab: BenchLab;
  o: Options;
  nodes: Record<Host, VrrpNode>;
  mons: Record<Host, AddrMonitor>;
  wire: Awaited<ReturnType<typeof startWireWatch>>;
  pollers: Record<Host, Poller>;
  sighups: Record<Host, number>;
  scheduled: Scheduled[];
  t0: number;
  end: number;
  startedAt: string;
  loadStart: number[];
}

/** Analyse the run, then stop both daemons and check that neither left the VIP behind. */
async function finish(x: FinishInput): Promise<FastAdvertResult> {
  const { lab, o, nodes, mons, t0, end } = x;
  const adv = advertMs(o.timing);
  const transitions = explain(mons, t0, x.scheduled, t0, adv);
  const scheduled = x.scheduled.map((s) => ({
    ...s,
    happened: transitions.some((t) => t.explainedBy?.startsWith(`${s.action} at ${((s.ms - t0) / 1000).toFixed(1)} s`)),
  }));
  const vipEvents = { a: { adds: 0, dels: 0 }, b: { adds: 0, dels: 0 } };
  for (const h of ['a', 'b'] as const)
    for (const e of mons[h].eventsFor(VIP)) if (e.ms >= t0 && e.ms <= end) vipEvents[h][e.op === 'add' ? 'adds' : 'dels']++;
  const overlap = maxOverlapMs(
    ownership(mons.a.events(), VIP, end).filter((i) => i.to >= t0),
    ownership(mons.b.events(), VIP, end).filter((i) => i.to >= t0),
  );
  const view = wireReader(x.wire.proc)();
  const gaps = masterAdvertGaps(view.adverts, [lab.host('a').ip, lab.host('b').ip], t0, end, adv);
  const running = { a: nodes.a.proc.running, b: nodes.b.proc.running };
  const gc = { a: gcPauses(nodes.a.proc.stdout), b: gcPauses(nodes.b.proc.stdout) };
  const hooks = { a: { runs: 0, stops: 0, stateEntries: 0 }, b: { runs: 0, stops: 0, stateEntries: 0 } };
  await Promise.all([nodes.a.stop(5000), nodes.b.stop(5000)]);
  await sleep(300);
  const leakedVips: string[] = [];
  for (const h of ['a', 'b'] as const) {
    let notify = '';
    try {
      notify = readFileSync(nodes[h].realPath('/tmp/notify.log'), 'utf8');
    } catch {
      // no hook ran
    }
    // Hook runs and state entries over the daemon's whole life (its stop included).
    if (o.logs) {
      mkdirSync(o.logs, { recursive: true });
      writeFileSync(join(o.logs, `${h}.log`), nodes[h].log);
      writeFileSync(join(o.logs, `${h}-notify.log`), notify);
    }
    const runs = notify.split('\n').filter(Boolean);
    hooks[h] = {
      // The instance's STOP at shutdown runs the hook too (as keepalived's does), with no "Entering" line.
      runs: runs.filter((x) => !/ STOP \d+$/.test(x)).length,
      stops: runs.length - runs.filter((x) => !/ STOP \d+$/.test(x)).length,
      stateEntries: countMatches(nodes[h].log, /\(VI_1\) Entering [A-Z]+ STATE/),
    };
    if ((await lab.exec(h, ['ip', '-4', 'addr', 'show', 'dev', 'eth0'])).stdout.includes(`${VIP}/`)) leakedVips.push(`${VIP} on ${h}`);
  }
  return {
    options: o,
    startedAt: x.startedAt,
    load: { start: x.loadStart, end: loadavg(), nice: getPriority() },
    windowMs: end - t0,
    scheduled,
    transitions,
    vipEvents,
    maxOverlapMs: overlap,
    pollers: { a: x.pollers.a.stats(), b: x.pollers.b.stats() },
    sighups: x.sighups,
    hooks,
    gaps,
    gc,
    running,
    leakedVips,
  };
}

const f1 = (n: number): string => (Number.isFinite(n) ? n.toFixed(1) : 'n/a');

export function verdict(r: FastAdvertResult): { ok: boolean; lines: string[] } {
  const lines: string[] = [];
  let ok = true;
  const check = (name: string, pass: boolean, detail: string): void => {
    ok &&= pass;
    lines.push(`- ${pass ? 'PASS' : 'FAIL'}: ${name} (${detail})`);
  };
  const unexplained = r.transitions.filter((t) => t.explainedBy === null);
  check(
    'no takeover other than the scheduled ones',
    unexplained.length === 0,
    `${unexplained.length} unexplained of ${r.transitions.length}`,
  );
  const missed = r.scheduled.filter((s) => !s.happened);
  check('every scheduled takeover happened', missed.length === 0, `${r.scheduled.length - missed.length} of ${r.scheduled.length}`);
  for (const h of ['a', 'b'] as const) {
    const p = r.pollers[h];
    check(
      `${h}: every status request answered`,
      p.failed === 0 && p.ok > 0,
      `ok ${p.ok}, failed ${p.failed}${p.firstError ? ` (${p.firstError})` : ''}`,
    );
    check(`${h}: every SIGHUP reloaded`, p.reloads === r.sighups[h], `status reloads ${p.reloads}, SIGHUPs sent ${r.sighups[h]}`);
    check(
      `${h}: a hook ran for every state entry`,
      r.hooks[h].runs === r.hooks[h].stateEntries,
      `${r.hooks[h].runs} runs (+${r.hooks[h].stops} STOP), ${r.hooks[h].stateEntries} entries`,
    );
    check(`${h}: still running at the end`, r.running[h], r.running[h] ? 'yes' : 'no');
  }
  check('no VIP left after stop', r.leakedVips.length === 0, r.leakedVips.join(', ') || 'none');
  return { ok, lines };
}

export function summary(r: FastAdvertResult): string {
  const o = r.options;
  const t = o.timing;
  const adv = advertMs(t);
  const l: string[] = [
    `Fast adverts under load: 2 vrrpd nodes, unicast, ${describe(t)}, ${f1(r.windowMs / 60_000)} min (started ${r.startedAt})`,
    `Load: status polled ${o.pollHz}/s on each node's control socket, SIGHUP to each node every ${o.reloadEveryS} s, a notify hook per transition, --trace-gc.`,
    `Machine: load average ${r.load.start.map((x) => x.toFixed(2)).join(' ')} at the start, ${r.load.end.map((x) => x.toFixed(2)).join(' ')} at the end; both daemons at nice ${r.load.nice}.`,
    `Protocol: ${boundText(t, PRIO.b)}; a stalled master is taken over after ${f1(masterDownMs(t, PRIO.b))} ms.`,
    '',
    '| figure | a | b |',
    '|---|---:|---:|',
  ];
  const row = (name: string, f: (h: Host) => string): number => l.push(`| ${name} | ${f('a')} | ${f('b')} |`);
  const p = r.pollers;
  row('status replies ok / failed / skipped (4 in flight)', (h) => `${p[h].ok} / ${p[h].failed} / ${p[h].skipped}`);
  row('status round trip: p99 / max, ms', (h) => `${f1(p[h].p99RttMs)} / ${f1(p[h].maxRttMs)}`);
  row('status eventLoop.maxLagMs (worst reported)', (h) => String(p[h].maxLagMs));
  row('status eventLoop.p99Ms (worst reported)', (h) => String(p[h].maxP99Ms));
  row('status eventLoop.lateTimers', (h) => String(p[h].lateTimers));
  row('worst gap between its adverts while master, ms (late by)', (h) => {
    const g = r.gaps[h === 'a' ? 0 : 1]!;
    return g.count ? `${f1(g.maxGapMs)} (+${f1(g.maxGapMs - adv)}) at ${f1(g.atMs / 1000)} s` : 'n/a';
  });
  row(`adverts sent as master (gaps > 2 intervals)`, (h) => {
    const g = r.gaps[h === 'a' ? 0 : 1]!;
    return `${g.count} (${g.over2})`;
  });
  row(
    'GC: scavenges / full, longest pause ms (kind)',
    (h) => `${r.gc[h].scavenges} / ${r.gc[h].full}, ${f1(r.gc[h].maxPauseMs)} (${r.gc[h].maxKind})`,
  );
  row('reloads applied (status) / SIGHUPs sent', (h) => `${p[h].reloads} / ${r.sighups[h]}`);
  row(
    'notify hook runs (+ STOP at shutdown) / state entries in the log',
    (h) => `${r.hooks[h].runs} (+${r.hooks[h].stops}) / ${r.hooks[h].stateEntries}`,
  );
  row('VIP adds / dels (ip monitor, in the window)', (h) => `${r.vipEvents[h].adds} / ${r.vipEvents[h].dels}`);
  l.push('', `VIP ownership changes: ${r.transitions.length}; longest time both held the VIP: ${f1(r.maxOverlapMs)} ms.`);
  for (const x of r.transitions) l.push(`- ${f1(x.ms / 1000)} s: VIP to ${x.host}: ${x.explainedBy ?? 'UNEXPLAINED'}`);
  for (const s of r.scheduled.filter((y) => !y.happened)) l.push(`- scheduled ${s.action} produced no takeover by ${s.expect}`);
  const steps = (['a', 'b'] as const).flatMap((h) => p[h].lagSteps.map((s) => `${h} ${f1(s.lagMs)} ms at ${f1(s.ms / 1000)} s`));
  l.push('', `maxLagMs increases seen in status: ${steps.join(', ') || 'none'}.`);
  const v = verdict(r);
  l.push('', ...v.lines, '', v.ok ? 'PASS' : 'FAIL');
  return l.join('\n');
}

async function main(argv: string[]): Promise<number> {
  const o = parseArgs(argv);
  if (process.getuid?.() !== 0) throw new Error('run as root (network namespaces)');
  const why = vrrpdUnavailable();
  if (why) throw new Error(why);
  const r = await runFastAdvert(o, (s) => void process.stderr.write(`${s}\n`));
  process.stdout.write(`\n${summary(r)}\n`);
  if (o.json) writeFileSync(o.json, `${JSON.stringify(r, null, 2)}\n`);
  return verdict(r).ok ? 0 : 1;
}

runIfMain(import.meta.url, main, { stack: true });
