/**
 * Prometheus metrics (`--metrics-listen`), built with prom-client from the same status snapshot the
 * control socket answers from (snapshot.ts): one report built on the work queue, never one queue
 * item per scrape, and at most SNAPSHOT_BUILDS_PER_SECOND builds whatever the scrapers do. The text
 * is rendered at most once per METRICS_MIN_RENDER_MS; scrapes in between get the same text.
 *
 * Two families:
 *  - `vrrpd_*`, named by Prometheus' conventions (base units, `_total` counters, an `instance` label
 *    that is the vrrp_instance's name);
 *  - `keepalived_*`, the names and labels of the widely used keepalived exporter
 *    (mehdy/keepalived-exporter), so dashboards written for keepalived keep working. The mapping is
 *    in docs/metrics.md.
 * Event-loop lag and hook durations are histograms fed as they happen (`observeLag`, `observeHook`).
 */
import type { Registry } from 'prom-client';
import { keepalivedStats, STATE_NUMBER } from '../runtime/dumps.js';
import type { HookRun } from '../runtime/ports/index.js';
import type { InstanceReport, SocketReport, StatusReport } from './protocol.js';
import type { ControlServerStats } from './server.js';

/** The text is rendered at most this often; scrapes in between share it (a scrape flood costs nothing more). */
export const METRICS_MIN_RENDER_MS = 100;
/** Event-loop lag buckets, seconds (the probe runs every 100 ms; a 250 ms lag is logged). */
export const LAG_BUCKETS_S: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
/** Hook (notify script) duration buckets, seconds. */
export const HOOK_BUCKETS_S: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

const VRRP_STATES = ['INIT', 'BACKUP', 'MASTER', 'FAULT', 'STOP'] as const;

export interface ControlSocketStats {
  /** 'control' (read-write) or 'status' (read-only). */
  readonly socket: string;
  readonly connections: number;
  readonly stats: ControlServerStats;
}

export interface MetricsSource {
  /** The current status report (the control plane's snapshot). */
  report(): Promise<StatusReport>;
  /** The control sockets' figures. */
  control(): readonly ControlSocketStats[];
  /** Wall clock, ms. */
  nowMs(): number;
  /** Monotonic clock, ms. */
  monoMs(): number;
}

type PromClient = typeof import('prom-client');
type Labels = Record<string, string>;
type Row = readonly [Labels, number];

/** How a hook run ended, as a metric label. */
export function hookResult(r: HookRun): 'ok' | 'failed' | 'timeout' | 'not_run' | 'spawn_error' {
  if (r.error !== undefined) return r.error.startsWith('not run') ? 'not_run' : 'spawn_error';
  if (r.timedOut) return 'timeout';
  return r.exitCode === 0 ? 'ok' : 'failed';
}

export class Metrics {
  readonly contentType: string;
  readonly #reg: Registry;
  readonly #src: MetricsSource;
  readonly #lag: import('prom-client').Histogram;
  readonly #hookDuration: import('prom-client').Histogram;
  readonly #hookRuns: import('prom-client').Counter;
  #report: StatusReport | undefined;
  #cached: { readonly text: string; readonly atMs: number } | undefined;
  #rendering: Promise<string> | undefined;

