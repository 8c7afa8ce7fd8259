/**
 * Where the resident set goes (issue 16, resident memory): one daemon alone in a network namespace
 * (`vr-rsb-`, eth0 on the lab bridge 10.237.60.0/24), N instances (bench/scale.ts's config; alone,
 * every instance becomes MASTER and advertises), and after `--wait` seconds each of its processes'
 * /proc/PID/smaps grouped: the program's binary, shared libraries, native addons, V8's heap pages,
 * JIT code, malloc's main arena and thread arenas, thread stacks, the rest; with VmRSS, RssAnon,
 * RssFile and the thread count. keepalived 2.2.7 and vrrpd, one after the other, same lab. One
 * interface: at most 255 instances (VRIDs).
 * Usage: node build/bench/rss-breakdown.js [--instances 1,255] [--impl both|vrrpd|keepalived]
 *        [--wait 60] [--every 10] [--node-args '--v8-pool-size=1'] [--json FILE]
 * `--every S`: also VmRSS (all processes) every S seconds until `--wait`, printed as a curve and its
 * highest point from 20 s on (after the one-time drop of the start-up's file pages).
 * Run it as root, under the lab lock (`flock /tmp/vrrpd-netns.lock ...`).
 */
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { BenchLab } from '../test/support/ns-lab.js';
import { keepalivedUnavailable, sleep, startNode, vrrpdUnavailable, type Impl } from '../test/support/vrrp-harness.js';
import { runIfMain } from './entry.js';
import { daemonPids, scaleConf } from './scale.js';

/** KiB resident per group of mappings, and the process's totals. */
export interface Breakdown {
  readonly groups: Record<string, number>;
  readonly vmRssKiB: number;
  readonly rssAnonKiB: number;
  readonly rssFileKiB: number;
  readonly threads: number;
}

export const GROUPS = [
  'program binary (file)',
  'shared libraries (file)',
  'native addons (file)',
  'V8 heap pages (anon, 256 KiB-aligned)',
  'JIT code (anon, executable)',
  'malloc main arena [heap]',
  'glibc thread arenas',
  'thread stacks',
  'other anonymous',
  'other',
] as const;

interface Mapping {
  start: bigint;
  end: bigint;
  perms: string;
  path: string;
  rss: number;
}

const ARENA_ALIGN = 64n << 20n;
const V8_PAGE = 256n << 10n;

function groupOf(m: Mapping, prev: Mapping | undefined, next: Mapping | undefined, exe: string): (typeof GROUPS)[number] {
  if (m.path === exe) return 'program binary (file)';
  if (m.path.endsWith('.node')) return 'native addons (file)';
  if (m.path.startsWith('/')) return 'shared libraries (file)';
  if (m.path === '[heap]') return 'malloc main arena [heap]';
  if (m.path === '[stack]') return 'thread stacks';
  if (m.path !== '') return 'other';
  // glibc's arenas: 64 MiB-aligned, the unused rest reserved with no access right after
  if (m.start % ARENA_ALIGN === 0n && next?.perms.startsWith('---') === true && next.start === m.end) return 'glibc thread arenas';
  // a thread's stack: above its guard page
  if (prev?.perms.startsWith('---') === true && prev.end === m.start && m.end - m.start >= 512n << 10n) return 'thread stacks';
  if (m.perms.includes('x')) return 'JIT code (anon, executable)';
  if (m.start % V8_PAGE === 0n && (m.end - m.start) % V8_PAGE === 0n) return 'V8 heap pages (anon, 256 KiB-aligned)';
  return 'other anonymous';
}

export function breakdown(pid: number): Breakdown {
  const exe = readlinkSync(`/proc/${pid}/exe`);
  const maps: Mapping[] = [];
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const h = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (h) maps.push({ start: BigInt(`0x${h[1]!}`), end: BigInt(`0x${h[2]!}`), perms: h[3]!, path: h[4]!, rss: 0 });
    const r = /^Rss:\s+(\d+) kB/.exec(line);
    if (r && maps.length > 0) maps[maps.length - 1]!.rss = Number(r[1]);
  }
  const groups: Record<string, number> = Object.fromEntries(GROUPS.map((g) => [g, 0]));
  maps.forEach((m, i) => (groups[groupOf(m, maps[i - 1], maps[i + 1], exe)]! += m.rss));
  const st = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (k: string): number => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(st)?.[1] ?? 0);
  return {
    groups,
    vmRssKiB: kib('VmRSS'),
    rssAnonKiB: kib('RssAnon'),
    rssFileKiB: kib('RssFile'),
    threads: readdirSync(`/proc/${pid}/task`).length,
  };
}

/** Several processes (keepalived's parent and VRRP child) as one. */
function sum(bs: readonly Breakdown[]): Breakdown {
  const groups: Record<string, number> = Object.fromEntries(GROUPS.map((g) => [g, 0]));
  for (const b of bs) for (const g of GROUPS) groups[g]! += b.groups[g] ?? 0;
  const total = (f: (b: Breakdown) => number): number => bs.reduce((a, b) => a + f(b), 0);
  return {
    groups,
    vmRssKiB: total((b) => b.vmRssKiB),
    rssAnonKiB: total((b) => b.rssAnonKiB),
    rssFileKiB: total((b) => b.rssFileKiB),
    threads: total((b) => b.threads),
  };
}

