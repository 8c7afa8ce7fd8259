/**
 * The failover benchmark's figures (bench/failover.ts): one round's result, the medians side by
 * side (keepalived 2.2.7 vs vrrpd), the acceptance checks (issue 4 for VRRPv2 at advert_int 1,
 * issue 12 for VRRPv3 at a sub-second interval), the machine description and the BENCHMARKS.md text.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, freemem, totalmem } from 'node:os';
import { median, type Impl } from '../test/support/vrrp-harness.js';
import { advertMs, boundText as bound, describe, masterDownMs, skewMs, type Timing } from './vrrp-timing.js';

export type Mode = 'unicast' | 'multicast';

/** The backup's priority (the master's is 150): the protocol bounds below are at this priority. */
export const BACKUP_PRIORITY = 100;

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
  /** Link-cut command start -> the kernel's link-down event (crash only; t0 is that event). */
  cutCmdMs?: number;
  /** t0 -> the backup's first advert as master (priority > 0) on the wire. */
  takeoverAdvertMs: number;
  /**
   * The backup's down timer as seen on the wire: crash: master's last advert -> backup's first
   * advert (ideal: Master_Down_Interval, masterDownMs); stop: priority-0 advert -> backup's first
   * advert (ideal: Skew_Time, skewMs).
   */
  timerMs: number;
  /** Backup's first advert on the wire -> VIP on the backup (netlink event). */
  advertToVipMs: number;
  /** t0 -> priority-0 advert from the stopping master (stop only). */
  prio0Ms?: number;
  /** t0 -> the stopping daemon exited (stop only). */
  exitMs?: number;
  exitCode?: number | null;
  /** Longest time both nodes held the VIP from t0 to the end of the measurement (the two address monitors). */
  bothMs: number;
  /**
   * The same in the 15 s before t0: the previous recovery (a taking the VIP back). After a link cut
   * in unicast, a's first adverts wait in the kernel for ARP (the cut flushed a's neighbour table),
   * so b keeps the VIP for a few intervals with either implementation: shown, not checked.
   */
  recoveryBothMs: number;
  /** GARPs for the VIP from the backup within 1 s of the VIP. */
  garpCount: number;
}

export type ImplResults = Partial<Record<Impl, RoundResult[]>>;

interface Row {
  label: string;
  kind: RoundResult['kind'];
  pick: (r: RoundResult) => number | undefined;
}

function rows(t: Timing): Row[] {
  const down = masterDownMs(t, BACKUP_PRIORITY).toFixed(1);
  const skew = skewMs(t, BACKUP_PRIORITY).toFixed(1);
  return [
    { label: 'crash -> VIP on backup', kind: 'crash', pick: (r) => r.vipMs },
    { label: 'crash -> first GARP', kind: 'crash', pick: (r) => r.garpMs },
    { label: 'crash: VIP -> first GARP', kind: 'crash', pick: (r) => r.vipToGarpMs },
    { label: 'crash: longest ping gap', kind: 'crash', pick: (r) => r.pingGapMs },
    { label: 'crash: last advert -> VIP', kind: 'crash', pick: (r) => r.lastAdvertToVipMs },
    { label: `crash: last advert -> takeover advert (down timer, ideal ${down})`, kind: 'crash', pick: (r) => r.timerMs },
    { label: 'crash: takeover advert -> VIP', kind: 'crash', pick: (r) => r.advertToVipMs },
    { label: 'stop -> priority-0 advert', kind: 'stop', pick: (r) => r.prio0Ms },
    { label: 'stop -> VIP on backup', kind: 'stop', pick: (r) => r.vipMs },
    { label: 'stop -> first GARP', kind: 'stop', pick: (r) => r.garpMs },
    { label: 'stop: VIP -> first GARP', kind: 'stop', pick: (r) => r.vipToGarpMs },
    { label: 'stop: longest ping gap', kind: 'stop', pick: (r) => r.pingGapMs },
    { label: `stop: priority-0 advert -> takeover advert (skew, ideal ${skew})`, kind: 'stop', pick: (r) => r.timerMs },
    { label: 'stop: takeover advert -> VIP', kind: 'stop', pick: (r) => r.advertToVipMs },
    { label: 'stop -> master exited', kind: 'stop', pick: (r) => r.exitMs },
    { label: 'crash: both held the VIP during the failover', kind: 'crash', pick: (r) => r.bothMs },
    { label: 'stop: both held the VIP during the failover', kind: 'stop', pick: (r) => r.bothMs },
    { label: 'both held the VIP while a took it back, before a crash round', kind: 'crash', pick: (r) => r.recoveryBothMs },
    { label: 'both held the VIP while a took it back, before a stop round', kind: 'stop', pick: (r) => r.recoveryBothMs },
  ];
}