  private constructor(prom: PromClient, src: MetricsSource) {
    this.#src = src;
    this.#reg = new prom.Registry();
    this.contentType = this.#reg.contentType;
    prom.collectDefaultMetrics({ register: this.#reg });
    const registers = [this.#reg];
    this.#lag = new prom.Histogram({
      name: 'vrrpd_event_loop_lag_seconds',
      help: 'How late the event-loop probe (every 100 ms) ran',
      buckets: [...LAG_BUCKETS_S],
      registers,
    });
    this.#hookDuration = new prom.Histogram({
      name: 'vrrpd_hook_duration_seconds',
      help: 'Notify hook run time',
      labelNames: ['instance', 'hook'],
      buckets: [...HOOK_BUCKETS_S],
      registers,
    });
    this.#hookRuns = new prom.Counter({
      name: 'vrrpd_hook_runs_total',
      help: 'Notify hook runs by how they ended (ok, failed, timeout, not_run, spawn_error)',
      labelNames: ['instance', 'hook', 'result'],
      registers,
    });
    for (const d of vrrpdFamilies()) this.#family(prom, d);
    for (const d of keepalivedFamilies()) this.#family(prom, d);
  }

  /** prom-client is loaded here, when metrics are asked for: a daemon without them never loads it. */
  static async create(src: MetricsSource): Promise<Metrics> {
    return new Metrics(await import('prom-client'), src);
  }

  /** One event-loop probe's lag (ms). */
  observeLag(lagMs: number): void {
    this.#lag.observe(lagMs / 1000);
  }

  /** A hook run ended (instance or sync group `name`). */
  observeHook(name: string, run: HookRun): void {
    this.#hookRuns.inc({ instance: name, hook: run.hook, result: hookResult(run) });
    if (run.error === undefined) this.#hookDuration.observe({ instance: name, hook: run.hook }, run.durationMs / 1000);
  }

  /** The exposition text (renders shared within METRICS_MIN_RENDER_MS, and while one is running). */
  render(): Promise<string> {
    const c = this.#cached;
    if (c !== undefined && this.#src.monoMs() - c.atMs < METRICS_MIN_RENDER_MS) return Promise.resolve(c.text);
    this.#rendering ??= this.#render().finally(() => (this.#rendering = undefined));
    return this.#rendering;
  }

  async #render(): Promise<string> {
    this.#report = await this.#src.report();
    const text = await this.#reg.metrics();
    this.#cached = { text, atMs: this.#src.monoMs() };
    return text;
  }

  /** A gauge or counter whose rows are computed from the report at each render. */
  #family(prom: PromClient, d: Family): void {
    const rows = (): readonly Row[] => (this.#report === undefined ? [] : d.rows(this.#report, this));
    const opts = { name: d.name, help: d.help, labelNames: [...d.labels], registers: [this.#reg] };
    if (d.type === 'counter') {
      new prom.Counter({
        ...opts,
        collect(this: import('prom-client').Counter) {
          this.reset();
          for (const [l, v] of rows()) this.inc(l, v);
        },
      });
    } else {
      new prom.Gauge({
        ...opts,
        collect(this: import('prom-client').Gauge) {
          this.reset();
          for (const [l, v] of rows()) this.set(l, v);
        },
      });
    }
  }

  /** The control sockets (for the families). */
  controlStats(): readonly ControlSocketStats[] {
    return this.#src.control();
  }

  nowMs(): number {
    return this.#src.nowMs();
  }
}

interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: 'gauge' | 'counter';
  readonly labels: readonly string[];
  rows(r: StatusReport, m: Metrics): readonly Row[];
}

const perInstance =
  (f: (i: InstanceReport, m: Metrics) => readonly Row[]) =>
  (r: StatusReport, m: Metrics): readonly Row[] =>
    r.instances.flatMap((i) => f(i, m));

const one =
  (f: (i: InstanceReport) => number) =>
  (i: InstanceReport): readonly Row[] => [[{ instance: i.name }, f(i)]];

/** A tracker's result as 1 (good), 0 (bad), or undefined while it has none yet. */
function trackerUp(t: InstanceReport['tracked'][number]): number | undefined {
  if (t.status === 'init') return undefined;
  if (t.fault) return 0;
  return ['failed', 'ko', 'no quorum', 'down'].includes(t.status) ? 0 : 1;
}

const g = (name: string, help: string, labels: readonly string[], rows: Family['rows']): Family => ({
  name,
  help,
  type: 'gauge',
  labels,
  rows,
});
const c = (name: string, help: string, labels: readonly string[], rows: Family['rows']): Family => ({
  name,
  help,
  type: 'counter',
  labels,
  rows,
});

function vrrpdFamilies(): readonly Family[] {
  return [...daemonFamilies(), ...instanceFamilies(), ...socketFamilies(), ...controlFamilies()];
}

/** The VRRP receive sockets of the report (status `sockets`): packets read, the kernel's drops. */
function socketFamilies(): readonly Family[] {
  const labels = ['family', 'interface', 'channel'];
  const key = (s: SocketReport): Row[0] => ({ family: String(s.family), interface: s.ifname, channel: s.channel ?? '' });
  return [
    c('vrrpd_socket_received_packets_total', 'Packets read from a VRRP receive socket', labels, (r) =>
      (r.sockets ?? []).map((s): Row => [key(s), s.rxPackets]),
    ),
    c('vrrpd_socket_kernel_drops_total', 'Packets the kernel dropped on a VRRP receive socket (its receive buffer was full)', labels, (r) =>
      (r.sockets ?? []).flatMap((s): Row[] => (s.kernelDrops === null ? [] : [[key(s), s.kernelDrops]])),
    ),
  ];
}

