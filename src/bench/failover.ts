/**
 * Failover benchmark: keepalived pairs vs vrrpd pairs with the same keepalived.conf, in the same
 * namespace lab, measured the same way (root only).
 *
 * Lab `vk-bench-` on 10.234.200.0/24: hosts a (.1, master, priority 150), b (.2, backup, priority
 * 100), c (.3, client pinging the VIP .100 every 10 ms). Per implementation, `--rounds` rounds of:
 *  - crash: wait for one of a's adverts at b's switch port, wait 200 ms (same advert phase in every
 *    round, so the down timer's phase does not add up to 1 s of noise), cut a's link (bridge port
 *    down, a sees NO-CARRIER); then restore it and wait until a holds the VIP again;
 *  - graceful stop: same phase, SIGTERM to a's daemon; then restart it and wait until it is back.
 * Measured from t0 (just before the link cut / the kill(2)):
 *  - VIP on the backup: `ip -ts monitor address` in b (netlink event, stamped by ip on receipt);
 *  - first GARP: tcpdump on the bridge port of b (kernel timestamp), ARP request from b's MAC with
 *    sender = target = VIP;
 *  - longest ping gap at the client: `ping -D -i 0.01`, longest interval between replies around t0;
 *  - stop only: priority-0 advert from a on the wire, and a's exit.
 * Every figure is computed from these timestamps; nothing is typed in.
 *
 * Usage: node dist/bench/failover.js [--rounds 5] [--mode unicast|multicast] [--impl both|keepalived|vrrpd]
 *        [--write BENCHMARKS.md] [--json FILE]
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, freemem, totalmem } from 'node:os';
import { BenchLab } from './ns-lab.js';
import {
  firstAfter, keepalivedConf, keepalivedUnavailable, longestGapMs, maxOverlapMs, median, ownership, packetErrors,
  sleep, startAddrMonitor, startNode, startPinger, startWireWatch, vrrpdUnavailable, wallNowMs,
  type AddrMonitor, type Impl, type Pinger, type VrrpNode, type WireWatch,
} from './vrrp-harness.js';

interface Args {
  rounds: number;
  mode: 'unicast' | 'multicast';
  impls: Impl[];
  write?: string;
  json?: string;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { rounds: 5, mode: 'unicast', impls: ['keepalived', 'vrrpd'] };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = (): string => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${k} needs a value`);
      return x;
    };
    if (k === '--rounds') a.rounds = Math.max(1, Number(v()));
    else if (k === '--mode') {
      const m = v();
      if (m !== 'unicast' && m !== 'multicast') throw new Error('--mode is unicast or multicast');
      a.mode = m;
    } else if (k === '--impl') {
      const m = v();
      a.impls = m === 'both' ? ['keepalived', 'vrrpd'] : m === 'keepalived' || m === 'vrrpd' ? [m] : [];
      if (a.impls.length === 0) throw new Error('--impl is both, keepalived or vrrpd');
    } else if (k === '--write') a.write = v();
    else if (k === '--json') a.json = v();
    else if (k === '-h' || k === '--help') {
      process.stdout.write('usage: node dist/bench/failover.js [--rounds N] [--mode unicast|multicast] [--impl both|keepalived|vrrpd] [--write BENCHMARKS.md] [--json FILE]\n');
      process.exit(0);
    } else throw new Error(`unknown argument ${k}`);
  }
  return a;
}

const PREFIX = 'vk-bench-';
const SUBNET = '10.234.200';
const VIP = `${SUBNET}.100`;
const VRID = 51;
const PHASE_MS = 200;

export interface RoundResult {
  kind: 'crash' | 'stop';
  round: number;
  /** t0 -> VIP added on the backup. */
  vipMs: number;
  /** t0 -> first GARP for the VIP from the backup's MAC. */
  garpMs: number;
  /** VIP added -> first GARP (negative: the GARP's kernel timestamp precedes ip monitor's receipt). */
  vipToGarpMs: number;
  /** Longest gap between the client's ping replies around t0. */
  pingGapMs: number;
  /** Last advert from the master seen before t0 -> VIP on the backup (crash only). */
  lastAdvertToVipMs?: number;
  /** Time the link-cut command took (crash only; t0 is taken before it). */
  cutCmdMs?: number;
  /** t0 -> priority-0 advert from the stopping master (stop only). */
  prio0Ms?: number;
  /** t0 -> the stopping daemon exited (stop only). */
  exitMs?: number;
  exitCode?: number | null;
  /** Longest time both nodes held the VIP during this round (from the two address monitors). */
  bothMs: number;
  /** GARPs for the VIP from the backup within 1 s of t0. */
  garpCount: number;
}

