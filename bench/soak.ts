/**
 * Soak (issue 6 item 4, issue 10 memory over time): a vrrpd pair (a priority 150, b priority 100,
 * multicast, PASS, advert_int 1; lab `vr-sok-`, 10.237.8.0/24, VIP .100) under random faults from
 * the chaos set for `--minutes` (default 10), one every 4-10 s (seeded):
 *   a: link flap, VIP deleted, SIGHUP, kill -9 + restart, SIGTERM + restart, 2 s SIGSTOP, 4.5 s SIGSTOP;
 *   b: link flap, SIGHUP, 2 s SIGSTOP (b is never restarted, so its memory is one process's whole life).
 * Both run a `notify` hook on every transition and a `vrrp_script` every 2 s, and b's status is read
 * over its control socket every 5 s (as an exporter would), unless `--no-hooks`.
 * `ip -ts monitor address` in both hosts records who held the VIP. Reported:
 *  - split-brain time: total time both held the VIP in overlaps longer than one advert interval,
 *    excluding 4.5 s stalls of the master (a frozen process cannot drop its VIP: expected, listed);
 *  - every VIP add (= a transition to MASTER) and the fault that explains it (the latest fault
 *    within 12 s before it); unexplained transitions;
 *  - memory of b: VmRSS, RssAnon and RssFile sampled every `--rss-every` s (default 10) into
 *    OUT/rss.csv; the least-squares slope after `--warmup` minutes (default 5), with a step allowed
 *    at the first heap snapshot, and its standard error (rss-fit.ts);
 *  - V8 heap snapshots of b at `--heap-at` minutes (default 10, or half-way through a shorter
 *    soak; 0 = none) and at the end, written by node's `--heapsnapshot-signal=SIGWINCH` (given to
 *    b's node only, by this harness: the shipped daemon has no such path), copied to OUT, and
 *    compared (heap-diff.ts) into OUT/heap-diff.md;
 *  - b's garbage collections (node's `--trace-gc`, b only) into OUT/gc.csv: the V8 heap in use
 *    after each full collection is the live JS heap, whatever RSS does around it;
 *  - at the end: both stopped, no VIP and no process left in either namespace.
 * Usage: node build/bench/soak.js [--minutes 10] [--seed 1] [--heap-at 10] [--warmup 5]
 *          [--rss-every 10] [--out DIR] [--json FILE] [--no-hooks] [--lab-prefix vr-sok- --net 10.237.8]
 *          [--b-node-arg --trace-opt ...] (more node options for b; its stdout is then kept in OUT/b-stdout.log)
 *          [--faults a:stall-4.5s,b:flap] (only these faults; a host left out gets none)
 * Both daemons' logs, both address monitors' output and the faults (wall ms, with each stall's
 * actual SIGSTOP and SIGCONT) are kept in OUT/a.log, b.log, addr-a.log, addr-b.log and faults.csv.
 * OUT defaults to /tmp/vr-soak-<start time>; the summary says where everything went.
 */