function daemonFamilies(): readonly Family[] {
  return [
    g('vrrpd_up', 'The daemon answers (always 1 when scraped)', [], () => [[{}, 1]]),
    g('vrrpd_build_info', 'vrrpd version', ['version'], (r) => [[{ version: r.version }, 1]]),
    g('vrrpd_start_time_seconds', 'When the daemon started, seconds since the epoch', [], (r) => [[{}, Date.parse(r.startedAt) / 1000]]),
    c('vrrpd_config_reloads_total', 'Configurations applied by SIGHUP or vrrpd reload', [], (r) => [[{}, r.reloads]]),
    g('vrrpd_maintenance', 'Node-wide maintenance is on (1) or off (0)', [], (r) => [[{}, r.maintenance ? 1 : 0]]),
  ];
}

function instanceFamilies(): readonly Family[] {
  return [
    g(
      'vrrpd_instance_info',
      'One per instance: its VRID, interface, VRRP version and address family',
      ['instance', 'vrid', 'interface', 'version', 'family'],
      perInstance((i) => [
        [{ instance: i.name, vrid: String(i.vrid), interface: i.interface ?? '', version: String(i.version), family: String(i.family) }, 1],
      ]),
    ),
    g(
      'vrrpd_instance_state',
      'The instance is in this state (1) or not (0)',
      ['instance', 'state'],
      perInstance((i) => VRRP_STATES.map((s): Row => [{ instance: i.name, state: s }, i.state === s ? 1 : 0])),
    ),
    g(
      'vrrpd_instance_state_seconds',
      'Time in the current state',
      ['instance'],
      perInstance((i, m) => (i.since === null ? [] : [[{ instance: i.name }, Math.max(0, (m.nowMs() - Date.parse(i.since)) / 1000)]])),
    ),
    g('vrrpd_instance_priority', 'Effective priority (base, trackers, holds)', ['instance'], perInstance(one((i) => i.effectivePriority))),
    g('vrrpd_instance_base_priority', 'Configured priority', ['instance'], perInstance(one((i) => i.basePriority))),
    g('vrrpd_instance_advert_interval_seconds', 'Configured advert_int', ['instance'], perInstance(one((i) => i.advertIntMs / 1000))),
    g(
      'vrrpd_instance_master_down_interval_seconds',
      'Master_Down_Interval now',
      ['instance'],
      perInstance(one((i) => i.masterDownIntervalMs / 1000)),
    ),
    c('vrrpd_adverts_sent_total', 'Adverts sent', ['instance'], perInstance(one((i) => i.counters.advertsSent))),
    c('vrrpd_adverts_received_total', 'Adverts accepted', ['instance'], perInstance(one((i) => i.counters.advertsReceived))),
    c(
      'vrrpd_advert_drops_total',
      'Received packets dropped, by reason',
      ['instance', 'reason'],
      perInstance((i) => Object.entries(i.drops).map(([reason, n]): Row => [{ instance: i.name, reason }, n])),
    ),
    c(
      'vrrpd_transitions_total',
      'State changes by from, to and cause',
      ['instance', 'from', 'to', 'cause'],
      perInstance((i) => i.transitionCounts.map((t): Row => [{ instance: i.name, from: t.from, to: t.to, cause: t.cause }, t.count])),
    ),
    g(
      'vrrpd_vip_present',
      'A virtual address of the instance is on its interface (1) or not (0)',
      ['instance', 'address', 'kind'],
      perInstance((i) => [
        ...i.vips.map((v): Row => [{ instance: i.name, address: v.address, kind: 'vip' }, v.present ? 1 : 0]),
        ...i.evips.map((v): Row => [{ instance: i.name, address: v.address, kind: 'excluded' }, v.present ? 1 : 0]),
      ]),
    ),
    g(
      'vrrpd_tracker_up',
      "A tracked item's last result: 1 good, 0 bad (absent until it has one)",
      ['instance', 'kind', 'name'],
      perInstance((i) =>
        i.tracked.flatMap((t): Row[] => {
          const up = trackerUp(t);
          return up === undefined ? [] : [[{ instance: i.name, kind: t.kind, name: t.name }, up]];
        }),
      ),
    ),
  ];
}

