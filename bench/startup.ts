/**
 * Start-up time and footprint (issue 16 items 2-4), vrrpd and keepalived 2.2.7 side by side in the
 * same lab (`vr-stu-`, 10.237.40.0/24, interfaces as the scale bench makes them), on the same config
 * of N instances (`state BACKUP`, advert_int 1, one VIP each): from the spawn of the daemon (after
 * the harness' private mounts, the same for both) to
 *  - `up`: its first log line;
 *  - `first`: the first instance's first state (`Entering BACKUP STATE`);
 *  - `all`: every instance's first state;
 * then, `--settle-ms` later (the config loader's idle thread has ended by then), the daemon's
 * resident set (VmRSS of its processes in the namespace: keepalived's parent and VRRP child, vrrpd's
 * one process).
 * Each figure is min / median / max over `--runs` starts, with the ratio of the medians to
 * keepalived's. The daemon is stopped (SIGTERM) between runs; nothing else runs in the lab.
 *
 * Then the whole-process config check, `vrrpd check -f FILE` (started as bin/vrrpd's first line
 * says) against `keepalived -t -f FILE`, in the same lab host (so both see its interfaces), on the
 * config bench/config-parse.ts generates for N instances (the 1,000-instance one is 26,743 lines):
 * exec -> exit, min / median / max over `--check-runs` runs, alternating the two.
 * `--baseline DIR`: also an older build, DIR/bin/vrrpd (a copy of a tree's bin/, dist/ and
 * package.json beside node_modules), started as its launcher line says, alternated with this one and
 * keepalived run by run, so a change is measured against what it replaces in the same conditions.
 * Usage: node build/bench/startup.js [--instances 1,255,1000] [--runs 5] [--check-runs 7]
 *        [--settle-ms 3000] [--impl both|vrrpd|keepalived] [--baseline DIR] [--json FILE]
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { launcherArgv, launcherNodeArgs } from '../src/cli/launcher.js';
import { BenchLab, runCmd } from '../test/support/ns-lab.js';
import {
  keepalivedUnavailable,
  REPO_ROOT,
  sleep,
  startNode,
  vrrpdUnavailable,
  wallNowMs,
  type Impl,
} from '../test/support/vrrp-harness.js';
import { generateConfig } from './config-parse.js';
import { CLK_TCK, cpuTicks, daemonPids, percentile, rssMiB, scaleConf } from './scale.js';
import { runIfMain } from './entry.js';

export interface StartupFigures {
  readonly impl: Impl;
  /** `baseline`: the build given as --baseline. */
  readonly build?: 'baseline';
  readonly instances: number;
  /** ms from spawn, per run. */
  readonly up: number[];
  readonly first: number[];
  readonly all: number[];
  /** MiB, per run, `settleMs` after every instance's first state: VmRSS, and of it RssAnon. */
  readonly rss: number[];
  /**
   * The anonymous part of `rss` (the process's own memory: heaps, stacks); the rest is file pages
   * (the executable and its libraries: about 31 MiB of node's binary, shared by every Node process).
   */
  readonly anon: number[];
  /** CPU time (user + system, all threads) the daemon used from exec to every instance's first state, ms. */
  readonly cpu: number[];
}

/** Whole-process `check` of the N-instance config, ms from spawn to exit, per run. */
export interface CheckFigures {
  readonly impl: Impl;
  readonly build?: 'baseline';
  readonly instances: number;
  readonly ms: number[];
  /** CPU time (user + system), ms: less sensitive than `ms` to what else runs on the machine. */
  readonly cpu: number[];
}

const STATE_LINE = /Entering BACKUP STATE/g;

/** A lab host `a` with eth0 on the bridge and eth1.. as veths (so 1,000 instances fit 255 VRIDs an interface). */
async function buildLab(ifaces: number): Promise<BenchLab> {
  const lab = await BenchLab.start('vr-stu-', '10.237.40', ['a', 'b']);
  const a = lab.host('a').ns;
  const b = lab.host('b').ns;
  for (let k = 1; k < ifaces; k++) {
    await runCmd(['ip', 'link', 'add', `eth${k}`, 'netns', a, 'type', 'veth', 'peer', 'name', `eth${k}`, 'netns', b]);
    await runCmd(['ip', '-n', a, 'addr', 'add', `10.237.${40 + k}.1/24`, 'dev', `eth${k}`]);
    await runCmd(['ip', '-n', a, 'link', 'set', `eth${k}`, 'up']);
    await runCmd(['ip', '-n', b, 'link', 'set', `eth${k}`, 'up']);
  }
  return lab;
}

/** The sum of a /proc/PID/status field (kB) over `pids`, MiB. */
function statusMiB(pids: readonly number[], field: string): number {
  let kib = 0;
  for (const p of pids) {
    try {
      kib += Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // gone
    }
  }
  return kib / 1024;
}