import { appendFileSync, copyFileSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from '../src/control/client.js';
import { diffFiles } from './heap-diff.js';
import { formatHeapDiff, type HeapDiff } from './heap-snapshot.js';
import { BenchLab, runCmd } from '../test/support/ns-lab.js';
import { prng } from './hostile.js';
import { rssFit, type RssFit } from './rss-fit.js';
import {
  keepalivedConf,
  maxOverlapMs,
  ownership,
  sleep,
  startAddrMonitor,
  startNode,
  vrrpdUnavailable,
  wallNowMs,
  type Interval,
  type VrrpNode,
} from '../test/support/vrrp-harness.js';
import { runIfMain } from './entry.js';

const RSS_CSV_HEADER = 'ms,min,vmrss_mib,rss_anon_mib,rss_file_mib,brk_heap_mib\n';
const rssCsvRow = (x: MemSample): string =>
  `${x.ms.toFixed(0)},${(x.ms / 60_000).toFixed(3)},${x.mib.toFixed(3)},${x.anonMiB.toFixed(3)},${x.fileMiB.toFixed(3)},${x.brkMiB.toFixed(3)}\n`;

const NET = '10.237.8';
type Host = 'a' | 'b';
type FaultKind = 'flap' | 'vip-delete' | 'sighup' | 'kill9-restart' | 'sigterm-restart' | 'stall-2s' | 'stall-4.5s' | 'heap-snapshot';

/** b's node gets this signal for heap snapshots (ignored by default, unused by vrrpd). */
const HEAP_SIGNAL = 'SIGWINCH';
/** RSS samples left out of the fit after a snapshot starts (the snapshot is being written). */
const SNAPSHOT_SETTLE_MS = 30_000;

export interface SoakFault {
  ms: number;
  host: Host;
  kind: FaultKind;
  /**
   * A stall's SIGSTOP and SIGCONT (wall ms). The stop can come later than `ms` (the harness logs the
   * fault first, and a write to a log file on a busy disk can block), and the SIGCONT later than the
   * stop + the stall when the harness's timer ran late.
   */
  stoppedMs?: number;
  resumedMs?: number;
}

/** How long each stall keeps its host stopped (ms). */
const STALL_MS: Partial<Record<FaultKind, number>> = { 'stall-2s': 2000, 'stall-4.5s': 4500 };

const FAULT_KINDS: readonly FaultKind[] = ['flap', 'vip-delete', 'sighup', 'kill9-restart', 'sigterm-restart', 'stall-2s', 'stall-4.5s'];

/** `--faults a:stall-4.5s,b:flap`: the faults each host may get (a host left out gets none). */
export function parseFaultList(text: string): { a: FaultKind[]; b: FaultKind[] } {
  const out: { a: FaultKind[]; b: FaultKind[] } = { a: [], b: [] };
  for (const item of text.split(',').filter(Boolean)) {
    const m = /^(a|b):(.+)$/.exec(item);
    const kind = m?.[2] as FaultKind | undefined;
    if (!m || kind === undefined || !FAULT_KINDS.includes(kind))
      throw new Error(`--faults: '${item}' is not HOST:KIND (HOST a or b; KIND one of ${FAULT_KINDS.join(', ')})`);
    if (m[1] === 'b' && kind.endsWith('restart'))
      throw new Error(`--faults: b is never restarted (its memory is one process's whole life): '${item}'`);
    out[m[1] as Host].push(kind);
  }
  if (out.a.length + out.b.length === 0) throw new Error('--faults: no fault named');
  return out;
}

export interface MemSample {
  /** ms since the soak started. */
  ms: number;
  /** VmRSS, RssAnon, RssFile of b (MiB). */
  mib: number;
  anonMiB: number;
  fileMiB: number;
  /** Resident part of the `[heap]` mapping: malloc's main arena (native memory, not V8's heap). */
  brkMiB: number;
}

/** One garbage collection of b, from node's `--trace-gc` (V8 prints MiB and calls them MB). */
export interface GcSample {
  /** ms since the soak started. */
  ms: number;
  kind: string;
  /** V8 heap in use and committed after the collection (MB). */
  usedMB: number;
  committedMB: number;
}

export interface SoakOptions {
  minutes: number;
  seed: number;
  /** Minute of the first heap snapshot of b (0: no snapshots). The second is taken at the end. */
  heapAtMin?: number;
  /** Samples before this minute are left out of the slope. */
  warmupMin?: number;
  rssEverySec?: number;
  /** Hooks, a vrrp_script and status reads (default true). */
  hooks?: boolean;
  /** Where rss.csv, the snapshots and heap-diff.md go. */
  outDir: string;
  /** A second lab beside a running soak: its own namespace prefix and /24 (default `vr-sok-`, 10.237.8). */
  labPrefix?: string;
  net?: string;
  /** More node options for b (e.g. `--trace-opt --trace-deopt`); b's whole stdout then goes to OUT/b-stdout.log. */
  bNodeArgs?: readonly string[];
  /** The faults each host may get (default: a the whole chaos set, b flap, SIGHUP and the 2 s stall). */
  faultKinds?: { a: readonly FaultKind[]; b: readonly FaultKind[] };
  log?: (s: string) => void;
}

export interface SoakResult {
  minutes: number;
  seed: number;
  outDir: string;
  hooks: boolean;
  faults: SoakFault[];
  faultCounts: Record<string, number>;
  transitions: { ms: number; host: string; explainedBy: string | null }[];
  unexplained: number;
  /**
   * `frozenHolder`: the overlap began while the VIP's holder was stopped (SIGSTOP, up to its actual
   * SIGCONT): it cannot drop the VIP (expected). `startedBy`: the host whose VIP add began it.
   */
  overlaps: { from: number; ms: number; during: string | null; frozenHolder: boolean; startedBy: Host }[];
  splitBrainMs: number;
  maxOverlapMs: number;
  rssB: MemSample[];
  /** b's garbage collections (--trace-gc). */
  gcB: GcSample[];
  /** V8 heap in use after each full (mark-compact) collection, after warm-up: the live JS heap's trend. */
  liveHeapFit: RssFit;
  /** malloc's main arena (`[heap]` RSS), same window. */
  brkFit: RssFit;
  warmupMin: number;
  /** VmRSS after warm-up, a step allowed at the first snapshot. */
  rssFit: RssFit;
  rssAnonFit: RssFit;
  /** VmRSS from warm-up to the first snapshot only (no snapshot has touched the process yet). */
  rssFitBeforeSnapshot: RssFit | null;
  /** VmRSS from the first snapshot (+ settle) to the end only. */
  rssFitAfterSnapshot: RssFit | null;
  /** Kept for the issue-6 summaries: the slope above (MiB/min). */
  rssSlopeMiBPerMin: number;
  snapshots: { ms: number; file: string; writeMs: number }[];
  heapDiff: HeapDiff | null;
  statusReads: { ok: number; failed: number };
  leakedVips: string[];
  leakedProcesses: string[];
  crashes: number;
}

function memMiB(pid: number | undefined): Omit<MemSample, 'ms'> {
  const nan = Number.NaN;
  try {
    const st = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string): number => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(st)?.[1] ?? nan) / 1024;
    let brkMiB = nan;
    try {
      const smaps = readFileSync(`/proc/${pid}/smaps`, 'utf8');
      const at = smaps.search(/ \[heap\]\n/);
      if (at >= 0) brkMiB = Number(/\nRss:\s+(\d+) kB/.exec(smaps.slice(at))?.[1] ?? nan) / 1024;
    } catch {
      // smaps unreadable: brk stays NaN
    }
    return { mib: kb('VmRSS'), anonMiB: kb('RssAnon'), fileMiB: kb('RssFile'), brkMiB };
  } catch {
    return { mib: nan, anonMiB: nan, fileMiB: nan, brkMiB: nan };
  }
}

