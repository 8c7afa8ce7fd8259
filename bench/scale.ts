/**
 * Scale benchmark (issue 6 item 3): N instances, advert_int 1, the same keepalived.conf for
 * keepalived 2.2.7 and vrrpd, master a (priority 150) and backup b (priority 100) in a namespace lab
 * (`vr-scl-`; eth0 over the lab bridge 10.237.3.0/24, eth1.. as direct veth pairs 10.237.(4+k).0/24;
 * VIPs /32 from 10.237.16.0/20). Per implementation:
 *  - steady state over `--window` s: CPU % of each daemon (utime+stime of every process of it, from
 *    /proc/PID/stat), RSS (sum of VmRSS), advert interval jitter |interval - 1000 ms| per VRID on
 *    eth0 from a tcpdump on the backup's eth0 (in b, kernel receive timestamps): p50/p99/max;
 *  - crash: SIGKILL of the master's process group; time until all N VIPs are on the backup
 *    (`ip -ts monitor address` in b), and until the first.
 * Usage: node build/bench/scale.js [--instances 255] [--ifaces 1] [--impl both|vrrpd|keepalived]
 *        [--window 20] [--settle 10] [--json FILE] [--backup-node-args '--cpu-prof --cpu-prof-dir=DIR']
 *        [--master-node-args ...]
 * `--backup-node-args`, `--master-node-args`: Node options for vrrpd's backup / master only (profiling in the lab; a directory
 * the node writes must be outside its private /tmp, /run and /var).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { BenchLab, runCmd } from '../test/support/ns-lab.js';
import {
  keepalivedUnavailable,
  parseTcpdumpText,
  sleep,
  startAddrMonitor,
  startNode,
  startWireWatch,
  vrrpdUnavailable,
  wallNowMs,
  type Impl,
  type VrrpNode,
} from '../test/support/vrrp-harness.js';
import type { NsLab } from '../test/support/lab-types.js';
import { runIfMain } from './entry.js';

export interface ScaleOptions {
  instances: number;
  ifaces: number;
  windowS: number;
  /** Seconds between "all VIPs on the master" and the measurement window (default 10). */
  settleS?: number;
  impls: Impl[];
  prefix?: string;
  /** The /24 of eth0 (default 10.237.3). */
  subnet?: string;
  log?: (s: string) => void;
  /** Node options for the vrrpd backup / master (e.g. `--cpu-prof`). */
  backupNodeArgs?: readonly string[];
  masterNodeArgs?: readonly string[];
}

export interface ScaleResult {
  impl: Impl;
  instances: number;
  ifaces: number;
  /** Seconds until every VIP was on the master after start. */
  convergeS: number;
  cpuMasterPct: number;
  cpuBackupPct: number;
  rssMasterMiB: number;
  rssBackupMiB: number;
  /** |interval - k x 1000 ms| per VRID (k = the nearest whole number of intervals); `missed` = adverts absent from the capture. */
  /** `worstAtS`: when the interval with the largest deviation ended, seconds after the master was started (which pause it was). */
  jitter: { p50: number; p99: number; max: number; worstAtS: number; intervals: number; vrids: number; missed: number };
  /** Master SIGKILLed -> first / all VIPs on the backup (ms). */
  failoverFirstMs: number;
  failoverAllMs: number;
  vipsOnBackup: number;
  /** eth0 instances: master's last advert -> the VIP on the backup (ideal 3609.4 ms + install). */
  lastAdvertToVipMs: { p50: number; max: number; n: number };
}

export type Jitter = ScaleResult['jitter'];

/**
 * Advert interval jitter from a capture: per VRID, |interval - k x 1000 ms| (k the nearest whole
 * number of 1 s intervals, at least 1); a gap of ~2 s or more is counted in `missed` (an advert not
 * sent, or lost by the capture) and its deviation from 2 s kept. `t0Ms`: wall ms the sender was
 * started (for `worstAtS`).
 */
