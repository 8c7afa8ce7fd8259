/**
 * Soak (issue 6 item 4): a vrrpd pair (a priority 150, b priority 100, multicast, PASS, advert_int 1;
 * lab `vr-sok-`, 10.237.8.0/24, VIP .100) under random faults from the chaos set for `--minutes`
 * (default 10), one every 4-10 s (seeded):
 *   a: link flap, VIP deleted, SIGHUP, kill -9 + restart, SIGTERM + restart, 2 s SIGSTOP, 4.5 s SIGSTOP;
 *   b: link flap, SIGHUP, 2 s SIGSTOP (b is never restarted, so its RSS is one process's whole life).
 * `ip -ts monitor address` in both hosts records who held the VIP. Reported:
 *  - split-brain time: total time both held the VIP in overlaps longer than one advert interval,
 *    excluding 4.5 s stalls of the master (a frozen process cannot drop its VIP: expected, listed);
 *  - every VIP add (= a transition to MASTER) and the fault that explains it (the latest fault
 *    within 12 s before it); unexplained transitions;
 *  - RSS of b sampled every 10 s and its least-squares slope (MiB/min);
 *  - at the end: both stopped, no VIP and no process left in either namespace.
 * Usage: node dist/bench/soak.js [--minutes 10] [--seed 1] [--json FILE]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { BenchLab, runCmd } from './ns-lab.js';
import { prng } from './hostile.js';
import {
  keepalivedConf, maxOverlapMs, ownership, sleep, startAddrMonitor, startNode, vrrpdUnavailable, wallNowMs,
  type Interval, type VrrpNode,
} from './vrrp-harness.js';

const NET = '10.237.8';
const VIP = `${NET}.100`;
type Host = 'a' | 'b';
type FaultKind = 'flap' | 'vip-delete' | 'sighup' | 'kill9-restart' | 'sigterm-restart' | 'stall-2s' | 'stall-4.5s';

export interface SoakFault {
  ms: number;
  host: Host;
  kind: FaultKind;
}

export interface SoakResult {
  minutes: number;
  seed: number;
  faults: SoakFault[];
  faultCounts: Record<string, number>;
  transitions: { ms: number; host: string; explainedBy: string | null }[];
  unexplained: number;
  overlaps: { from: number; ms: number; during: string | null }[];
  splitBrainMs: number;
  maxOverlapMs: number;
  rssB: { ms: number; mib: number }[];
  rssSlopeMiBPerMin: number;
  leakedVips: string[];
  leakedProcesses: string[];
  crashes: number;
}

function slope(xs: readonly { ms: number; mib: number }[]): number {
  const n = xs.length;
  if (n < 2) return Number.NaN;
  const mx = xs.reduce((a, p) => a + p.ms, 0) / n;
  const my = xs.reduce((a, p) => a + p.mib, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of xs) {
    num += (p.ms - mx) * (p.mib - my);
    den += (p.ms - mx) ** 2;
  }
  return (num / den) * 60_000;
}

function rssMiB(pid: number | undefined): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? Number.NaN) / 1024;
  } catch {
    return Number.NaN;
  }
}

export async function runSoak(o: { minutes: number; seed: number; log?: (s: string) => void }): Promise<SoakResult> {
  const log = o.log ?? ((s: string) => process.stderr.write(`${s}\n`));
  const rnd = prng(o.seed);
  const lab = await BenchLab.start('vr-sok-', NET, ['a', 'b']);
  try {
    const conf = (h: Host): string => keepalivedConf(h, { state: 'BACKUP', vrid: 61, priority: h === 'a' ? 150 : 100, vips: [`${VIP}/24`], authPass: 'soak1234' });
    const monA = await startAddrMonitor(lab, 'a');
    const monB = await startAddrMonitor(lab, 'b');
    const nodes: Record<Host, VrrpNode> = { a: startNode(lab, { impl: 'vrrpd', host: 'a', conf: conf('a') }), b: startNode(lab, { impl: 'vrrpd', host: 'b', conf: conf('b') }) };
    const started = wallNowMs();
    await nodes.a.proc.waitFor(/Entering MASTER STATE/, 20_000);
    const faults: SoakFault[] = [];
    const rssB: { ms: number; mib: number }[] = [];
    let crashes = 0;
    const endAt = wallNowMs() + o.minutes * 60_000;
    let nextRss = 0;
    const restart = (h: Host): void => {
      nodes[h] = startNode(lab, { impl: 'vrrpd', host: h, conf: conf(h) });
    };
    const stall = async (h: Host, ms: number): Promise<void> => {
      const pid = nodes[h].proc.pid;
      if (pid === undefined) return;
      process.kill(pid, 'SIGSTOP');
      await sleep(ms);
      process.kill(pid, 'SIGCONT');
    };
    const kindsA: FaultKind[] = ['flap', 'vip-delete', 'sighup', 'kill9-restart', 'sigterm-restart', 'stall-2s', 'stall-4.5s'];
    const kindsB: FaultKind[] = ['flap', 'sighup', 'stall-2s'];
    while (wallNowMs() < endAt) {
      if (wallNowMs() >= nextRss) {
        rssB.push({ ms: wallNowMs() - started, mib: rssMiB(nodes.b.proc.pid) });
        nextRss = wallNowMs() + 10_000;
      }
      for (const h of ['a', 'b'] as const) {
        if (!nodes[h].proc.running && !faults.some((f) => f.host === h && wallNowMs() - f.ms < 3000 && f.kind.endsWith('restart'))) {
          crashes++;
          log(`!! ${h} exited unexpectedly (code ${nodes[h].proc.exitCode}, signal ${nodes[h].proc.exitSignal}); restarting`);
          restart(h);
        }
      }
      const h: Host = rnd() < 0.65 ? 'a' : 'b';
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
          await stall(h, 2000);
          break;
        case 'stall-4.5s':
          await stall(h, 4500);
          break;
      }
      await sleep(4000 + Math.floor(rnd() * 6000));
    }
    await sleep(8000); // settle
    const until = wallNowMs();
    const ia = ownership(monA.events(), VIP, until);
    const ib = ownership(monB.events(), VIP, until);
    const overlaps: SoakResult['overlaps'] = [];
    for (const x of ia) for (const y of ib) {
      const from = Math.max(x.from, y.from);
      const to = Math.min(x.to, y.to);
      if (to > from) {
        const cause = [...faults].reverse().find((f) => f.ms <= from + 50 && from - f.ms < 12_000);
        overlaps.push({ from: from - started, ms: to - from, during: cause ? `${cause.host} ${cause.kind}` : null });
      }
    }
    const splitBrainMs = overlaps.filter((x) => x.ms > 1000 && !(x.during === 'a stall-4.5s')).reduce((s, x) => s + x.ms, 0);
    const adds = [...monA.events().map((e) => ({ ...e, host: 'a' })), ...monB.events().map((e) => ({ ...e, host: 'b' }))]
      .filter((e) => e.ip === VIP && e.op === 'add' && e.ms > started + 100)
      .sort((x, y) => x.ms - y.ms);
    const firstMaster = adds.shift(); // the initial election
    void firstMaster;
    const transitions = adds.map((e) => {
      const cause = [...faults].reverse().find((f) => f.ms <= e.ms && e.ms - f.ms < 12_000);
      return { ms: e.ms - started, host: e.host, explainedBy: cause ? `${cause.host} ${cause.kind} ${((e.ms - cause.ms) / 1000).toFixed(1)} s before` : null };
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
    return {
      minutes: o.minutes, seed: o.seed, faults: faults.map((f) => ({ ...f, ms: f.ms - started })), faultCounts, transitions,
      unexplained: transitions.filter((x) => x.explainedBy === null).length, overlaps, splitBrainMs,
      maxOverlapMs: maxOverlapMs(all, all), rssB, rssSlopeMiBPerMin: slope(rssB.slice(1)), leakedVips, leakedProcesses, crashes,
    };
  } finally {
    await lab.destroy();
  }
}

export function soakSummary(r: SoakResult): string {
  const l = [
    `| soak (${r.minutes} min, seed ${r.seed}) | value |`, '|---|---:|',
    `| faults injected | ${r.faults.length} |`,
    `| transitions to MASTER (after the initial election) | ${r.transitions.length} |`,
    `| transitions not explained by a fault in the 12 s before | ${r.unexplained} |`,
    `| two-holder overlaps (count / longest ms) | ${r.overlaps.length} / ${Math.max(0, ...r.overlaps.map((x) => x.ms)).toFixed(1)} |`,
    `| split-brain time (overlaps > 1 advert interval, 4.5 s master stalls excluded) ms | ${r.splitBrainMs.toFixed(1)} |`,
    `| overlaps during 4.5 s master stalls (frozen process keeps its VIP), longest ms | ${Math.max(0, ...r.overlaps.filter((x) => x.during === 'a stall-4.5s').map((x) => x.ms)).toFixed(1)} |`,
    `| RSS of b (never restarted): first / last MiB | ${r.rssB[0]?.mib.toFixed(1) ?? 'n/a'} / ${r.rssB[r.rssB.length - 1]?.mib.toFixed(1) ?? 'n/a'} |`,
    `| RSS slope of b, MiB/min (least squares, first sample excluded) | ${r.rssSlopeMiBPerMin.toFixed(3)} |`,
    `| unexpected daemon exits | ${r.crashes} |`,
    `| leaked VIPs / processes after stop | ${r.leakedVips.length} / ${r.leakedProcesses.length} |`,
  ];
  l.push('', `Faults: ${Object.entries(r.faultCounts).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  return l.join('\n');
}

async function main(argv: string[]): Promise<number> {
  let minutes = 10;
  let seed = 1;
  let json: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === '--minutes') minutes = Number(argv[++i]);
    else if (k === '--seed') seed = Number(argv[++i]);
    else if (k === '--json') json = argv[++i];
    else throw new Error(`unknown argument ${k}`);
  }
  if (process.getuid?.() !== 0) throw new Error('run as root (network namespaces)');
  const why = vrrpdUnavailable();
  if (why) throw new Error(why);
  const r = await runSoak({ minutes, seed });
  process.stdout.write(`\n${soakSummary(r)}\n`);
  if (json) writeFileSync(json, JSON.stringify(r, null, 2));
  const ok = r.splitBrainMs === 0 && r.unexplained === 0 && r.crashes === 0 && r.leakedVips.length === 0 && r.leakedProcesses.length === 0;
  process.stdout.write(`\n${ok ? 'PASS' : 'FAIL'}: split-brain 0, every transition explained, no crash, nothing leaked\n`);
  return ok ? 0 : 1;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).then((c) => process.exit(c), (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
