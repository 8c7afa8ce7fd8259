/**
 * `vrrpd status`: asks the running daemon over the control socket (never loads io/, needs no
 * capability beyond access to the socket). An aligned table by default, one instance in detail
 * with `vrrpd status VI_1`, the full report with --json or --yaml (schema:
 * src/control/status.schema.json), and `--check-master VI_1` for scripts (exit 0 = MASTER here).
 */
import { ControlClientError, request } from '../control/client.js';
import { DEFAULT_SOCKET, type InstanceReport, type StatusReport, type TrackReport } from '../control/protocol.js';
import type { Io } from './check.js';

export interface StatusArgs {
  readonly socket: string | undefined;
  readonly instance: string | undefined;
  /** names: the instances' names, one a line (the bash completion). */
  readonly format: 'table' | 'json' | 'yaml' | 'names';
  /** Instance name for --check-master. */
  readonly checkMaster: string | undefined;
  /** Wall clock for ages (tests). */
  readonly nowMs?: number;
}

export const STATUS_USAGE = `  status [INSTANCE] [--json|--yaml|--names] [--check-master INSTANCE] [--socket PATH]
        show the running daemon's instances (table; one instance in detail; --json/--yaml full
        report); --check-master exits 0 when INSTANCE is MASTER here, 1 when it is not (or is
        not configured), 3 when the daemon cannot be reached; --names: instance names only;
        --socket (or --control-socket) PATH: the control socket, or a run's --status-socket
`;

/** `status --check-master`'s exit code when no daemon answers (1 is "not MASTER"). */
export const EXIT_UNREACHABLE = 3;

/** YAML output; the `yaml` package (72 files) is loaded only for --yaml. */
async function yamlText(v: unknown): Promise<string> {
  const { stringify } = await import('yaml');
  return stringify(v);
}

export async function runStatus(a: StatusArgs, io: Io): Promise<number> {
  const socket = a.socket ?? DEFAULT_SOCKET;
  // --check-master tells "not master" (1) from "no answer" (EXIT_UNREACHABLE)
  const failed = a.checkMaster !== undefined ? EXIT_UNREACHABLE : 1;
  let report: StatusReport;
  try {
    const r = await request(socket, { cmd: 'status' }, 5000);
    if (!r.ok) {
      io.err(`vrrpd status: ${r.error}`);
      return failed;
    }
    report = r.status as StatusReport;
  } catch (e) {
    io.err(`vrrpd status: ${e instanceof ControlClientError ? e.message : String(e)}`);
    return failed;
  }
  if (a.checkMaster !== undefined) {
    const inst = report.instances.find((i) => i.name === a.checkMaster);
    if (inst === undefined) {
      io.err(`vrrpd status: no instance ${a.checkMaster} (have: ${names(report)})`);
      return 1;
    }
    if (a.format === 'json' || a.format === 'yaml') io.out(a.format === 'json' ? JSON.stringify(inst, null, 2) : await yamlText(inst));
    return inst.state === 'MASTER' ? 0 : 1;
  }
  let view: unknown = report;
  if (a.instance !== undefined) {
    const inst = report.instances.find((i) => i.name === a.instance);
    if (inst === undefined) {
      io.err(`vrrpd status: no instance ${a.instance} (have: ${names(report)})`);
      return 1;
    }
    view = inst;
  }
  switch (a.format) {
    case 'names':
      if (report.instances.length > 0) io.out(report.instances.map((i) => i.name).join('\n'));
      return 0;
    case 'json':
      io.out(JSON.stringify(view, null, 2));
      return 0;
    case 'yaml':
      io.out(await yamlText(view));
      return 0;
    case 'table':
      io.out(
        a.instance !== undefined
          ? formatInstance(view as InstanceReport, a.nowMs ?? Date.now())
          : formatTable(report, a.nowMs ?? Date.now()),
      );
      return 0;
  }
}