interface Session {
  impl: Impl;
  lab: BenchLab;
  a: VrrpNode;
  b: VrrpNode;
  monA: AddrMonitor;
  monB: AddrMonitor;
  wire: WireWatch;
  ping: Pinger;
  confA: string;
}

function conf(lab: BenchLab, mode: Args['mode'], self: 'a' | 'b'): string {
  const peer = self === 'a' ? 'b' : 'a';
  return keepalivedConf(`bench-${self}`, {
    state: self === 'a' ? 'MASTER' : 'BACKUP',
    vrid: VRID,
    priority: self === 'a' ? 150 : 100,
    vips: [`${VIP}/24`],
    authPass: '1111',
    ...(mode === 'unicast' ? { unicastSrc: lab.host(self).ip, unicastPeers: [lab.host(peer).ip] } : {}),
  });
}

async function until<T>(what: string, timeoutMs: number, f: () => T | undefined | false): Promise<T> {
  const deadline = wallNowMs() + timeoutMs;
  for (;;) {
    const v = f();
    if (v !== undefined && v !== false) return v;
    if (wallNowMs() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(2);
  }
}

/** True when the last address event for the VIP on this monitor is an add. */
function holds(mon: AddrMonitor): boolean {
  const ev = mon.eventsFor(VIP);
  return ev.length > 0 && ev[ev.length - 1]!.op === 'add';
}

async function waitSteady(s: Session, timeoutMs = 12_000): Promise<void> {
  await until('a to hold the VIP alone', timeoutMs, () => holds(s.monA) && !holds(s.monB));
  // Two adverts from a at b's port after that, and pings answered.
  const t = wallNowMs();
  await until('two adverts from a', 3500, () => s.wire.view().adverts.filter((x) => x.ms > t && x.src === s.lab.host('a').ip && x.prio > 0).length >= 2);
  await until('ping replies through the VIP', 3000, () => s.ping.replies().some((r) => r > t));
}

/** Wait for the next advert from a at b's port, then PHASE_MS more; returns that advert's time. */
async function syncToAdvert(s: Session): Promise<number> {
  const t = wallNowMs();
  const adv = await until('an advert from a', 3000, () => s.wire.view().adverts.find((x) => x.ms > t - 1 && x.src === s.lab.host('a').ip));
  const wait = adv.ms + PHASE_MS - wallNowMs();
  if (wait > 0) await sleep(wait);
  return adv.ms;
}

/** Ownership intervals relevant to the round starting at t0 (the previous round's recovery included). */
const recent = (iv: ReturnType<typeof ownership>, t0: number): ReturnType<typeof ownership> => iv.filter((i) => i.to >= t0 - 15_000);

async function measureAfter(s: Session, t0: number, kind: RoundResult['kind'], round: number): Promise<RoundResult> {
  const vipAdd = await until('the VIP on b', 8000, () => s.monB.eventsFor(VIP).find((e) => e.op === 'add' && e.ms >= t0));
  await sleep(1000); // GARP burst, ping recovery, prio-0 advert all land well within this
  const bMac = s.lab.host('b').mac;
  const view = s.wire.view();
  const garps = view.garps.filter((g) => g.ip === VIP && g.srcMac === bMac && g.ms >= t0 && g.ms <= vipAdd.ms + 1000);
  const garp = garps[0];
  const replies = s.ping.replies();
  const end = wallNowMs();
  const r: RoundResult = {
    kind,
    round,
    vipMs: vipAdd.ms - t0,
    garpMs: garp ? garp.ms - t0 : Number.NaN,
    vipToGarpMs: garp ? garp.ms - vipAdd.ms : Number.NaN,
    pingGapMs: longestGapMs(replies, t0, end),
    bothMs: maxOverlapMs(recent(ownership(s.monA.events(), VIP, end), t0), recent(ownership(s.monB.events(), VIP, end), t0)),
    garpCount: garps.length,
  };
  if (kind === 'stop') {
    const p0 = firstAfter(view.adverts, t0, (x) => x.src === s.lab.host('a').ip && x.prio === 0);
    r.prio0Ms = p0 ? p0.ms - t0 : Number.NaN;
  }
  return r;
}

async function crashRound(s: Session, round: number): Promise<RoundResult> {
  await waitSteady(s);
  const lastAdv = await syncToAdvert(s);
  const t0 = wallNowMs();
  await s.lab.linkDown('a', 'switch');
  const cutCmdMs = wallNowMs() - t0;
  const r = await measureAfter(s, t0, 'crash', round);
  const advs = s.wire.view().adverts.filter((x) => x.src === s.lab.host('a').ip && x.ms < t0);
  r.lastAdvertToVipMs = r.vipMs + t0 - (advs[advs.length - 1]?.ms ?? lastAdv);
  r.cutCmdMs = cutCmdMs;
  await s.lab.linkUp('a', 'switch');
  return r;
}

async function stopRound(s: Session, round: number): Promise<RoundResult> {
  await waitSteady(s);
  await syncToAdvert(s);
  const old = s.a;
  const t0 = old.sigterm();
  const exited = old.proc.exited.then(() => wallNowMs());
  const r = await measureAfter(s, t0, 'stop', round);
  const done = await Promise.race([exited, sleep(4000).then(() => Number.NaN)]);
  r.exitMs = done - t0;
  const st = await old.stop(1000);
  r.exitCode = st.exitCode;
  s.a = startNode(s.lab, { impl: s.impl, host: 'a', conf: s.confA });
  return r;
}

async function runImpl(lab: BenchLab, impl: Impl, args: Args, log: (s: string) => void): Promise<{ rounds: RoundResult[]; logs: Record<string, string> }> {
  const monA = await startAddrMonitor(lab, 'a');
  const monB = await startAddrMonitor(lab, 'b');
  const wire = await startWireWatch(lab, lab.switchNs, lab.host('b').swPort);
  const confA = conf(lab, args.mode, 'a');
  const b = startNode(lab, { impl, host: 'b', conf: conf(lab, args.mode, 'b') });
  const a = startNode(lab, { impl, host: 'a', conf: confA });
  const ping = startPinger(lab, 'c', VIP);
  const s: Session = { impl, lab, a, b, monA, monB, wire, ping, confA };
  const rounds: RoundResult[] = [];
  const logs: Record<string, string> = {};
  try {
    for (let i = 1; i <= args.rounds; i++) {
      const c = await crashRound(s, i);
      rounds.push(c);
      log(`${impl} crash ${i}: VIP ${c.vipMs.toFixed(1)} ms (last advert -> VIP ${c.lastAdvertToVipMs?.toFixed(1)}), GARP ${c.garpMs.toFixed(1)}, ping gap ${c.pingGapMs.toFixed(1)}, both ${c.bothMs.toFixed(1)}`);
      const g = await stopRound(s, i);
      rounds.push(g);
      log(`${impl} stop  ${i}: VIP ${g.vipMs.toFixed(1)} ms, GARP ${g.garpMs.toFixed(1)}, ping gap ${g.pingGapMs.toFixed(1)}, prio0 ${g.prio0Ms?.toFixed(1)}, exit ${g.exitMs?.toFixed(1)} (code ${g.exitCode}), both ${g.bothMs.toFixed(1)}`);
    }
    await waitSteady(s);
  } finally {
    logs.a = s.a.log;
    logs.b = s.b.log;
    await Promise.all([s.a.stop(3000), s.b.stop(3000)]);
    await Promise.all([ping.stop(), wire.stop(), monA.proc.kill('SIGTERM', 1000), monB.proc.kill('SIGTERM', 1000)]);
  }
  return { rounds, logs };
}

interface Row {
  label: string;
  kind: RoundResult['kind'];
  pick: (r: RoundResult) => number | undefined;
}

const ROWS: Row[] = [
  { label: 'crash -> VIP on backup', kind: 'crash', pick: (r) => r.vipMs },
  { label: 'crash: last advert -> VIP', kind: 'crash', pick: (r) => r.lastAdvertToVipMs },
  { label: 'crash -> first GARP', kind: 'crash', pick: (r) => r.garpMs },
  { label: 'crash: VIP -> first GARP', kind: 'crash', pick: (r) => r.vipToGarpMs },
  { label: 'crash: longest ping gap', kind: 'crash', pick: (r) => r.pingGapMs },
  { label: 'stop -> priority-0 advert', kind: 'stop', pick: (r) => r.prio0Ms },
  { label: 'stop -> VIP on backup', kind: 'stop', pick: (r) => r.vipMs },
  { label: 'stop -> first GARP', kind: 'stop', pick: (r) => r.garpMs },
  { label: 'stop: VIP -> first GARP', kind: 'stop', pick: (r) => r.vipToGarpMs },
  { label: 'stop: longest ping gap', kind: 'stop', pick: (r) => r.pingGapMs },
  { label: 'stop -> master exited', kind: 'stop', pick: (r) => r.exitMs },
];

function med(rs: readonly RoundResult[] | undefined, row: Row): number {
  if (!rs) return Number.NaN;
  return median(rs.filter((r) => r.kind === row.kind).map((r) => row.pick(r) ?? Number.NaN));
}

const f1 = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');

function table(results: Partial<Record<Impl, RoundResult[]>>): string[] {
  const k = results.keepalived;
  const v = results.vrrpd;
  const lines = [
    '| metric (median, ms) | keepalived 2.2.7 | vrrpd | vrrpd / keepalived | vrrpd - keepalived |',
    '|---|---:|---:|---:|---:|',
  ];
  for (const row of ROWS) {
    const a = med(k, row);
    const b = med(v, row);
    const ratio = Number.isFinite(a) && Number.isFinite(b) && a !== 0 ? (b / a).toFixed(2) : 'n/a';
    const diff = Number.isFinite(a) && Number.isFinite(b) ? `${b - a >= 0 ? '+' : ''}${(b - a).toFixed(1)}` : 'n/a';
    lines.push(`| ${row.label} | ${f1(a)} | ${f1(b)} | ${ratio} | ${diff} |`);
  }
  return lines;
}

function acceptance(results: Partial<Record<Impl, RoundResult[]>>): string[] {
  const k = results.keepalived;
  const v = results.vrrpd;
  if (!k || !v) return ['(acceptance needs both implementations in the same run)'];
  const row = (label: string): Row => ROWS.find((r) => r.label === label)!;
  const out: string[] = [];
  const check = (name: string, ok: boolean, detail: string): void => {
    out.push(`- ${ok ? 'PASS' : 'FAIL'}: ${name} (${detail})`);
  };
  for (const kind of ['crash', 'stop'] as const) {
    const dv = med(v, row(`${kind} -> VIP on backup`));
    const dk = med(k, row(`${kind} -> VIP on backup`));
    check(`${kind}: vrrpd within +20 ms of keepalived`, dv - dk <= 20, `vrrpd ${f1(dv)} ms, keepalived ${f1(dk)} ms, diff ${f1(dv - dk)} ms`);
    const g = med(v, row(`${kind}: VIP -> first GARP`));
    check(`${kind}: vrrpd VIP -> first GARP <= 5 ms`, g <= 5, `${f1(g)} ms`);
    const gap = med(v, row(`${kind}: longest ping gap`));
    check(`${kind}: vrrpd client ping gap <= VIP time + 20 ms`, gap <= dv + 20, `gap ${f1(gap)} ms, VIP ${f1(dv)} ms`);
  }
  const both = Math.max(...v.map((r) => r.bothMs));
  check('vrrpd pair: never both holding the VIP longer than one advert interval', both <= 1000, `max overlap ${f1(both)} ms`);
  return out;
}

function sh(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    return `${err.stdout ?? ''}${err.stderr ?? ''}`.trim();
  }
}