export function advertJitter(ads: readonly { readonly vrid: number; readonly ms: number }[], t0Ms: number): Jitter {
  const byVrid = new Map<number, number[]>();
  for (const x of ads) {
    const ts = byVrid.get(x.vrid);
    if (ts) ts.push(x.ms);
    else byVrid.set(x.vrid, [x.ms]);
  }
  const dev: number[] = [];
  let missed = 0;
  let worst = { dev: -1, atMs: Number.NaN };
  for (const ts of byVrid.values()) {
    for (let i = 1; i < ts.length; i++) {
      const gap = ts[i]! - ts[i - 1]!;
      if (gap > 1500) missed += Math.round(gap / 1000) - 1;
      const d = Math.abs(gap - 1000 * Math.max(1, Math.round(gap / 1000)));
      dev.push(d);
      if (d > worst.dev) worst = { dev: d, atMs: ts[i]! };
    }
  }
  dev.sort((x, y) => x - y);
  return {
    p50: percentile(dev, 50),
    p99: percentile(dev, 99),
    max: dev[dev.length - 1] ?? Number.NaN,
    worstAtS: (worst.atMs - t0Ms) / 1000,
    intervals: dev.length,
    vrids: byVrid.size,
    missed,
  };
}

export function vipOf(i: number): string {
  return `10.237.${16 + Math.floor(i / 250)}.${1 + (i % 250)}`;
}