function med(rs: readonly RoundResult[] | undefined, row: Row): number {
  if (!rs) return Number.NaN;
  return median(rs.filter((r) => r.kind === row.kind).map((r) => row.pick(r) ?? Number.NaN));
}

export function f1(x: number): string {
  return Number.isFinite(x) ? x.toFixed(1) : 'n/a';
}

/** The protocol bound at the backup's priority, in words. */
export const boundText = (t: Timing): string => bound(t, BACKUP_PRIORITY);

export function table(results: ImplResults, t: Timing): string[] {
  const k = results.keepalived;
  const v = results.vrrpd;
  const lines = [
    '| metric (median, ms) | keepalived 2.2.7 | vrrpd | vrrpd / keepalived | vrrpd - keepalived |',
    '|---|---:|---:|---:|---:|',
  ];
  for (const row of rows(t)) {
    const a = med(k, row);
    const b = med(v, row);
    const ratio = Number.isFinite(a) && Number.isFinite(b) && Math.abs(a) >= 1 ? (b / a).toFixed(2) : 'n/a';
    const diff = Number.isFinite(a) && Number.isFinite(b) ? `${b - a >= 0 ? '+' : ''}${(b - a).toFixed(1)}` : 'n/a';
    lines.push(`| ${row.label} | ${f1(a)} | ${f1(b)} | ${ratio} | ${diff} |`);
  }
  return lines;
}

export function acceptance(results: ImplResults, t: Timing): { lines: string[]; ok: boolean } {
  const k = results.keepalived;
  const v = results.vrrpd;
  if (!k || !v) return { lines: ['- (acceptance needs both implementations in the same run)'], ok: false };
  const all = rows(t);
  const row = (label: string): Row => all.find((r) => r.label === label)!;
  const lines: string[] = [];
  let ok = true;
  const check = (name: string, pass: boolean, detail: string): void => {
    ok &&= pass;
    lines.push(`- ${pass ? 'PASS' : 'FAIL'}: ${name} (${detail})`);
  };
  // A crash's failover time also counts from the master's last advert: the link cut's phase
  // relative to the advert grid belongs to the harness, not to the daemon under test. Issue 12
  // asks for t0 -> VIP too, so under v3 both are checked.
  const compared =
    t.version === 3
      ? ['crash -> VIP on backup', 'crash: last advert -> VIP', 'stop -> VIP on backup']
      : ['crash: last advert -> VIP', 'stop -> VIP on backup'];
  for (const cmp of compared) {
    const cv = med(v, row(cmp));
    const ck = med(k, row(cmp));
    check(
      `vrrpd within +20 ms of keepalived (${cmp})`,
      cv - ck <= 20,
      `vrrpd ${f1(cv)} ms, keepalived ${f1(ck)} ms, diff ${f1(cv - ck)} ms`,
    );
  }
  for (const kind of ['crash', 'stop'] as const) {
    const dv = med(v, row(`${kind} -> VIP on backup`));
    const g = med(v, row(`${kind}: VIP -> first GARP`));
    check(`${kind}: vrrpd VIP -> first GARP <= 5 ms`, g <= 5, `${f1(g)} ms`);
    const gap = med(v, row(`${kind}: longest ping gap`));
    check(`${kind}: vrrpd client ping gap <= VIP time + 20 ms`, gap <= dv + 20, `gap ${f1(gap)} ms, VIP ${f1(dv)} ms`);
  }
  const a = advertMs(t);
  const both = Math.max(...v.map((r) => r.bothMs));
  const bothK = Math.max(...k.map((r) => r.bothMs));
  const rec = (rs: RoundResult[]): string => f1(Math.max(...rs.map((r) => r.recoveryBothMs)));
  check(
    `vrrpd pair: never both holding the VIP longer than one advert interval during a failover (${a} ms)`,
    both <= a,
    `max overlap ${f1(both)} ms, keepalived pair ${f1(bothK)} ms; while a took the VIP back (not checked): vrrpd ${rec(v)} ms, keepalived ${rec(k)} ms`,
  );
  return { lines, ok };
}