async function oneStart(
  lab: BenchLab,
  impl: Impl,
  conf: string,
  n: number,
  settleMs: number,
  bin?: string,
): Promise<{ up: number; first: number; all: number; rss: number; anon: number; cpu: number }> {
  const t0 = wallNowMs();
  const node = startNode(lab, { impl, host: 'a', conf, ...(bin !== undefined ? { vrrpdBin: bin, nodeArgs: launcherNodeArgs(bin) } : {}) });
  let up = NaN;
  let first = NaN;
  try {
    for (;;) {
      const log = node.log;
      const now = wallNowMs() - t0;
      if (Number.isNaN(up) && log.length > 0) up = now;
      const states = log.match(STATE_LINE)?.length ?? 0;
      if (Number.isNaN(first) && states >= 1) first = now;
      if (states >= n) {
        const cpu = (cpuTicks(await daemonPids(lab, 'a')) * 1000) / CLK_TCK;
        await sleep(settleMs);
        const pids = await daemonPids(lab, 'a');
        return { up, first, all: now, rss: rssMiB(pids), anon: statusMiB(pids, 'RssAnon'), cpu };
      }
      if (!node.proc.running) throw new Error(`${impl} exited: ${log.slice(-2000)}`);
      if (now > 60_000) throw new Error(`${impl}: ${states}/${n} instances in a state after 60 s`);
      await sleep(2);
    }
  } finally {
    await node.stop(10_000);
  }
}

export interface StartupOptions {
  readonly instances: readonly number[];
  readonly runs: number;
  readonly checkRuns: number;
  readonly settleMs: number;
  readonly impls: readonly Impl[];
  /** An older build's directory (DIR/bin/vrrpd), measured beside this one. */
  readonly baseline?: string;
}

/** What one lab measures: each implementation, and the baseline build's vrrpd. */
function variants(o: StartupOptions): { impl: Impl; bin?: string }[] {
  const out: { impl: Impl; bin?: string }[] = o.impls.map((impl) => ({ impl }));
  if (o.baseline !== undefined && o.impls.includes('vrrpd')) out.unshift({ impl: 'vrrpd', bin: join(o.baseline, 'bin/vrrpd') });
  return out;
}

export async function runStartup(o: StartupOptions): Promise<{ starts: StartupFigures[]; checks: CheckFigures[] }> {
  const starts: StartupFigures[] = [];
  const checks: CheckFigures[] = [];
  for (const n of o.instances) {
    const ifaces = Math.max(4, Math.ceil(n / 255)); // config-parse's config names eth0..eth3
    const lab = await buildLab(ifaces);
    try {
      const conf = scaleConf('a', n, Math.ceil(n / 255), 100);
      const vs = variants(o);
      const figs = vs.map((v): StartupFigures => ({
        impl: v.impl,
        ...(v.bin !== undefined ? { build: 'baseline' as const } : {}),
        instances: n,
        up: [],
        first: [],
        all: [],
        rss: [],
        anon: [],
        cpu: [],
      }));
      // run by run, each variant in turn: the machine's other work falls on all of them alike
      for (let r = 0; r < o.runs; r++)
        for (const [i, v] of vs.entries()) {
          const s = await oneStart(lab, v.impl, conf, n, o.settleMs, v.bin);
          const f = figs[i]!;
          f.up.push(s.up);
          f.first.push(s.first);
          f.all.push(s.all);
          f.rss.push(s.rss);
          f.anon.push(s.anon);
          f.cpu.push(s.cpu);
          await sleep(300);
        }
      starts.push(...figs);
      checks.push(...(await runChecks(lab, n, o.checkRuns, vs)));
    } finally {
      await lab.destroy();
    }
  }
  return { starts, checks };
}

/** `vrrpd check` / `keepalived -t` on config-parse's N-instance config in host `a`, alternating. */
async function runChecks(lab: BenchLab, n: number, runs: number, vs: readonly { impl: Impl; bin?: string }[]): Promise<CheckFigures[]> {
  const file = join(lab.tmpDir, `check-${n}.conf`);
  writeFileSync(file, generateConfig(n));
  const argv = (v: { impl: Impl; bin?: string }): string[] =>
    v.impl === 'keepalived'
      ? ['keepalived', '-t', '-f', file]
      : [...launcherArgv(v.bin ?? join(REPO_ROOT, 'bin/vrrpd')), 'check', '-f', file];
  const out = vs.map((v): CheckFigures => ({
    impl: v.impl,
    ...(v.bin !== undefined ? { build: 'baseline' as const } : {}),
    instances: n,
    ms: [],
    cpu: [],
  }));
  for (let r = 0; r < runs; r++)
    for (const [i, f] of out.entries()) {
      const t = await timedExit(['nsenter', `--net=/run/netns/${lab.host('a').ns}`, ...argv(vs[i]!)], join(lab.tmpDir, 'time.out'));
      f.ms.push(t.ms);
      f.cpu.push(t.cpu);
      await sleep(100);
    }
  return out;
}

/**
 * ms from spawn to exit, and the CPU time it used (GNU time's user + system, written to `timeFile`);
 * any exit code: the generated config draws the same warnings from both.
 */