/** keepalived.conf with `n` instances spread over eth0..eth(ifaces-1), VRIDs 1.. per interface. */
export function scaleConf(router: string, n: number, ifaces: number, priority: number): string {
  const per = Math.ceil(n / ifaces);
  const l = ['global_defs {', `  router_id ${router}`, '}', ''];
  for (let i = 0; i < n; i++) {
    const k = Math.floor(i / per);
    l.push(
      `vrrp_instance VI_${i + 1} {`,
      '  state BACKUP',
      `  interface eth${k}`,
      `  virtual_router_id ${(i % per) + 1}`,
      `  priority ${priority}`,
      '  advert_int 1',
      '  virtual_ipaddress {',
      `    ${vipOf(i)}`,
      '  }',
      '}',
      '',
    );
  }
  return l.join('\n');
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Every process of a namespace that is the daemon (node or keepalived), by /proc comm. */
export async function daemonPids(lab: NsLab, host: string): Promise<number[]> {
  const ns = lab.host(host).ns;
  const out = (await runCmd(['ip', 'netns', 'pids', ns], { allowFail: true })).stdout;
  const pids: number[] = [];
  for (const p of out.split(/\s+/).filter(Boolean).map(Number)) {
    try {
      const comm = readFileSync(`/proc/${p}/comm`, 'utf8').trim();
      if (comm === 'keepalived' || comm === 'node' || comm === 'vrrpd') pids.push(p);
    } catch {
      // gone
    }
  }
  return pids;
}

export function cpuTicks(pids: readonly number[], which: 'us' | 'u' = 'us'): number {
  let sum = 0;
  for (const p of pids) {
    try {
      const f = readFileSync(`/proc/${p}/stat`, 'utf8');
      const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
      sum += Number(rest[11]) + (which === 'us' ? Number(rest[12]) : 0); // utime, stime (fields 14, 15)
    } catch {
      // gone
    }
  }
  return sum;
}

export function rssMiB(pids: readonly number[]): number {
  let kib = 0;
  for (const p of pids) {
    try {
      kib += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // gone
    }
  }
  return kib / 1024;
}

export const CLK_TCK = 100;

async function vipCount(lab: NsLab, host: string, vips: ReadonlySet<string>): Promise<number> {
  const out = (await lab.exec(host, ['ip', '-j', '-4', 'addr', 'show'], { allowFail: true })).stdout;
  let n = 0;
  try {
    for (const l of JSON.parse(out) as { addr_info?: { local: string }[] }[]) for (const a of l.addr_info ?? []) if (vips.has(a.local)) n++;
  } catch {
    // partial output
  }
  return n;
}

async function buildLab(prefix: string, ifaces: number, subnet = '10.237.3'): Promise<BenchLab> {
  const lab = await BenchLab.start(prefix, subnet, ['a', 'b']);
  const a = lab.host('a').ns;
  const b = lab.host('b').ns;
  for (let k = 1; k < ifaces; k++) {
    await runCmd(['ip', 'link', 'add', `eth${k}`, 'netns', a, 'type', 'veth', 'peer', 'name', `eth${k}`, 'netns', b]);
    await runCmd(['ip', '-n', a, 'addr', 'add', `10.237.${4 + k}.1/24`, 'dev', `eth${k}`]);
    await runCmd(['ip', '-n', b, 'addr', 'add', `10.237.${4 + k}.2/24`, 'dev', `eth${k}`]);
    await runCmd(['ip', '-n', a, 'link', 'set', `eth${k}`, 'up']);
    await runCmd(['ip', '-n', b, 'link', 'set', `eth${k}`, 'up']);
  }
  return lab;
}

export async function runScale(o: ScaleOptions): Promise<ScaleResult[]> {
  const log = o.log ?? ((s: string) => process.stderr.write(`${s}\n`));
  const out: ScaleResult[] = [];
  const vips = new Set(Array.from({ length: o.instances }, (_, i) => vipOf(i)));
  for (const impl of o.impls) {
    const lab = await buildLab(o.prefix ?? 'vr-scl-', o.ifaces, o.subnet);
    try {
      const monB = await startAddrMonitor(lab, 'b');
      const b: VrrpNode = startNode(lab, {
        impl,
        host: 'b',
        conf: scaleConf('b', o.instances, o.ifaces, 100),
        ...(impl === 'vrrpd' && o.backupNodeArgs ? { nodeArgs: o.backupNodeArgs } : {}),
      });
      const t0 = wallNowMs();
      const a: VrrpNode = startNode(lab, {
        impl,
        host: 'a',
        conf: scaleConf('a', o.instances, o.ifaces, 150),
        ...(impl === 'vrrpd' && o.masterNodeArgs ? { nodeArgs: o.masterNodeArgs } : {}),
      });
      for (;;) {
        const n = await vipCount(lab, 'a', vips);
        if (n === o.instances) break;
        if (!a.proc.running) throw new Error(`${impl} on a exited: ${a.log.slice(-2000)}`);
        if (wallNowMs() - t0 > 120_000) throw new Error(`${impl}: only ${n}/${o.instances} VIPs on a after 120 s`);
        await sleep(250);
      }
      const convergeS = (wallNowMs() - t0) / 1000;
      log(`${impl} ${o.instances}x${o.ifaces}: all VIPs on the master after ${convergeS.toFixed(1)} s`);
      await sleep((o.settleS ?? 10) * 1000); // GARP bursts (2nd at +5 s) and the backup's settling out of the window
      const pa = await daemonPids(lab, 'a');
      const pb = await daemonPids(lab, 'b');
      // -B: a 32 MiB capture buffer and -s 96 (headers only) so tcpdump itself loses nothing. On the
      // backup's eth0: the adverts' arrival times where the backup's timers see them.
      // Buffered (no --immediate-mode): a tcpdump woken for every advert made the master stop in
      // sendto(2) and counted that as the daemon's jitter (startWireWatch).
      const wire = await startWireWatch(lab, 'b', 'eth0', '-B 32768 -s 96 proto 112', { buffered: true });
      const c0a = cpuTicks(pa);
      const c0b = cpuTicks(pb);
      const w0 = wallNowMs();
      const slices: string[] = [];
      const load0 = loadavg()
        .map((x) => x.toFixed(2))
        .join(' ');
      const u0 = [cpuTicks(pa, 'u'), cpuTicks(pb, 'u')];
      for (let left = o.windowS * 1000; left > 0; left -= 5000) {
        const s0 = [cpuTicks(pa), cpuTicks(pb)];
        const q0 = wallNowMs();
        await sleep(Math.min(5000, left));
        const q = (wallNowMs() - q0) / 1000;
        slices.push(
          `${(((cpuTicks(pa) - s0[0]!) / CLK_TCK / q) * 100).toFixed(1)}/${(((cpuTicks(pb) - s0[1]!) / CLK_TCK / q) * 100).toFixed(1)}`,
        );
      }
      log(
        `${impl}: CPU % master/backup per 5 s slice: ${slices.join(' ')}; user ticks master ${cpuTicks(pa, 'u') - u0[0]!}, backup ${cpuTicks(pb, 'u') - u0[1]!} (of the totals below); load average at the window's start ${load0}, end ${loadavg()
          .map((x) => x.toFixed(2))
          .join(' ')}`,
      );
      const wS = (wallNowMs() - w0) / 1000;
      const cpuMasterPct = ((cpuTicks(pa) - c0a) / CLK_TCK / wS) * 100;
      const cpuBackupPct = ((cpuTicks(pb) - c0b) / CLK_TCK / wS) * 100;
      const rssMasterMiB = rssMiB(pa);
      const rssBackupMiB = rssMiB(pb);
      const wEnd = wallNowMs();
      // Crash: SIGKILL of the master's whole process group.
      const k0 = wallNowMs();
      await a.proc.kill('SIGKILL', 100);
      let first = Number.NaN;
      let all = Number.NaN;
      let seen = 0;
      for (;;) {
        const adds = new Map<string, number>();
        for (const e of monB.events()) if (e.op === 'add' && e.ms >= k0 && vips.has(e.ip) && !adds.has(e.ip)) adds.set(e.ip, e.ms);
        seen = adds.size;
        if (seen > 0) first = Math.min(...adds.values()) - k0;
        if (seen === o.instances) {
          all = Math.max(...adds.values()) - k0;
          break;
        }
        if (wallNowMs() - k0 > 30_000) break;
        await sleep(200);
      }
      await sleep(300);
      await wire.stop();
      const ads = parseTcpdumpText(wire.proc.stdout).adverts.filter((x) => x.src === lab.host('a').ip && x.ms <= wEnd);
      const jitter = advertJitter(ads, t0);
      // Per eth0 VRID: the master's last advert before the kill -> that instance's VIP on the backup
      // (down timer + install; independent of how the instances' advert phases are spread).
      const last = new Map<number, number>();
      for (const x of parseTcpdumpText(wire.proc.stdout).adverts) if (x.src === lab.host('a').ip && x.ms < k0) last.set(x.vrid, x.ms);
      const per = Math.ceil(o.instances / o.ifaces);
      const addMs = new Map<string, number>();
      for (const e of monB.events()) if (e.op === 'add' && e.ms >= k0 && !addMs.has(e.ip)) addMs.set(e.ip, e.ms);
      const lastToVip: number[] = [];
      for (const [vrid, ms] of last) {
        const v = addMs.get(vipOf(vrid - 1));
        if (v !== undefined && vrid <= per) lastToVip.push(v - ms);
      }
      lastToVip.sort((x, y) => x - y);
      const r: ScaleResult = {
        impl,
        instances: o.instances,
        ifaces: o.ifaces,
        convergeS,
        cpuMasterPct,
        cpuBackupPct,
        rssMasterMiB,
        rssBackupMiB,
        jitter,
        failoverFirstMs: first,
        failoverAllMs: all,
        vipsOnBackup: seen,
        lastAdvertToVipMs: { p50: percentile(lastToVip, 50), max: lastToVip[lastToVip.length - 1] ?? Number.NaN, n: lastToVip.length },
      };
      log(JSON.stringify(r));
      out.push(r);
      await b.stop(5000);
    } finally {
      await lab.destroy();
    }
  }
  return out;
}

const f1 = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');
const ratio = (v: number, k: number): string => (Number.isFinite(v) && Number.isFinite(k) && k > 0 ? (v / k).toFixed(2) : 'n/a');

/** A markdown table: one row per metric, keepalived / vrrpd / ratio. */
export function scaleTable(rs: readonly ScaleResult[]): string {
  const k = rs.find((r) => r.impl === 'keepalived');
  const v = rs.find((r) => r.impl === 'vrrpd');
  const n = rs[0]?.instances ?? 0;
  const rows: [string, (r: ScaleResult) => number][] = [
    ['CPU % master (steady state)', (r) => r.cpuMasterPct],
    ['CPU % backup (steady state)', (r) => r.cpuBackupPct],
    ['RSS MiB master', (r) => r.rssMasterMiB],
    ['RSS MiB backup', (r) => r.rssBackupMiB],
    ['advert jitter p50 ms', (r) => r.jitter.p50],
    ['advert jitter p99 ms', (r) => r.jitter.p99],
    ['advert jitter max ms', (r) => r.jitter.max],
    ['start -> all VIPs on master s', (r) => r.convergeS],
    ['kill -9 master -> first VIP on backup ms', (r) => r.failoverFirstMs],
    [`kill -9 master -> all ${n} VIPs on backup ms`, (r) => r.failoverAllMs],
    ['last advert -> VIP on backup, p50 ms (eth0; ideal 3609.4)', (r) => r.lastAdvertToVipMs.p50],
    ['last advert -> VIP on backup, max ms (eth0)', (r) => r.lastAdvertToVipMs.max],
  ];
  const l = [
    `| ${n} instances on ${rs[0]?.ifaces ?? 1} interface(s) | keepalived 2.2.7 | vrrpd | vrrpd / keepalived |`,
    '|---|---:|---:|---:|',
  ];
  for (const [name, get] of rows) {
    const kv = k ? get(k) : Number.NaN;
    const vv = v ? get(v) : Number.NaN;
    l.push(`| ${name} | ${f1(kv)} | ${f1(vv)} | ${ratio(vv, kv)} |`);
  }
  if (k || v)
    l.push(
      `| (jitter sample on eth0: intervals / VRIDs / adverts missing) | ${k ? `${k.jitter.intervals} / ${k.jitter.vrids} / ${k.jitter.missed}` : ''} | ${v ? `${v.jitter.intervals} / ${v.jitter.vrids} / ${v.jitter.missed}` : ''} | |`,
    );
  return l.join('\n');
}

function parseArgs(argv: string[]): ScaleOptions & { json?: string } {
  const a: ScaleOptions & { json?: string } = { instances: 255, ifaces: 1, windowS: 20, impls: ['keepalived', 'vrrpd'] };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = (): string => argv[++i] ?? '';
    if (k === '--instances') a.instances = Number(v());
    else if (k === '--ifaces') a.ifaces = Number(v());
    else if (k === '--window') a.windowS = Number(v());
    else if (k === '--settle') a.settleS = Number(v());
    else if (k === '--impl') {
      const m = v();
      a.impls = m === 'both' ? ['keepalived', 'vrrpd'] : [m as Impl];
    } else if (k === '--json') a.json = v();
    else if (k === '--backup-node-args') a.backupNodeArgs = v().split(/\s+/).filter(Boolean);
    else if (k === '--master-node-args') a.masterNodeArgs = v().split(/\s+/).filter(Boolean);
    else throw new Error(`unknown argument ${k}`);
  }
  return a;
}

export async function main(argv: string[]): Promise<number> {
  const a = parseArgs(argv);
  if (process.getuid?.() !== 0) throw new Error('run as root (network namespaces)');
  const why = (a.impls.includes('vrrpd') && vrrpdUnavailable()) || (a.impls.includes('keepalived') && keepalivedUnavailable());
  if (why) throw new Error(why);
  const rs = await runScale(a);
  process.stdout.write(`\n${scaleTable(rs)}\n`);
  if (a.json) writeFileSync(a.json, JSON.stringify(rs, null, 2));
  return 0;
}

runIfMain(import.meta.url, main);
