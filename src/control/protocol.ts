/**
 * The control socket protocol (DESIGN.md: the CLI talks to the daemon only through it): a Unix
 * stream socket, one JSON object per line each way. A client sends requests and reads one response
 * line per request, in order. Pure: no sockets here, so `vrrpd status` can import it without io/.
 *
 * Requests carry `cmd` and its arguments; `user` is what the client says it runs as (the server
 * prefers the kernel's SO_PEERCRED when it can read it). Responses are `{ok: true, ...}` or
 * `{ok: false, error}`; `error` is a sentence for the operator.
 */

export const PROTOCOL_VERSION = 1;

/** Default control socket of `vrrpd run` (its default state dir is /run/vrrpd). */
export const DEFAULT_SOCKET = '/run/vrrpd/vrrpd.sock';

export type ControlRequest =
  | { readonly cmd: 'status'; readonly instance?: string }
  | { readonly cmd: 'ping' }
  | { readonly cmd: 'reload' }
  /** Hold the instance above the current master (or at `priority`) and take MASTER now; `clear` drops the hold. */
  | { readonly cmd: 'promote'; readonly instance?: string; readonly vrid?: number; readonly clear?: boolean; readonly priority?: number }
  /** On the MASTER: hand the instance over to the best peer. `peerSockets`: control sockets of vrrpd peers to try first. */
  | { readonly cmd: 'switchover'; readonly instance: string; readonly peerSockets?: readonly string[] }
  /** Keep this node (or one instance) out of MASTER; `forMs` ends it automatically. Persisted. */
  | { readonly cmd: 'maintenance'; readonly on: boolean; readonly instance?: string; readonly forMs?: number };

export type ControlCommand = ControlRequest['cmd'];

/** Common envelope fields a client may add to any request. */
export interface RequestEnvelope {
  /** The client's own idea of who it runs as (used when peer credentials are unavailable). */
  readonly user?: string;
  /** Echoed back in the response. */
  readonly id?: string | number;
}

export type ControlResponse =
  | ({ readonly ok: true; readonly id?: string | number } & Readonly<Record<string, unknown>>)
  | { readonly ok: false; readonly id?: string | number; readonly error: string };

const COMMANDS: ReadonlySet<string> = new Set(['status', 'ping', 'reload', 'promote', 'switchover', 'maintenance']);

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const optStr = (o: Record<string, unknown>, k: string): boolean => o[k] === undefined || typeof o[k] === 'string';
const optInt = (o: Record<string, unknown>, k: string, min: number, max: number): boolean =>
  o[k] === undefined || (typeof o[k] === 'number' && Number.isInteger(o[k]) && o[k] >= min && o[k] <= max);

/**
 * Parse one request line. The bare words `status`, `ping` and `reload` are accepted too (for
 * `socat`/`nc` users). Bad input is a value, never a throw.
 */
export function parseRequest(
  line: string,
): { ok: true; req: ControlRequest & RequestEnvelope } | { ok: false; error: string; id?: string | number } {
  const text = line.trim();
  if (!text.startsWith('{')) {
    if (text === 'status' || text === 'ping' || text === 'reload') return { ok: true, req: { cmd: text } };
    return { ok: false, error: `unknown command '${text.slice(0, 40)}'` };
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { ok: false, error: 'bad JSON' };
  }
  if (!isObj(v)) return { ok: false, error: 'a request is a JSON object' };
  const id = typeof v.id === 'string' || typeof v.id === 'number' ? v.id : undefined;
  const fail = (error: string): { ok: false; error: string; id?: string | number } =>
    id === undefined ? { ok: false, error } : { ok: false, error, id };
  if (typeof v.cmd !== 'string' || !COMMANDS.has(v.cmd)) return fail(`unknown command '${String(v.cmd).slice(0, 40)}'`);
  if (!optStr(v, 'user') || !optStr(v, 'instance')) return fail('user and instance must be strings');
  switch (v.cmd) {
    case 'promote':
      if (!optInt(v, 'priority', 1, 255)) return fail('priority must be an integer 1..255');
      if (!optInt(v, 'vrid', 1, 255)) return fail('vrid must be an integer 1..255');
      if (v.clear !== undefined && typeof v.clear !== 'boolean') return fail('clear must be true or false');
      if (v.instance === undefined && v.vrid === undefined && v.clear !== true) return fail('promote needs an instance');
      break;
    case 'switchover':
      if (typeof v.instance !== 'string') return fail('switchover needs an instance');
      if (v.peerSockets !== undefined && !(Array.isArray(v.peerSockets) && v.peerSockets.every((p) => typeof p === 'string')))
        return fail('peerSockets must be a list of paths');
      break;
    case 'maintenance':
      if (typeof v.on !== 'boolean') return fail('maintenance needs on: true or false');
      if (!optInt(v, 'forMs', 1, 366 * 86_400_000)) return fail('forMs must be a positive integer (ms)');
      break;
    default:
      break;
  }
  return { ok: true, req: v as unknown as ControlRequest & RequestEnvelope };
}