/** Every round of every implementation, one table row each (ms). */
export function perRoundTable(r: ImplResults, impls: readonly Impl[]): string[] {
  const out: string[] = [
    '| impl | kind | round | t0 -> VIP | t0 -> GARP | VIP -> GARP | GARPs | ping gap | down timer on the wire | takeover advert -> VIP | t0 -> prio 0 | t0 -> exit | link cut cmd | both | both, recovery before |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const opt = (x: number | undefined): string => (x === undefined ? '' : f1(x));
  for (const impl of impls) {
    for (const x of r[impl] ?? []) {
      out.push(
        `| ${impl} | ${x.kind} | ${x.round} | ${f1(x.vipMs)} | ${f1(x.garpMs)} | ${f1(x.vipToGarpMs)} | ${x.garpCount} | ${f1(x.pingGapMs)} | ${f1(x.timerMs)} | ${f1(x.advertToVipMs)} | ${opt(x.prio0Ms)} | ${opt(x.exitMs)} | ${opt(x.cutCmdMs)} | ${f1(x.bothMs)} | ${f1(x.recoveryBothMs)} |`,
      );
    }
  }
  return out;
}

function sh(cmd: string, args: string[]): string {
  try {
    // keepalived --version prints on stderr; `free -h` needs its leading blanks.
    const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 5000 });
    return `${r.stdout ?? ''}${r.stderr ?? ''}`.replace(/^\n+|\s+$/g, '');
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    return `${err.stdout ?? ''}${err.stderr ?? ''}`.trim();
  }
}

export function machine(): string[] {
  const cpu = cpus()[0]?.model ?? 'unknown';
  return [
    `- \`nproc\`: ${sh('nproc', [])} (${cpu})`,
    `- memory: ${(totalmem() / 2 ** 30).toFixed(1)} GiB total, ${(freemem() / 2 ** 30).toFixed(1)} GiB free; \`free -h\`:`,
    '',
    '```',
    sh('free', ['-h']),
    '```',
    '',
    `- kernel: \`${sh('uname', ['-srvm'])}\``,
    `- node ${process.version}, ${sh('keepalived', ['--version']).split('\n')[0]}, ${sh('tcpdump', ['--version']).split('\n')[0]}, ${sh('ip', ['-V'])}`,
  ];
}

/** One mode's section: the medians, the acceptance and (folded) every round. */
export function modeSection(title: string, r: ImplResults, impls: readonly Impl[], t: Timing): { md: string[]; ok: boolean } {
  const acc = acceptance(r, t);
  const md = [
    `### ${title}`,
    '',
    ...table(r, t),
    '',
    `Acceptance (issue ${t.version === 3 ? 12 : 4}):`,
    '',
    ...acc.lines,
    '',
    '<details><summary>Every round (ms)</summary>',
    '',
    ...perRoundTable(r, impls),
    '',
    '</details>',
    '',
  ];
  return { md, ok: acc.ok };
}

export interface DocInput {
  file: string;
  cmd: string;
  argsText: string;
  started: string;
  timing: Timing;
  prefix: string;
  subnet: string;
  vip: string;
  vrid: number;
  phaseMs: number;
  sections: string[];
  errors: string[];
}