/** `--trace-gc` lines: `[pid:isolate]  123456 ms: Mark-Compact 9.1 (10.5) -> 8.6 (11.0) MB, ...`. */
export function parseTraceGc(text: string, offsetMs: number): GcSample[] {
  const out: GcSample[] = [];
  const re = /^\[\d+:0x[0-9a-f]+\]\s+(\d+) ms: ([A-Za-z -]+?)(?: \([a-z]+\))? ([\d.]+) \(([\d.]+)\) -> ([\d.]+) \(([\d.]+)\) MB/gm;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    out.push({ ms: Number(m[1]) + offsetMs, kind: m[2]!, usedMB: Number(m[5]), committedMB: Number(m[6]) });
  }
  return out;
}

/** Signal b's node for a heap snapshot and wait until the file is complete; null after `timeoutMs`. */
async function heapSnapshot(node: VrrpNode, timeoutMs = 120_000): Promise<{ path: string; writeMs: number } | null> {
  const dir = node.realPath('/tmp');
  const before = new Set(readdirSync(dir).filter((n) => n.endsWith('.heapsnapshot')));
  const pid = node.proc.pid;
  if (pid === undefined) return null;
  const t0 = wallNowMs();
  process.kill(pid, HEAP_SIGNAL);
  let lastSize = -1;
  while (wallNowMs() - t0 < timeoutMs) {
    await sleep(250);
    const f = readdirSync(dir).find((n) => n.endsWith('.heapsnapshot') && !before.has(n));
    if (f === undefined) continue;
    const path = join(dir, f);
    const size = statSync(path).size;
    // Written in one go on the daemon's thread: complete once it stops growing and is closed JSON.
    if (size > 0 && size === lastSize && readFileSync(path, 'utf8').trimEnd().endsWith('}')) return { path, writeMs: wallNowMs() - t0 };
    lastSize = size;
  }
  return null;
}

/**
 * Every interval in which both a (`ia`) and b (`ib`) held the VIP (wall ms; reported relative to
 * `startedMs`), with the latest fault in the 12 s before it, whether it began while the holder was
 * stopped (between the SIGSTOP and the SIGCONT actually sent), and whose VIP add began it.
 */