/** One response line (with the newline). */
export function encodeLine(v: unknown): string {
  return `${JSON.stringify(v)}\n`;
}

/**
 * A response serialized once and sent many times (the status snapshot): `line(id)` is the same
 * text `encodeLine({...response, id})` would give, without serializing the response again.
 */
export class EncodedResponse {
  #bytes: Buffer | undefined;
  /** `json`: the response object as JSON text (`{...}`). */
  constructor(readonly json: string) {}

  /** The line to send (with its newline); without an id, the same bytes every time. */
  line(id?: string | number): string | Buffer {
    if (id === undefined) return (this.#bytes ??= Buffer.from(`${this.json}\n`, 'utf8'));
    return `${this.json.slice(0, -1)},"id":${JSON.stringify(id)}}\n`;
  }
}

/**
 * `10m`, `90s`, `2h`, `1d`, `1500ms` or a bare number of seconds -> ms; undefined for anything else.
 */
export function parseDuration(s: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(s.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h' | 'd'];
  const ms = Math.round(n * unit);
  return ms > 0 ? ms : undefined;
}

// ---------------------------------------------------------------------------------------------
// The status report (`vrrpd status --json`; schema in status.schema.json)

/** A manual hold on an instance's priority (promote, switchover's yield, maintenance). */
export interface HoldReport {
  readonly kind: 'promote' | 'yield' | 'maintenance';
  /** The priority it holds the instance at. */
  readonly priority: number;
  /** Who asked: `user (uid N, pid P)` or the client's reported user. */
  readonly by: string;
  /** ISO time it was set. */
  readonly since: string;
  /** ISO time it ends by itself (maintenance --for), or null. */
  readonly until: string | null;
  /** Node-wide maintenance (not only this instance). */
  readonly nodeWide?: boolean;
}

export interface TrackReport {
  readonly kind: 'interface' | 'script' | 'file' | 'process' | 'source';
  readonly name: string;
  /** up/down, ok/ko/init, the file's value as a string, or quorum/no quorum (init: not counted yet). */
  readonly status: string;
  readonly weight: number;
  /** What it adds to the priority now (negative lowers it); null when it causes a fault instead. */
  readonly contribution: number | null;
  /** This item puts the instance in FAULT now. */
  readonly fault: boolean;
  /** A process: how many matching processes run now (as last counted). */
  readonly count?: number;
  /**
   * A process: how the count is kept: `events`, the kernel's process events (proc connector,
   * netlink), or `scan`, /proc read every second (where the events are not available).
   */
  readonly source?: 'events' | 'scan';
  /** A process: a fork_delay / terminate_delay is running before the quorum changes. */
  readonly pending?: boolean;
}

export interface PeerReport {
  readonly ip: string;
  /** Priority in its last advert. */
  readonly priority: number;
  /** ISO time of its last valid advert. */
  readonly lastSeen: string;
  readonly ageMs: number;
}

export interface InstanceReport {
  readonly name: string;
  readonly state: 'INIT' | 'BACKUP' | 'MASTER' | 'FAULT' | 'STOP';
  /** ISO time of the last state change, or null (never changed since start). */
  readonly since: string | null;
  readonly reason: string;
  readonly vrid: number;
  readonly interface: string | null;
  readonly srcIp: string | null;
  readonly unicast: boolean;
  /** VRRP version: 2 (RFC 3768) or 3 (RFC 5798). */
  readonly version: 2 | 3;
  /** Address family of the instance: 4 or 6. */
  readonly family: 4 | 6;
  /** Configured advert_int in ms (v3: whole centiseconds). */
  readonly advertIntMs: number;
  /** v3: the master's advert interval (Master_Adver_Interval) learned from its adverts, in ms; null when none was learned (always for v2). */
  readonly learnedAdvertIntMs: number | null;
  /** Master_Down_Interval now (ms): from the learned interval (v3) and the effective priority. */
  readonly masterDownIntervalMs: number;
  /** Skew_Time now (ms). */
  readonly skewMs: number;
  /** `nopreempt` and `preempt_delay`. */
  readonly preempt: { readonly mode: 'preempt' | 'nopreempt'; readonly delayMs: number };
  /** The last state changes, oldest first (TRANSITION_HISTORY of them). */
  readonly transitions: readonly TransitionReport[];
  /** State changes since start by from, to and cause (the causes: protocol/transition-cause.ts). */
  readonly transitionCounts: readonly { readonly from: string; readonly to: string; readonly cause: string; readonly count: number }[];
  readonly basePriority: number;
  readonly effectivePriority: number;
  readonly hold: HoldReport | null;
  readonly tracked: readonly TrackReport[];
  readonly faults: readonly string[];
  /** The master as last seen (ourselves when MASTER). */
  readonly masterIp: string | null;
  readonly masterPriority: number | null;
  readonly peers: readonly PeerReport[];
  readonly vips: readonly { readonly address: string; readonly present: boolean }[];
  readonly evips: readonly { readonly address: string; readonly present: boolean }[];
  readonly lastGarp: string | null;
  readonly syncGroup: string | null;
  readonly counters: Readonly<Record<string, number>> & {
    readonly advertsSent: number;
    readonly advertsReceived: number;
    readonly becameMaster: number;
    readonly releasedMaster: number;
    readonly priorityZeroSent: number;
    readonly priorityZeroReceived: number;
  };
  readonly drops: Readonly<Record<string, number>>;
  /** Last hook runs (notify scripts), when the notifier reports them. */
  readonly lastHooks?: unknown;
  /** Kept for older clients: `{ip, priority}` of masterIp/masterPriority. */
  readonly master: { readonly ip: string; readonly priority: number } | null;
}

export interface TransitionReport {
  readonly at: string;
  readonly from: string;
  readonly to: string;
  readonly reason: string;
  readonly cause: string;
}

export interface StatusReport {
  readonly protocol: number;
  readonly version: string;
  readonly pid: number;
  readonly configFile: string;
  /** ISO time the running config was loaded (start or last successful reload). */
  readonly configLoadedAt: string | null;
  readonly reloads: number;
  readonly startedAt: string;
  readonly uptimeMs: number;
  readonly eventLoop: { readonly maxLagMs: number; readonly lateTimers: number; readonly p50Ms: number; readonly p99Ms: number };
  readonly maintenance: HoldReport | null;
  readonly instances: readonly InstanceReport[];
  readonly syncGroups: readonly { readonly name: string; readonly members: readonly string[] }[];
  readonly interfaces: Readonly<Record<string, unknown>>;
  /** The VRRP receive sockets, with the kernel's drops on each (absent from daemons before it). */
  readonly sockets?: readonly SocketReport[];
}

/** One VRRP receive socket in the report. */
export interface SocketReport {
  readonly family: 4 | 6;
  readonly ifname: string;
  /** IPv6: the channel's group or unicast source; IPv4: null (one socket per interface). */
  readonly channel: string | null;
  readonly rxPackets: number;
  /** Packets the kernel dropped on this socket (SO_MEMINFO, /proc/net/raw `drops`); null: unreadable. */
  readonly kernelDrops: number | null;
}