/** The lab and method, as BENCHMARKS.md says them. */
function method(d: DocInput): string[] {
  const t = d.timing;
  return [
    `Command (as root, after \`npx tsc -p . && npm run build:bench\`): \`${d.cmd}\` (the same as \`npm run bench:failover -- ${d.argsText}\`).`,
    '',
    `Lab: three network namespaces on a Linux bridge (prefix \`${d.prefix}\`, ${d.subnet}.0/24): a = master (priority 150),`,
    `b = backup (priority ${BACKUP_PRIORITY}), c = client running \`ping -D -i 0.002\` to the VIP ${d.vip}. Both implementations read the same`,
    `keepalived.conf (${describe(t)}, VRID ${d.vrid}; unicast = \`unicast_src_ip\`/\`unicast_peer\`). Each round:`,
    `wait for an advert from a at b's bridge port, then wait until ${d.phaseMs} ms after an advert (the same advert phase every round), then`,
    "- **crash**: cut a's link (its bridge port goes down; a sees NO-CARRIER). t0 = the kernel's link-down event",
    '  (`ip -ts monitor link` in the switch namespace; the cut is written to a running `ip -batch -`, so no process',
    '  start-up sits between the advert and the cut). Then the link comes back and a takes the VIP back (preempt).',
    '  The crash acceptance compares "last advert -> VIP": how long the backup needed after the master\'s last sign',
    '  of life, independent of where in the advert interval the cut fell.',
    "- **stop**: SIGTERM to a's daemon (t0 = the kill(2) call). Then a is restarted and takes the VIP back.",
    '',
    'VIP time = `ip -ts monitor address` event in b (stamped by `ip` on receipt, so a few hundred µs late: a negative',
    "VIP -> GARP means the GARP's kernel timestamp came first). GARP, advert times = tcpdump kernel timestamps on b's",
    'bridge port. Ping gap = longest interval between echo replies at c around t0. "down timer on the wire" = master\'s',
    "last advert (crash) or priority-0 advert (stop) -> b's first advert as master: what the backup's timer really took.",
    `Protocol bound (${t.version === 3 ? 'RFC 5798' : 'RFC 3768'}): ${boundText(t)}.`,
    '',
    `Run started ${d.started}. Machine:`,
    '',
    ...machine(),
    '',
    ...d.sections,
    d.errors.length
      ? `Packet errors logged:\n\n${d.errors.map((e) => `- \`${e}\``).join('\n')}\n`
      : "Neither implementation logged a packet error about its peer's adverts.",
  ];
}

/**
 * Each timing owns one section of `file` between `<!-- NAME:begin -->` and `<!-- NAME:end -->`:
 * `failover` (VRRPv2, advert_int 1), `failover-v3` (VRRPv3) or `failover-v2-<int>`, replaced in
 * place or appended; everything else in the file is kept as it is.
 */
export function writeDoc(d: DocInput): void {
  const old = existsSync(d.file) ? readFileSync(d.file, 'utf8') : '# Benchmarks\n';
  writeFileSync(d.file, withSection(old, d));
}

/** `old` with the timing's section replaced in place, or appended (pure; tests). */
export function withSection(old: string, d: DocInput): string {
  const t = d.timing;
  const v2Default = t.version === 2 && t.advertIntS === 1;
  const name = v2Default ? 'failover' : t.version === 3 ? 'failover-v3' : `failover-v2-${t.advertIntS}`;
  const title = v2Default ? 'Failover: vrrpd vs keepalived 2.2.7' : `Failover at ${describe(t)}: vrrpd vs keepalived 2.2.7`;
  const section = [
    `<!-- ${name}:begin -->`,
    '',
    `## ${title}`,
    '',
    'Written by `bench/failover.ts` from its own measurements; do not edit by hand, re-run the command.',
    '',
    ...method(d),
    '',
    `<!-- ${name}:end -->`,
  ].join('\n');
  const re = new RegExp(`<!-- ${name}:begin -->[\\s\\S]*?<!-- ${name}:end -->`);
  return re.test(old) ? old.replace(re, () => section) : `${old.trimEnd()}\n\n${section}\n`;
}