interface Options {
  instances: number[];
  impls: Impl[];
  waitS: number;
  everyS?: number;
  nodeArgs: string[];
  json?: string;
}

export interface Column {
  readonly impl: Impl;
  readonly instances: number;
  readonly processes: number;
  readonly b: Breakdown;
  /** [seconds after start, VmRSS MiB of all processes] every `--every` s. */
  readonly curve?: readonly (readonly [number, number])[];
}

/** VmRSS of the daemon's processes every `everyS` until `waitS` (seconds after `startMs`). */
async function sampleCurve(lab: BenchLab, startMs: number, everyS: number, waitS: number): Promise<[number, number][]> {
  const curve: [number, number][] = [];
  for (let t = everyS; t <= waitS; t += everyS) {
    await sleep(Math.max(0, startMs + t * 1000 - Date.now()));
    const pids = await daemonPids(lab, 'a');
    let kib = 0;
    for (const pid of pids) {
      try {
        kib += Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
      } catch {
        // exited between the listing and the read
      }
    }
    curve.push([t, kib / 1024]);
  }
  return curve;
}

async function measure(o: Options, impl: Impl, n: number): Promise<Column> {
  const lab = await BenchLab.start('vr-rsb-', '10.237.60', ['a']);
  try {
    const node = startNode(lab, {
      impl,
      host: 'a',
      conf: scaleConf('a', n, 1, 150),
      ...(impl === 'vrrpd' && o.nodeArgs.length > 0 ? { nodeArgs: o.nodeArgs } : {}),
    });
    const startMs = Date.now();
    const curve = o.everyS !== undefined ? await sampleCurve(lab, startMs, o.everyS, o.waitS) : undefined;
    await sleep(Math.max(0, startMs + o.waitS * 1000 - Date.now()));
    if (!node.proc.running) throw new Error(`${impl} exited: ${node.log.slice(-2000)}`);
    const pids = await daemonPids(lab, 'a');
    const col = { impl, instances: n, processes: pids.length, b: sum(pids.map(breakdown)), ...(curve ? { curve } : {}) };
    await node.stop();
    return col;
  } finally {
    await lab.destroy();
  }
}

export function table(cols: readonly Column[]): string {
  const mib = (k: number): string => (k / 1024).toFixed(1);
  const head = `| MiB resident | ${cols.map((c) => `${c.impl}, ${c.instances}`).join(' | ')} |`;
  const rows = [head, `|---|${cols.map(() => '---:').join('|')}|`];
  for (const g of GROUPS) rows.push(`| ${g} | ${cols.map((c) => mib(c.b.groups[g] ?? 0)).join(' | ')} |`);
  rows.push(`| **VmRSS** (all processes) | ${cols.map((c) => `**${mib(c.b.vmRssKiB)}**`).join(' | ')} |`);
  rows.push(`| of which RssAnon / RssFile | ${cols.map((c) => `${mib(c.b.rssAnonKiB)} / ${mib(c.b.rssFileKiB)}`).join(' | ')} |`);
  rows.push(`| processes / threads | ${cols.map((c) => `${c.processes} / ${c.b.threads}`).join(' | ')} |`);
  if (cols.some((c) => c.curve !== undefined)) {
    const peak = (c: Column): string => {
      const after = (c.curve ?? []).filter(([t]) => t >= 20).map(([, m]) => m);
      return after.length > 0 ? Math.max(...after).toFixed(1) : '-';
    };
    rows.push(`| VmRSS highest from 20 s on | ${cols.map(peak).join(' | ')} |`);
    for (const c of cols) {
      if (c.curve)
        rows.push(`\n${c.impl}, ${c.instances}: VmRSS over time (s: MiB) ${c.curve.map(([t, m]) => `${t}: ${m.toFixed(1)}`).join(', ')}`);
    }
  }
  return rows.join('\n');
}

function parseArgs(argv: string[]): Options {
  const o: Options = { instances: [1, 255], impls: ['keepalived', 'vrrpd'], waitS: 60, nodeArgs: [] };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = (): string => argv[++i] ?? '';
    if (k === '--instances') o.instances = v().split(',').map(Number);
    else if (k === '--impl') {
      const x = v();
      o.impls = x === 'both' ? ['keepalived', 'vrrpd'] : [x as Impl];
    } else if (k === '--wait') o.waitS = Number(v());
    else if (k === '--every') o.everyS = Number(v());
    else if (k === '--node-args') o.nodeArgs = v().split(/\s+/).filter(Boolean);
    else if (k === '--json') o.json = v();
    else throw new Error(`unknown option ${k}`);
  }
  return o;
}

export async function main(argv: string[]): Promise<number> {
  const o = parseArgs(argv);
  const cols: Column[] = [];
  for (const n of o.instances) {
    for (const impl of o.impls) {
      const why = impl === 'vrrpd' ? vrrpdUnavailable() : keepalivedUnavailable();
      if (why) {
        process.stderr.write(`${impl}: skipped (${why})\n`);
        continue;
      }
      process.stderr.write(`${impl}, ${n} instance(s): ${o.waitS} s...\n`);
      cols.push(await measure(o, impl, n));
    }
  }
  process.stdout.write(`${table(cols)}\n`);
  if (o.json) writeFileSync(o.json, JSON.stringify(cols, null, 2));
  return 0;
}

runIfMain(import.meta.url, main);