export function classifyOverlaps(
  ia: readonly Interval[],
  ib: readonly Interval[],
  faults: readonly SoakFault[],
  startedMs: number,
): SoakResult['overlaps'] {
  const overlaps: SoakResult['overlaps'] = [];
  for (const x of ia)
    for (const y of ib) {
      const from = Math.max(x.from, y.from);
      const to = Math.min(x.to, y.to);
      if (to <= from) continue;
      const cause = [...faults].reverse().find((f) => f.ms <= from + 50 && from - f.ms < 12_000);
      // a stalled node that held the VIP before its stall (the other one took over meanwhile)
      const frozenHolder = faults.some((f) => {
        const stallMs = STALL_MS[f.kind] ?? 0;
        const held = f.host === 'a' ? x : y;
        const stopped = f.stoppedMs ?? f.ms;
        return stallMs > 0 && held.from <= stopped && from >= stopped && from <= (f.resumedMs ?? stopped + stallMs);
      });
      const startedBy: Host = x.from >= y.from ? 'a' : 'b';
      overlaps.push({
        from: from - startedMs,
        ms: to - from,
        during: cause ? `${cause.host} ${cause.kind}` : null,
        frozenHolder,
        startedBy,
      });
    }
  return overlaps;
}

const NOTIFY_SH = '#!/bin/sh\n# soak: every transition runs a hook (argv: INSTANCE NAME STATE PRIORITY)\nexit 0\n';
const CHECK_SH = '#!/bin/sh\nexit 0\n';