function names(r: StatusReport): string {
  return r.instances.map((i) => i.name).join(', ') || 'none';
}

/** `3s`, `4m12s`, `2h03m`, `5d04h`. */
export function ago(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d${String(h % 24).padStart(2, '0')}h`;
}

function since(iso: string | null, nowMs: number): string {
  return iso === null ? '-' : `${ago(nowMs - Date.parse(iso))} ago`;
}

function priority(i: InstanceReport): string {
  let s = String(i.effectivePriority);
  if (i.hold) s += ` (${i.hold.kind})`;
  else if (i.effectivePriority !== i.basePriority) s += ` (base ${i.basePriority})`;
  return s;
}

function master(i: InstanceReport): string {
  if (i.masterIp === null) return '-';
  const self = i.state === 'MASTER' ? ' (self)' : '';
  return `${i.masterIp}${self}${i.masterPriority !== null && !self ? ` @${i.masterPriority}` : ''}`;
}

function vips(i: InstanceReport): string {
  const all = [...i.vips, ...i.evips];
  if (all.length === 0) return '-';
  const shown = all
    .slice(0, 3)
    .map(
      (v) =>
        `${v.address}${v.present ? '' : i.state === 'MASTER' ? '(MISSING)' : ''}${v.present && i.state !== 'MASTER' ? '(PRESENT)' : ''}`,
    );
  return all.length > 3 ? `${shown.join(',')},+${all.length - 3}` : shown.join(',');
}

/** One JSON value from the daemon as a word: objects and arrays as JSON, scalars as they print. */
function jsonWord(v: unknown): string {
  if (typeof v === 'object') return JSON.stringify(v);
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a JSON scalar here: objects were returned above
  return String(v);
}

/** Columns padded to the widest cell; the last column is not padded. */
export function align(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, k) => (widths[k] = Math.max(widths[k] ?? 0, c.length)));
  return rows
    .map((r) =>
      r
        .map((c, k) => (k === r.length - 1 ? c : c.padEnd(widths[k]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function formatTable(r: StatusReport, nowMs: number): string {
  const head = [
    `vrrpd ${r.version}  pid ${r.pid}  up ${ago(r.uptimeMs)}  config ${r.configFile}${r.configLoadedAt ? ` (loaded ${since(r.configLoadedAt, nowMs)})` : ''}`,
    ...(r.maintenance
      ? [
          `MAINTENANCE (node) by ${r.maintenance.by} since ${r.maintenance.since}${r.maintenance.until ? ` until ${r.maintenance.until}` : ''}`,
        ]
      : []),
  ];
  const rows: string[][] = [['INSTANCE', 'STATE', 'SINCE', 'VRID', 'IF', 'PRIO', 'MASTER', 'VIPS', 'REASON']];
  for (const i of r.instances) {
    rows.push([i.name, i.state, since(i.since, nowMs), String(i.vrid), i.interface ?? '-', priority(i), master(i), vips(i), i.reason]);
  }
  return `${head.join('\n')}\n\n${align(rows)}${socketTable(r)}`;
}

/** The receive sockets under the instances: packets read and the kernel's drops (nothing from a daemon without them). */
function socketTable(r: StatusReport): string {
  if (r.sockets === undefined || r.sockets.length === 0) return '';
  const rows = [['SOCKET', 'FAMILY', 'CHANNEL', 'RX', 'KERNEL DROPS']];
  for (const s of r.sockets)
    rows.push([s.ifname, `IPv${s.family}`, s.channel ?? '-', String(s.rxPackets), s.kernelDrops === null ? '?' : String(s.kernelDrops)]);
  return `\n\n${align(rows)}`;
}

/** `VRRPv3 IPv4, advert_int 100 ms (master's 500 ms)`. */
function protocolText(i: InstanceReport): string {
  const learned = i.learnedAdvertIntMs !== null && i.learnedAdvertIntMs !== i.advertIntMs ? ` (master's ${i.learnedAdvertIntMs} ms)` : '';
  return `VRRPv${i.version} IPv${i.family}, advert_int ${i.advertIntMs} ms${learned}`;
}

/** A tracked process's count and source: `, 2 running, proc connector` (nothing for other items). */
function processWatch(t: TrackReport): string {
  if (t.count === undefined && t.source === undefined) return '';
  const how = t.source === 'events' ? 'proc connector' : t.source === 'scan' ? 'polling /proc' : undefined;
  const parts = [t.count === undefined ? undefined : `${t.count} running`, how, t.pending ? 'delay running' : undefined];
  return `, ${parts.filter((x) => x !== undefined).join(', ')}`;
}

export function formatInstance(i: InstanceReport, nowMs: number): string {
  const kv: string[][] = [
    ['instance', i.name],
    ['state', `${i.state} since ${i.since ?? 'start'} (${i.reason})`],
    ['vrid', `${i.vrid} on ${i.interface ?? '-'} from ${i.srcIp ?? '-'} (${i.unicast ? 'unicast' : 'multicast'})`],
    ['priority', `${i.effectivePriority} (base ${i.basePriority})`],
    ['protocol', protocolText(i)],
    ['timers', `master down ${i.masterDownIntervalMs} ms, skew ${i.skewMs} ms`],
    ['preempt', i.preempt.mode === 'nopreempt' ? 'nopreempt' : `preempt, delay ${i.preempt.delayMs} ms`],
  ];
  if (i.hold)
    kv.push([
      'hold',
      `${i.hold.kind} at ${i.hold.priority} by ${i.hold.by} since ${i.hold.since}${i.hold.until ? ` until ${i.hold.until}` : ''}${i.hold.nodeWide ? ' (node-wide)' : ''}`,
    ]);
  kv.push(['master', master(i)]);
  for (const v of i.vips) kv.push(['vip', `${v.address} ${v.present ? 'present' : 'absent'}`]);
  for (const v of i.evips) kv.push(['evip', `${v.address} ${v.present ? 'present' : 'absent'}`]);
  kv.push(['last garp', i.lastGarp === null ? '-' : `${i.lastGarp} (${since(i.lastGarp, nowMs)})`]);
  for (const p of i.peers) kv.push(['peer', `${p.ip} priority ${p.priority}, last seen ${ago(p.ageMs)} ago`]);
  for (const t of i.tracked) {
    const c = t.fault ? 'FAULT' : t.contribution === null ? '-' : t.contribution > 0 ? `+${t.contribution}` : String(t.contribution);
    kv.push([`track ${t.kind}`, `${t.name} ${t.status} (weight ${t.weight}: ${c})${processWatch(t)}`]);
  }
  if (i.faults.length > 0) kv.push(['faults', i.faults.join('; ')]);
  if (i.syncGroup) kv.push(['sync group', i.syncGroup]);
  const c = i.counters;
  kv.push([
    'adverts',
    `sent ${c.advertsSent}, received ${c.advertsReceived}, priority 0 sent ${c.priorityZeroSent} / received ${c.priorityZeroReceived}`,
  ]);
  kv.push(['master', `became ${c.becameMaster}, released ${c.releasedMaster}`]);
  const drops = Object.entries(i.drops).filter(([, n]) => n > 0);
  kv.push(['drops', drops.length === 0 ? 'none' : drops.map(([k, n]) => `${k} ${n}`).join(', ')]);
  for (const e of i.transitions) kv.push(['transition', `${e.at} ${e.from} -> ${e.to} (${e.reason})`]);
  const hooks = i.lastHooks;
  if (Array.isArray(hooks)) {
    for (const h of hooks as Record<string, unknown>[])
      kv.push([
        'hook',
        Object.entries(h)
          .map(([k, v]) => `${k}=${jsonWord(v)}`)
          .join(' '),
      ]);
  }
  return align(kv.map(([k, v]) => [`${k}:`, v!]));
}