function timedExit(argv: readonly string[], timeFile: string): Promise<{ ms: number; cpu: number }> {
  return new Promise((resolve, reject) => {
    const t0 = wallNowMs();
    const p = spawn('/usr/bin/time', ['-f', '%U %S', '-o', timeFile, ...argv], { stdio: 'ignore' });
    const timer = setTimeout(() => p.kill('SIGKILL'), 60_000);
    p.on('error', reject);
    p.on('exit', () => {
      clearTimeout(timer);
      const ms = wallNowMs() - t0;
      // the last line: a non-zero exit adds a line before it
      const [u, s] = readFileSync(timeFile, 'utf8').trim().split('\n').at(-1)!.split(' ').map(Number);
      resolve({ ms, cpu: ((u ?? NaN) + (s ?? NaN)) * 1000 });
    });
  });
}

const med = (xs: readonly number[]): number =>
  percentile(
    [...xs].sort((a, b) => a - b),
    50,
  );

const mmm = (xs: readonly number[], digits = 0): string => {
  const s = [...xs].sort((a, b) => a - b);
  return `${s[0]!.toFixed(digits)} / ${percentile(s, 50).toFixed(digits)} / ${s.at(-1)!.toFixed(digits)}`;
};

/** `x (r.rrx)`: the vrrpd figure with the ratio of its median to keepalived's in the same run. */
function withRatio(mine: readonly number[], theirs: readonly number[] | undefined, digits = 0): string {
  return theirs === undefined ? mmm(mine, digits) : `${mmm(mine, digits)} (${(med(mine) / med(theirs)).toFixed(2)}x)`;
}

const label = (f: { impl: Impl; build?: 'baseline' }): string => (f.build === 'baseline' ? `${f.impl} (baseline)` : f.impl);

export function startupTable(figs: readonly StartupFigures[], checks: readonly CheckFigures[] = []): string {
  const rows = [
    '| instances | daemon | spawn -> first log line (ms) | -> first instance BACKUP (ms) | -> every instance BACKUP (ms) | CPU to get there (ms) | RSS after start (MiB) | of which anonymous (MiB) |',
    '|---:|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const f of figs) {
    const k = f.impl === 'vrrpd' ? figs.find((x) => x.impl === 'keepalived' && x.instances === f.instances) : undefined;
    rows.push(
      `| ${f.instances} | ${label(f)} | ${withRatio(f.up, k?.up)} | ${withRatio(f.first, k?.first)} | ${withRatio(f.all, k?.all)} | ${withRatio(f.cpu, k?.cpu)} | ${withRatio(f.rss, k?.rss, 1)} | ${withRatio(f.anon, k?.anon, 1)} |`,
    );
  }
  const out = [`${rows.join('\n')}\n(min / median / max; vrrpd's (ratio) is its median over keepalived's in this run)`];
  if (checks.length > 0) {
    const c = ['| instances | whole-process check | exec -> exit (ms) | CPU (ms) |', '|---:|---|---:|---:|'];
    for (const f of checks) {
      const k = f.impl === 'vrrpd' ? checks.find((x) => x.impl === 'keepalived' && x.instances === f.instances) : undefined;
      c.push(
        `| ${f.instances} | ${f.impl === 'vrrpd' ? `${label(f)} check -f` : 'keepalived -t -f'} | ${withRatio(f.ms, k?.ms)} | ${withRatio(f.cpu, k?.cpu)} |`,
      );
    }
    out.push(`${c.join('\n')}\n(config-parse's generated config; min / median / max)`);
  }
  return out.join('\n\n');
}

async function main(argv: string[]): Promise<number> {
  const o: { -readonly [K in keyof StartupOptions]: StartupOptions[K] } = {
    instances: [1, 255, 1000],
    runs: 5,
    checkRuns: 7,
    settleMs: 3000,
    impls: ['vrrpd', 'keepalived'],
  };
  let json: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === '--instances') o.instances = (argv[++i] ?? '').split(',').map(Number);
    else if (k === '--runs') o.runs = Number(argv[++i]);
    else if (k === '--check-runs') o.checkRuns = Number(argv[++i]);
    else if (k === '--settle-ms') o.settleMs = Number(argv[++i]);
    else if (k === '--impl') {
      const v = argv[++i];
      o.impls = v === 'both' ? ['vrrpd', 'keepalived'] : [v as Impl];
    } else if (k === '--baseline') o.baseline = argv[++i];
    else if (k === '--json') json = argv[++i];
    else throw new Error(`unknown argument ${k}`);
  }
  const skip = (o.impls.includes('vrrpd') && vrrpdUnavailable()) || (o.impls.includes('keepalived') && keepalivedUnavailable());
  if (skip) throw new Error(skip);
  const { starts, checks } = await runStartup(o);
  console.log(startupTable(starts, checks));
  if (json) writeFileSync(json, JSON.stringify({ starts, checks }, null, 2));
  return 0;
}

runIfMain(import.meta.url, main);