export async function runSoak(o: SoakOptions): Promise<SoakResult> {
  const log = o.log ?? ((s: string) => process.stderr.write(`${s}\n`));
  const rnd = prng(o.seed);
  const hooks = o.hooks ?? true;
  const heapAtMs = (o.heapAtMin ?? 10) * 60_000;
  const warmupMin = o.warmupMin ?? 5;
  mkdirSync(o.outDir, { recursive: true });
  const net = o.net ?? NET;
  const VIP = `${net}.100`;
  const lab = await BenchLab.start(o.labPrefix ?? 'vr-sok-', net, ['a', 'b']);
  const timers: NodeJS.Timeout[] = [];
  try {
    const extra = hooks ? ['notify /etc/keepalived/notify.sh', 'track_script {', '  chk', '}'] : [];
    const script = 'vrrp_script chk {\n  script /etc/keepalived/chk.sh\n  interval 2\n  weight 0\n}\n\n';
    const conf = (h: Host): string => {
      const c = keepalivedConf(h, {
        state: 'BACKUP',
        vrid: 61,
        priority: h === 'a' ? 150 : 100,
        vips: [`${VIP}/24`],
        authPass: 'soak1234',
        extra,
      });
      return hooks ? c.replace('vrrp_instance', `${script}vrrp_instance`) : c;
    };
    const files: Record<string, { content: string; mode: number }> = hooks
      ? { '/etc/keepalived/notify.sh': { content: NOTIFY_SH, mode: 0o755 }, '/etc/keepalived/chk.sh': { content: CHECK_SH, mode: 0o755 } }
      : {};
    const monA = await startAddrMonitor(lab, 'a');
    const monB = await startAddrMonitor(lab, 'b');
    const start = (h: Host): VrrpNode =>
      startNode(lab, {
        impl: 'vrrpd',
        host: h,
        conf: conf(h),
        files,
        // b only: a heap snapshot on SIGWINCH, written to its private /tmp.
        ...(h === 'b'
          ? { nodeArgs: [`--heapsnapshot-signal=${HEAP_SIGNAL}`, '--diagnostic-dir=/tmp', '--trace-gc', ...(o.bNodeArgs ?? [])] }
          : {}),
      });
    const bStarted = wallNowMs();
    const nodes: Record<Host, VrrpNode> = { a: start('a'), b: start('b') };
    /** Every incarnation of a (it is restarted), for OUT/a.log. */
    const nodesA: VrrpNode[] = [nodes.a];
    const started = wallNowMs();
    await nodes.a.proc.waitFor(/Entering MASTER STATE/, 20_000);
    const faults: SoakFault[] = [];
    const rssB: MemSample[] = [];
    const statusReads = { ok: 0, failed: 0 };
    const bPid = nodes.b.proc.pid;
    // Sampled on a timer of its own: the fault loop sleeps and stalls irregularly.
    // Each sample is also appended to OUT/rss.csv as it is taken: a soak cut short keeps its curve.
    const rssCsv = join(o.outDir, 'rss.csv');
    writeFileSync(rssCsv, RSS_CSV_HEADER);
    const sample = (): void => {
      const x = { ms: wallNowMs() - started, ...memMiB(bPid) };
      rssB.push(x);
      appendFileSync(rssCsv, rssCsvRow(x));
    };
    sample();
    timers.push(setInterval(sample, (o.rssEverySec ?? 10) * 1000));
    if (hooks) {
      const sock = nodes.b.realPath('/run/vrrpd.sock');
      timers.push(
        setInterval(() => {
          request(sock, { cmd: 'status' }, 3000).then(
            (r) => (r.ok ? statusReads.ok++ : statusReads.failed++),
            () => statusReads.failed++,
          );
        }, 5000),
      );
    }
    const snapshots: SoakResult['snapshots'] = [];
    const snapshot = async (label: string): Promise<void> => {
      const f: SoakFault = { ms: wallNowMs(), host: 'b', kind: 'heap-snapshot' };
      faults.push(f);
      log(`${((f.ms - started) / 1000).toFixed(1)} s: b heap snapshot (${label})`);
      const r = await heapSnapshot(nodes.b);
      if (r === null) {
        log('!! heap snapshot of b did not complete');
        return;
      }
      const file = join(o.outDir, `heap-${label}.heapsnapshot`);
      copyFileSync(r.path, file);
      snapshots.push({ ms: f.ms - started, file, writeMs: r.writeMs });
      log(`   ${file} (${(statSync(file).size / 1048576).toFixed(1)} MiB, ${(r.writeMs / 1000).toFixed(1)} s)`);
    };
    let crashes = 0;
    const endAt = wallNowMs() + o.minutes * 60_000;
    const restart = (h: Host): void => {
      nodes[h] = start(h);
      if (h === 'a') nodesA.push(nodes[h]);
    };
    const stall = async (f: SoakFault, ms: number): Promise<void> => {
      const pid = nodes[f.host].proc.pid;
      if (pid === undefined) return;
      f.stoppedMs = wallNowMs();
      process.kill(pid, 'SIGSTOP');
      await sleep(ms);
      process.kill(pid, 'SIGCONT');
      f.resumedMs = wallNowMs();
      const toStop = f.stoppedMs - f.ms;
      const late = f.resumedMs - f.stoppedMs - ms;
      if (toStop > 100 || late > 100)
        log(`   (the harness ran late: stopped ${toStop.toFixed(0)} ms after the fault's time, resumed ${late.toFixed(0)} ms late)`);
    };
    const kindsA = o.faultKinds?.a ?? FAULT_KINDS;
    const kindsB = o.faultKinds?.b ?? ['flap', 'sighup', 'stall-2s'];
    let heapTaken = heapAtMs <= 0;
    while (wallNowMs() < endAt) {
      for (const h of ['a', 'b'] as const) {
        if (!nodes[h].proc.running && !faults.some((f) => f.host === h && wallNowMs() - f.ms < 3000 && f.kind.endsWith('restart'))) {
          crashes++;
          log(`!! ${h} exited unexpectedly (code ${nodes[h].proc.exitCode}, signal ${nodes[h].proc.exitSignal}); restarting`);
          restart(h);
        }
      }
      if (!heapTaken && wallNowMs() - started >= heapAtMs) {
        heapTaken = true;
        await snapshot(`${o.heapAtMin ?? 10}min`);
        await sleep(4000);
        continue;
      }
      const h: Host = kindsB.length === 0 ? 'a' : kindsA.length === 0 ? 'b' : rnd() < 0.65 ? 'a' : 'b';
      const kinds = h === 'a' ? kindsA : kindsB;
      const kind = kinds[Math.floor(rnd() * kinds.length)]!;
      const f: SoakFault = { ms: wallNowMs(), host: h, kind };
      faults.push(f);
      log(`${((f.ms - started) / 1000).toFixed(1)} s: ${h} ${kind}`);
      const pid = nodes[h].proc.pid;
      switch (kind) {
        case 'flap':
          await lab.exec(h, ['sh', '-c', 'ip link set eth0 down; sleep 0.2; ip link set eth0 up']);
          break;
        case 'vip-delete':
          await lab.exec(h, ['ip', 'addr', 'del', `${VIP}/24`, 'dev', 'eth0'], { allowFail: true });
          break;
        case 'sighup':
          if (pid !== undefined) process.kill(pid, 'SIGHUP');
          break;
        case 'kill9-restart':
          await nodes[h].proc.kill('SIGKILL', 100);
          restart(h);
          break;
        case 'sigterm-restart':
          await nodes[h].stop(5000);
          restart(h);
          break;
        case 'stall-2s':
        case 'stall-4.5s':
          await stall(f, STALL_MS[kind]!);
          break;
        case 'heap-snapshot':
          break;
      }
      await sleep(4000 + Math.floor(rnd() * 6000));
    }
    await sleep(8000); // settle
    const until = wallNowMs();
    for (const t of timers) clearInterval(t);
    timers.length = 0;
    // What explains an overlap: both daemons' logs, who held the VIP when, and the faults (wall ms).
    writeFileSync(join(o.outDir, 'a.log'), nodesA.map((n, i) => `--- a, start ${i + 1}\n${n.log}`).join('\n'));
    writeFileSync(join(o.outDir, 'b.log'), nodes.b.log);
    writeFileSync(join(o.outDir, 'addr-a.log'), monA.proc.stdout);
    writeFileSync(join(o.outDir, 'addr-b.log'), monB.proc.stdout);
    writeFileSync(
      join(o.outDir, 'faults.csv'),
      `wall_ms,soak_ms,host,kind,stopped_wall_ms,resumed_wall_ms\n${faults.map((f) => `${f.ms},${f.ms - started},${f.host},${f.kind},${f.stoppedMs ?? ''},${f.resumedMs ?? ''}`).join('\n')}\n`,
    );
    sample();
    if (heapAtMs > 0) await snapshot('end');
    const ia = ownership(monA.events(), VIP, until);
    const ib = ownership(monB.events(), VIP, until);
    const overlaps = classifyOverlaps(ia, ib, faults, started);
    const splitBrainMs = overlaps.filter((x) => x.ms > 1000 && !x.frozenHolder).reduce((s, x) => s + x.ms, 0);
    const adds = [...monA.events().map((e) => ({ ...e, host: 'a' })), ...monB.events().map((e) => ({ ...e, host: 'b' }))]
      .filter((e) => e.ip === VIP && e.op === 'add' && e.ms > started + 100)
      .sort((x, y) => x.ms - y.ms);
    adds.shift(); // the initial election
    const transitions = adds.map((e) => {
      const cause = [...faults].reverse().find((f) => f.ms <= e.ms && e.ms - f.ms < 12_000);
      return {
        ms: e.ms - started,
        host: e.host,
        explainedBy: cause ? `${cause.host} ${cause.kind} ${((e.ms - cause.ms) / 1000).toFixed(1)} s before` : null,
      };
    });
    // Stop both gracefully; nothing may be left.
    await nodes.a.stop(5000);
    await nodes.b.stop(5000);
    await sleep(500);
    const leakedVips: string[] = [];
    const leakedProcesses: string[] = [];
    for (const h of ['a', 'b'] as const) {
      if ((await lab.exec(h, ['ip', '-4', 'addr', 'show', 'dev', 'eth0'])).stdout.includes(`${VIP}/`)) leakedVips.push(`${VIP} on ${h}`);
      const pids = (await runCmd(['ip', 'netns', 'pids', lab.host(h).ns], { allowFail: true })).stdout.split(/\s+/).filter(Boolean);
      for (const p of pids) {
        let cmd = '';
        try {
          cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
        } catch {
          continue;
        }
        if (!/^ip (-ts )?monitor/.test(cmd)) leakedProcesses.push(`${h}: ${cmd}`);
      }
    }
    const faultCounts: Record<string, number> = {};
    for (const f of faults) faultCounts[`${f.host} ${f.kind}`] = (faultCounts[`${f.host} ${f.kind}`] ?? 0) + 1;
    const all: Interval[] = overlaps.map((x) => ({ from: x.from, to: x.from + x.ms }));
    // Memory: the CSV, the fits, the heap diff.
    const first = snapshots.find((x) => !x.file.endsWith('heap-end.heapsnapshot'));
    const steps = first ? [{ atMs: first.ms, settleMs: SNAPSHOT_SETTLE_MS }] : [];
    const fromMs = warmupMin * 60_000;
    const fit = rssFit(rssB, { fromMs, steps });
    const anonFit = rssFit(
      rssB.map((x) => ({ ms: x.ms, mib: x.anonMiB })),
      { fromMs, steps },
    );
    const afterSnap = first ? rssFit(rssB, { fromMs: first.ms + SNAPSHOT_SETTLE_MS }) : null;
    const beforeSnap = first
      ? rssFit(
          rssB.filter((x) => x.ms < first.ms),
          { fromMs },
        )
      : null;
    const gcB = parseTraceGc(nodes.b.proc.stdout, bStarted - started);
    if ((o.bNodeArgs ?? []).length > 0) writeFileSync(join(o.outDir, 'b-stdout.log'), nodes.b.proc.stdout);
    // A snapshot forces a full collection too: those are live-heap samples like any other.
    const liveHeapFit = rssFit(
      gcB.filter((g) => g.kind.startsWith('Mark')).map((g) => ({ ms: g.ms, mib: g.usedMB })),
      { fromMs },
    );
    const brkFit = rssFit(
      rssB.map((x) => ({ ms: x.ms, mib: x.brkMiB })),
      { fromMs, steps },
    );
    writeFileSync(
      join(o.outDir, 'gc.csv'),
      `ms,min,kind,used_mb,committed_mb\n${gcB.map((g) => `${g.ms.toFixed(0)},${(g.ms / 60_000).toFixed(3)},${g.kind},${g.usedMB},${g.committedMB}`).join('\n')}\n`,
    );
    let heapDiff: HeapDiff | null = null;
    const last = snapshots.find((x) => x.file.endsWith('heap-end.heapsnapshot'));
    if (first && last) {
      heapDiff = diffFiles(first.file, last.file);
      writeFileSync(join(o.outDir, 'heap-diff.md'), `${formatHeapDiff(heapDiff, 40)}\n`);
    }
    return {
      minutes: o.minutes,
      seed: o.seed,
      outDir: o.outDir,
      hooks,
      faults: faults.map((f) => ({ ...f, ms: f.ms - started })),
      faultCounts,
      transitions,
      unexplained: transitions.filter((x) => x.explainedBy === null).length,
      overlaps,
      splitBrainMs,
      maxOverlapMs: maxOverlapMs(all, all),
      rssB,
      gcB,
      liveHeapFit,
      brkFit,
      warmupMin,
      rssFit: fit,
      rssAnonFit: anonFit,
      rssFitBeforeSnapshot: beforeSnap,
      rssFitAfterSnapshot: afterSnap,
      rssSlopeMiBPerMin: fit.slopeMiBPerMin,
      snapshots,
      heapDiff,
      statusReads,
      leakedVips,
      leakedProcesses,
      crashes,
    };
  } finally {
    for (const t of timers) clearInterval(t);
    await lab.destroy();
  }
}