function machine(): string[] {
  const cpu = cpus()[0]?.model ?? 'unknown';
  return [
    `- nproc: ${sh('nproc', [])} (${cpu})`,
    `- memory: ${(totalmem() / 2 ** 30).toFixed(1)} GiB total, ${(freemem() / 2 ** 30).toFixed(1)} GiB free; \`free -h\`:`,
    '```',
    sh('free', ['-h']),
    '```',
    `- kernel: ${sh('uname', ['-srvm'])}`,
    `- node ${process.version}, ${sh('keepalived', ['--version']).split('\n')[0]}, ${sh('tcpdump', ['--version']).split('\n')[0]}, ${sh('ip', ['-V'])}`,
  ];
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (process.getuid?.() !== 0) {
    process.stderr.write('bench:failover needs root (network namespaces, raw sockets)\n');
    return 2;
  }
  const noKa = keepalivedUnavailable();
  if (noKa && args.impls.includes('keepalived')) {
    process.stderr.write(`${noKa}\n`);
    return 2;
  }
  const noVrrpd = vrrpdUnavailable();
  if (noVrrpd && args.impls.includes('vrrpd')) {
    process.stderr.write(`skipping vrrpd: ${noVrrpd}\n`);
    args.impls = args.impls.filter((i) => i !== 'vrrpd');
    if (args.impls.length === 0) return 2;
  }
  const log = (s: string): void => void process.stderr.write(`${s}\n`);
  const started = new Date().toISOString();
  const results: Partial<Record<Impl, RoundResult[]>> = {};
  const errors: Partial<Record<Impl, string[]>> = {};
  const lab = await BenchLab.create(PREFIX, SUBNET, ['a', 'b', 'c']);
  try {
    for (const impl of args.impls) {
      const r = await runImpl(lab, impl, args, log);
      results[impl] = r.rounds;
      // keepalived's own complaints about its peer's adverts (only meaningful in mixed pairs, but a
      // keepalived pair must be clean too).
      errors[impl] = [...packetErrors(r.logs.a ?? ''), ...packetErrors(r.logs.b ?? '')];
    }
  } finally {
    await lab.destroy();
  }
  const cmd = `node dist/bench/failover.js ${process.argv.slice(2).join(' ')}`.trim();
  const tbl = table(results);
  const acc = acceptance(results);
  const out = [
    `Failover, ${args.mode}, PASS auth, advert_int 1, priorities 150/100, ${args.rounds} rounds each (started ${started})`,
    '',
    ...tbl,
    '',
    ...acc,
  ];
  process.stdout.write(`${out.join('\n')}\n`);
  if (args.json) writeFileSync(args.json, `${JSON.stringify({ started, args, results, errors }, null, 2)}\n`);
  if (args.write) {
    const perRound: string[] = ['| impl | kind | round | VIP | last advert -> VIP | GARP | VIP -> GARP | GARPs | ping gap | prio 0 | exit | both |', '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|'];
    for (const impl of args.impls) {
      for (const r of results[impl] ?? []) {
        perRound.push(`| ${impl} | ${r.kind} | ${r.round} | ${f1(r.vipMs)} | ${r.lastAdvertToVipMs === undefined ? '' : f1(r.lastAdvertToVipMs)} | ${f1(r.garpMs)} | ${f1(r.vipToGarpMs)} | ${r.garpCount} | ${f1(r.pingGapMs)} | ${r.prio0Ms === undefined ? '' : f1(r.prio0Ms)} | ${r.exitMs === undefined ? '' : f1(r.exitMs)} | ${f1(r.bothMs)} |`);
      }
    }
    const md = [
      '# Benchmarks',
      '',
      '## Failover: vrrpd vs keepalived 2.2.7',
      '',
      'Written by `src/bench/failover.ts` from its own measurements (do not edit by hand; re-run the command).',
      '',
      `Command (as root, after \`npx tsc -p .\`): \`${cmd}\` (\`npm run bench:failover -- ...\` is the same).`,
      '',
      `Setup: three network namespaces on a Linux bridge (prefix \`${PREFIX}\`, ${SUBNET}.0/24): a (master, priority 150),`,
      `b (backup, priority 100), c (client running \`ping -D -i 0.01\` to the VIP ${VIP}). Same keepalived.conf for both`,
      `implementations: ${args.mode}, \`auth_type PASS\`, \`advert_int 1\`, VRID ${VRID}. Each round: wait for an advert from a at`,
      `b's bridge port, wait ${PHASE_MS} ms (fixed phase), then either cut a's link (bridge port down: a sees NO-CARRIER)`,
      'or send SIGTERM to a\'s daemon; restore a and wait until it holds the VIP again. t0 is taken just before the',
      'link-cut command / the kill(2). VIP time = `ip -ts monitor address` event in b; GARP time = tcpdump kernel timestamp',
      'on b\'s bridge port; ping gap = longest interval between echo replies at c around t0. A negative VIP -> GARP means',
      'the GARP\'s kernel timestamp precedes `ip monitor`\'s receipt of the netlink event (both well under 1 ms apart).',
      'Expected crash time: 3 x advert_int + skew (256-100)/256 s = 3609 ms after the last advert, i.e. ~3409 ms after t0.',
      '',
      `Run: ${started}. Machine:`,
      '',
      ...machine(),
      '',
      '### Medians',
      '',
      ...tbl,
      '',
      '### Acceptance (issue 4)',
      '',
      ...acc,
      '',
      ...(Object.entries(errors).some(([, e]) => (e ?? []).length > 0)
        ? ['### keepalived packet errors', '', ...Object.entries(errors).flatMap(([i, e]) => (e ?? []).map((l) => `- ${i}: \`${l.trim()}\``)), '']
        : []),
      '### Every round (ms)',
      '',
      ...perRound,
      '',
    ];
    writeFileSync(args.write, md.join('\n'));
    log(`wrote ${args.write}`);
  }
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
