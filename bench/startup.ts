/**
 * Start-up time (issue 16 item 3), vrrpd and keepalived 2.2.7 side by side in the same lab
 * (`vr-stu-`, 10.237.40.0/24, interfaces as the scale bench makes them), on the same config of N
 * instances (`state BACKUP`, advert_int 1, one VIP each): from the spawn of the daemon (after the
 * harness' private mounts, the same for both) to
 *  - `up`: its first log line;
 *  - `first`: the first instance's first state (`Entering BACKUP STATE`);
 *  - `all`: every instance's first state.
 * Each figure is min / median / max over `--runs` starts. The daemon is stopped (SIGTERM) between
 * runs; nothing else runs in the lab.
 * Usage: node build/bench/startup.js [--instances 1,1000] [--runs 5] [--impl both|vrrpd|keepalived] [--json FILE]
 */
import { writeFileSync } from 'node:fs';
import { BenchLab, runCmd } from '../test/support/ns-lab.js';
import { keepalivedUnavailable, sleep, startNode, vrrpdUnavailable, wallNowMs, type Impl } from '../test/support/vrrp-harness.js';
import { percentile, scaleConf } from './scale.js';

export interface StartupFigures {
  readonly impl: Impl;
  readonly instances: number;
  /** ms from spawn, per run. */
  readonly up: number[];
  readonly first: number[];
  readonly all: number[];
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

async function oneStart(lab: BenchLab, impl: Impl, conf: string, n: number): Promise<{ up: number; first: number; all: number }> {
  const t0 = wallNowMs();
  const node = startNode(lab, { impl, host: 'a', conf });
  let up = NaN;
  let first = NaN;
  try {
    for (;;) {
      const log = node.log;
      const now = wallNowMs() - t0;
      if (Number.isNaN(up) && log.length > 0) up = now;
      const states = log.match(STATE_LINE)?.length ?? 0;
      if (Number.isNaN(first) && states >= 1) first = now;
      if (states >= n) return { up, first, all: now };
      if (!node.proc.running) throw new Error(`${impl} exited: ${log.slice(-2000)}`);
      if (now > 60_000) throw new Error(`${impl}: ${states}/${n} instances in a state after 60 s`);
      await sleep(2);
    }
  } finally {
    await node.stop(10_000);
  }
}

export async function runStartup(instances: readonly number[], runs: number, impls: readonly Impl[]): Promise<StartupFigures[]> {
  const out: StartupFigures[] = [];
  for (const n of instances) {
    const lab = await buildLab(Math.ceil(n / 255));
    try {
      const conf = scaleConf('a', n, Math.ceil(n / 255), 100);
      for (const impl of impls) {
        const f: StartupFigures = { impl, instances: n, up: [], first: [], all: [] };
        for (let r = 0; r < runs; r++) {
          const s = await oneStart(lab, impl, conf, n);
          f.up.push(s.up);
          f.first.push(s.first);
          f.all.push(s.all);
          await sleep(300);
        }
        out.push(f);
      }
    } finally {
      await lab.destroy();
    }
  }
  return out;
}

const mmm = (xs: readonly number[]): string => {
  const s = [...xs].sort((a, b) => a - b);
  return `${s[0]!.toFixed(0)} / ${percentile(s, 50).toFixed(0)} / ${s.at(-1)!.toFixed(0)}`;
};

export function startupTable(figs: readonly StartupFigures[]): string {
  const rows = [
    '| instances | daemon | spawn -> first log line (ms) | -> first instance BACKUP (ms) | -> every instance BACKUP (ms) |',
    '|---:|---|---:|---:|---:|',
  ];
  for (const f of figs) rows.push(`| ${f.instances} | ${f.impl} | ${mmm(f.up)} | ${mmm(f.first)} | ${mmm(f.all)} |`);
  const ratios = figs
    .filter((f) => f.impl === 'vrrpd')
    .map((v) => {
      const k = figs.find((f) => f.impl === 'keepalived' && f.instances === v.instances);
      if (!k) return null;
      const med = (xs: readonly number[]): number =>
        percentile(
          [...xs].sort((a, b) => a - b),
          50,
        );
      return `${v.instances} instances: vrrpd/keepalived every-instance median ${(med(v.all) / med(k.all)).toFixed(2)}x`;
    })
    .filter((x): x is string => x !== null);
  return `${rows.join('\n')}\n(min / median / max)${ratios.length ? `\n${ratios.join('; ')}` : ''}`;
}

async function main(argv: string[]): Promise<number> {
  let instances = [1, 1000];
  let runs = 5;
  let impls: Impl[] = ['vrrpd', 'keepalived'];
  let json: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === '--instances') instances = (argv[++i] ?? '').split(',').map(Number);
    else if (k === '--runs') runs = Number(argv[++i]);
    else if (k === '--impl') {
      const v = argv[++i];
      impls = v === 'both' ? ['vrrpd', 'keepalived'] : [v as Impl];
    } else if (k === '--json') json = argv[++i];
    else throw new Error(`unknown argument ${k}`);
  }
  const skip = (impls.includes('vrrpd') && vrrpdUnavailable()) || (impls.includes('keepalived') && keepalivedUnavailable());
  if (skip) throw new Error(skip);
  const figs = await runStartup(instances, runs, impls);
  console.log(startupTable(figs));
  if (json) writeFileSync(json, JSON.stringify(figs, null, 2));
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).then(
    (c) => process.exit(c),
    (e: unknown) => {
      console.error(e instanceof Error ? e.message : String(e));
      process.exit(1);
    },
  );
}