function liveRange(gc: readonly GcSample[]): string {
  const full = gc.filter((g) => g.kind.startsWith('Mark'));
  return full.length === 0 ? 'n/a' : `${full[0]!.usedMB.toFixed(1)} / ${full[full.length - 1]!.usedMB.toFixed(1)}`;
}

function fitText(f: RssFit | null): string {
  if (f === null || !Number.isFinite(f.slopeMiBPerMin)) return 'n/a';
  return `${f.slopeMiBPerMin.toFixed(4)} ± ${f.slopeStdErr.toFixed(4)} (${f.n} samples, residual ${f.residualMiB.toFixed(2)} MiB${f.steps.length > 0 ? `, step at the snapshot ${f.steps.map((s) => `${s >= 0 ? '+' : ''}${s.toFixed(2)}`).join(', ')} MiB` : ''})`;
}

export function soakSummary(r: SoakResult): string {
  const first = r.rssB[0];
  const last = r.rssB[r.rssB.length - 1];
  const l = [
    `| soak (${r.minutes} min, seed ${r.seed}${r.hooks ? ', hooks + vrrp_script + status reads' : ''}) | value |`,
    '|---|---:|',
    `| faults injected | ${r.faults.filter((f) => f.kind !== 'heap-snapshot').length} |`,
    `| transitions to MASTER (after the initial election) | ${r.transitions.length} |`,
    `| transitions not explained by a fault in the 12 s before | ${r.unexplained} |`,
    `| two-holder overlaps (count / longest ms) | ${r.overlaps.length} / ${Math.max(0, ...r.overlaps.map((x) => x.ms)).toFixed(1)} |`,
    `| split-brain time (overlaps > 1 advert interval, except while the holder was stopped) ms | ${r.splitBrainMs.toFixed(1)} |`,
    `| overlaps while the VIP's holder was stopped (a frozen process keeps its VIP): count, longest ms | ${r.overlaps.filter((x) => x.frozenHolder).length}, ${Math.max(0, ...r.overlaps.filter((x) => x.frozenHolder).map((x) => x.ms)).toFixed(1)} |`,
    `| RSS of b (never restarted): first / last MiB | ${first?.mib.toFixed(1) ?? 'n/a'} / ${last?.mib.toFixed(1) ?? 'n/a'} |`,
    `| RSS slope of b after ${r.warmupMin} min warm-up, MiB/min ± std. error | ${fitText(r.rssFit)} |`,
    `| RssAnon slope of b, same window, MiB/min | ${fitText(r.rssAnonFit)} |`,
    `| RSS slope of b from warm-up to the first snapshot, MiB/min | ${fitText(r.rssFitBeforeSnapshot)} |`,
    `| RSS slope of b from the first snapshot to the end, MiB/min | ${fitText(r.rssFitAfterSnapshot)} |`,
    `| malloc main arena (\`[heap]\` RSS) slope of b, MiB/min | ${fitText(r.brkFit)} |`,
    `| V8 heap in use after full GCs of b: first / last MB (${r.gcB.filter((g) => g.kind.startsWith('Mark')).length} full GCs) | ${liveRange(r.gcB)} |`,
    `| V8 heap in use after full GCs, slope after warm-up, MB/min | ${fitText(r.liveHeapFit)} |`,
    `| heap snapshots of b (minute, write time) | ${r.snapshots.map((s) => `${(s.ms / 60_000).toFixed(1)} (${(s.writeMs / 1000).toFixed(1)} s)`).join(', ') || 'none'} |`,
    `| status reads of b ok / failed | ${r.statusReads.ok} / ${r.statusReads.failed} |`,
    `| unexpected daemon exits | ${r.crashes} |`,
    `| leaked VIPs / processes after stop | ${r.leakedVips.length} / ${r.leakedProcesses.length} |`,
  ];
  l.push(
    '',
    `Faults: ${Object.entries(r.faultCounts)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
  if (r.heapDiff) l.push('', `Heap of b, first snapshot -> end (${join(r.outDir, 'heap-diff.md')}):`, '', formatHeapDiff(r.heapDiff, 15));
  l.push(
    '',
    `Files: ${r.outDir}/rss.csv (ms, min, VmRSS, RssAnon, RssFile, [heap] in MiB), ${r.outDir}/gc.csv (b's collections: V8 heap used/committed MB)${r.snapshots.map((s) => `, ${s.file}`).join('')}`,
  );
  return l.join('\n');
}

async function main(argv: string[]): Promise<number> {
  let minutes = 10;
  let seed = 1;
  let heapAtMin: number | undefined;
  let warmupMin = 5;
  let rssEverySec = 10;
  let hooks = true;
  let outDir: string | undefined;
  let json: string | undefined;
  let labPrefix: string | undefined;
  let net: string | undefined;
  const bNodeArgs: string[] = [];
  let faultKinds: SoakOptions['faultKinds'];
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const num = (): number => {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v < 0) throw new Error(`${k} needs a number >= 0`);
      return v;
    };
    if (k === '--minutes') minutes = num();
    else if (k === '--seed') seed = num();
    else if (k === '--heap-at') heapAtMin = num();
    else if (k === '--warmup') warmupMin = num();
    else if (k === '--rss-every') rssEverySec = Math.max(1, num());
    else if (k === '--no-hooks') hooks = false;
    else if (k === '--out') outDir = argv[++i];
    else if (k === '--json') json = argv[++i];
    else if (k === '--lab-prefix') labPrefix = argv[++i];
    else if (k === '--net') net = argv[++i];
    else if (k === '--b-node-arg') bNodeArgs.push(argv[++i] ?? '');
    else if (k === '--faults') faultKinds = parseFaultList(argv[++i] ?? '');
    else throw new Error(`unknown argument ${k}`);
  }
  // The issue's 10-minute mark, or half-way through a shorter soak.
  heapAtMin ??= Math.min(10, minutes / 2);
  if (heapAtMin > 0 && heapAtMin >= minutes) throw new Error(`--heap-at ${heapAtMin} must be before the end (--minutes ${minutes})`);
  if (process.getuid?.() !== 0) throw new Error('run as root (network namespaces)');
  const why = vrrpdUnavailable();
  if (why) throw new Error(why);
  outDir ??= `/tmp/vr-soak-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  const r = await runSoak({
    minutes,
    seed,
    heapAtMin,
    warmupMin,
    rssEverySec,
    hooks,
    outDir,
    ...(labPrefix !== undefined ? { labPrefix } : {}),
    ...(net !== undefined ? { net } : {}),
    bNodeArgs,
    ...(faultKinds !== undefined ? { faultKinds } : {}),
  });
  process.stdout.write(`\n${soakSummary(r)}\n`);
  writeFileSync(join(outDir, 'soak.json'), JSON.stringify(r, null, 2));
  if (json) writeFileSync(json, JSON.stringify(r, null, 2));
  const ok = r.splitBrainMs === 0 && r.unexplained === 0 && r.crashes === 0 && r.leakedVips.length === 0 && r.leakedProcesses.length === 0;
  process.stdout.write(`\n${ok ? 'PASS' : 'FAIL'}: split-brain 0, every transition explained, no crash, nothing leaked\n`);
  return ok ? 0 : 1;
}

runIfMain(import.meta.url, main);