function controlFamilies(): readonly Family[] {
  return [
    g('vrrpd_control_connections', 'Open control socket connections', ['socket'], (_r, m) =>
      m.controlStats().map((s): Row => [{ socket: s.socket }, s.connections]),
    ),
    c('vrrpd_control_requests_total', 'Control socket replies written', ['socket'], (_r, m) =>
      m.controlStats().map((s): Row => [{ socket: s.socket }, s.stats.answered]),
    ),
    c('vrrpd_control_refused_total', 'Control socket connections or requests refused or closed, by why', ['socket', 'why'], (_r, m) =>
      m.controlStats().flatMap((s): Row[] => [
        [{ socket: s.socket, why: 'over_cap' }, s.stats.overCap],
        [{ socket: s.socket, why: 'idle' }, s.stats.idleClosed],
        [{ socket: s.socket, why: 'too_long' }, s.stats.tooLong],
        [{ socket: s.socket, why: 'not_allowed' }, s.stats.refused],
      ]),
    ),
  ];
}

/** keepalived-exporter's per-instance counters: [metric name, keepalived stats field]. */
const KEEPALIVED_COUNTERS: readonly (readonly [string, keyof ReturnType<typeof keepalivedStats>])[] = [
  ['keepalived_advertisements_received_total', 'advert_rcvd'],
  ['keepalived_advertisements_sent_total', 'advert_sent'],
  ['keepalived_become_master_total', 'become_master'],
  ['keepalived_release_master_total', 'release_master'],
  ['keepalived_packet_length_errors_total', 'packet_len_err'],
  ['keepalived_advertisements_interval_errors_total', 'advert_interval_err'],
  ['keepalived_ip_ttl_errors_total', 'ip_ttl_err'],
  ['keepalived_invalid_type_received_total', 'invalid_type_rcvd'],
  ['keepalived_address_list_errors_total', 'addr_list_err'],
  ['keepalived_authentication_invalid_total', 'invalid_authtype'],
  ['keepalived_authentication_mismatch_total', 'authtype_mismatch'],
  ['keepalived_authentication_failure_total', 'auth_failure'],
  ['keepalived_priority_zero_received_total', 'pri_zero_rcvd'],
  ['keepalived_priority_zero_sent_total', 'pri_zero_sent'],
];

/** The report's counters under the names keepalivedStats (runtime/dumps.ts) reads. */
function statsOf(i: InstanceReport): ReturnType<typeof keepalivedStats> {
  const c = i.counters;
  return keepalivedStats({
    counters: {
      advertRcvd: c.advertsReceived,
      advertSent: c.advertsSent,
      becomeMaster: c.becameMaster,
      releaseMaster: c.releasedMaster,
      priZeroRcvd: c.priorityZeroReceived,
      priZeroSent: c.priorityZeroSent,
    },
    drops: i.drops,
  });
}

function keepalivedFamilies(): readonly Family[] {
  const common = ['iname', 'intf', 'vrid', 'state'];
  const labelsOf = (i: InstanceReport): Labels => ({ iname: i.name, intf: i.interface ?? '', vrid: String(i.vrid), state: i.state });
  const scripts = (r: StatusReport): Map<string, number> => {
    const out = new Map<string, number>();
    for (const i of r.instances)
      for (const t of i.tracked) if (t.kind === 'script' && t.status !== 'init') out.set(t.name, t.status === 'ok' ? 1 : 0);
    return out;
  };
  return [
    { name: 'keepalived_up', help: 'Status (keepalived exporter compatible)', type: 'gauge', labels: [], rows: () => [[{}, 1]] },
    {
      name: 'keepalived_vrrp_state',
      help: 'State of vrrp: 0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT (keepalived exporter compatible), one per VIP',
      type: 'gauge',
      labels: ['iname', 'intf', 'vrid', 'ip_address'],
      rows: perInstance((i) =>
        i.vips.map((v): Row => [
          { iname: i.name, intf: i.interface ?? '', vrid: String(i.vrid), ip_address: v.address },
          STATE_NUMBER[i.state] ?? 0,
        ]),
      ),
    },
    ...KEEPALIVED_COUNTERS.map(([name, field]): Family => ({
      name,
      help: `keepalived's ${field} (keepalived exporter compatible)`,
      type: 'counter',
      labels: common,
      rows: perInstance((i) => [[labelsOf(i), statsOf(i)[field]]]),
    })),
    {
      name: 'keepalived_script_status',
      help: 'Tracker script status: 1 GOOD, 0 BAD (keepalived exporter compatible)',
      type: 'gauge',
      labels: ['name'],
      rows: (r) => [...scripts(r)].map(([name, v]): Row => [{ name }, v]),
    },
  ];
}
