/**
 * What the failover and fast-advert benchmarks share beyond test/support/vrrp-harness.ts: the VRRP
 * version and advert interval of a lab config (VRRPv2 with PASS auth, or VRRPv3 with a centisecond
 * interval and no auth), the protocol's timer bounds for them, and an incremental reader of the
 * wire watcher's tcpdump text that knows VRRPv3 adverts too (tcpdump 4.99 prints
 * `VRRPv3, Advertisement, vrid 51, prio 100, intvl 10cs, length 12`); and what the fast-advert
 * benchmark watches in a daemon under load: advert gaps on the wire, `--trace-gc` pauses, and a
 * `status` poller on the control socket.
 */
import {
  keepalivedConf,
  parseTcpdumpText,
  wallNowMs,
  type InstanceConf,
  type WireAdvert,
  type WireGarp,
  type WireView,
} from '../test/support/vrrp-harness.js';
import type { NsProcess } from '../test/support/lab-types.js';
import { request } from '../src/control/client.js';

export type VrrpVersion = 2 | 3;

export interface Timing {
  version: VrrpVersion;
  /** advert_int in seconds as written in the config (v2: whole seconds; v3: 0.01 to 40.95). */
  advertIntS: number;
  /** v3 only: `vrrp_version 3` in global_defs, or `version 3` in the instance. */
  versionIn: 'global' | 'instance';
}

/** advert_int in milliseconds. */
export const advertMs = (t: Timing): number => Math.round(t.advertIntS * 1000);

/** Why `s` is not an advert_int keepalived accepts for this version, or null. */
export function badAdvertInt(version: VrrpVersion, s: number): string | null {
  if (!Number.isFinite(s)) return 'advert_int must be a number of seconds';
  if (version === 2) return Number.isInteger(s) && s >= 1 && s <= 255 ? null : 'VRRPv2 advert_int is 1 to 255 whole seconds';
  const cs = Math.round(s * 100);
  return Math.abs(cs - s * 100) < 1e-6 && cs >= 1 && cs <= 4095 ? null : 'VRRPv3 advert_int is 0.01 to 40.95 s in steps of 0.01';
}

/**
 * Skew_Time at `priority`: RFC 3768 (v2) (256 - Priority) / 256 s, whatever the interval;
 * RFC 5798 (v3) (256 - Priority) * Master_Adver_Interval / 256.
 */
export function skewMs(t: Timing, priority: number): number {
  return t.version === 2 ? ((256 - priority) * 1000) / 256 : ((256 - priority) * advertMs(t)) / 256;
}

/** Master_Down_Interval = 3 * advert interval + Skew_Time (both RFCs). */
export function masterDownMs(t: Timing, priority: number): number {
  return 3 * advertMs(t) + skewMs(t, priority);
}

/** The bound in words: `Master_Down_Interval at priority 100 = 3 x 100 + (256 - 100) x 100 / 256 = 360.9 ms (Skew_Time 60.9 ms)`. */
export function boundText(t: Timing, priority: number): string {
  const a = advertMs(t);
  const skew = t.version === 2 ? `(256 - ${priority}) x 1000 / 256` : `(256 - ${priority}) x ${a} / 256`;
  return `Master_Down_Interval at priority ${priority} = 3 x ${a} + ${skew} = ${masterDownMs(t, priority).toFixed(1)} ms (Skew_Time ${skewMs(t, priority).toFixed(1)} ms)`;
}

/** `advert_int 0.1, VRRPv3 (vrrp_version 3 in global_defs), no auth` or `advert_int 1, VRRPv2, PASS auth`. */
export function describe(t: Timing): string {
  if (t.version === 2) return `VRRPv2, PASS auth, advert_int ${t.advertIntS}`;
  const where = t.versionIn === 'global' ? '`vrrp_version 3` in global_defs' : '`version 3` in the instance';
  return `VRRPv3 (${where}), no auth, advert_int ${t.advertIntS}`;
}

/**
 * A lab keepalived.conf (read unchanged by vrrpd) for this timing: v2 gets `auth_type PASS` with
 * `authPass`; v3 gets no authentication block at all (keepalived ignores auth under v3).
 */
export function timedConf(routerId: string, inst: Omit<InstanceConf, 'advertInt' | 'authPass'>, t: Timing, authPass: string): string {
  const extra = [...(inst.extra ?? [])];
  const globals: string[] = [];
  if (t.version === 3) (t.versionIn === 'global' ? globals : extra).push(t.versionIn === 'global' ? 'vrrp_version 3' : 'version 3');
  return keepalivedConf(
    routerId,
    { ...inst, advertInt: t.advertIntS, ...(t.version === 2 ? { authPass } : {}), ...(extra.length ? { extra } : {}) },
    globals,
  );
}

const ADVERT_RE =
  /^(\d+\.\d+) (\S+) > \S+, ethertype IPv4 \(0x0800\), length \d+: (\S+) > (\S+): VRRPv([23]), Advertisement, vrid (\d+), prio (\d+)(?:, authtype (\S+))?, intvl (\d+)(s|cs)/;

/** One tcpdump line as a VRRPv2 or v3 advert (intvl in seconds, auth '' under v3), or undefined. */
export function parseAdvertLine(line: string): WireAdvert | undefined {
  const m = ADVERT_RE.exec(line);
  if (!m) return undefined;
  return {
    ms: Number(m[1]) * 1000,
    srcMac: m[2]!,
    src: m[3]!,
    dst: m[4]!,
    vrid: Number(m[6]),
    prio: Number(m[7]),
    auth: m[8] ?? '',
    intvl: m[10] === 'cs' ? Number(m[9]) / 100 : Number(m[9]),
  };
}

/**
 * The wire watcher's output as adverts (v2 and v3) and gratuitous ARPs, parsed once per line as it
 * arrives: the failover rounds poll this every 2 ms, and at a 100 ms interval the text grows fast.
 */
export function wireReader(proc: Pick<NsProcess, 'stdout'>): () => WireView {
  let done = 0;
  const adverts: WireAdvert[] = [];
  const garps: WireGarp[] = [];
  return () => {
    const text = proc.stdout;
    const end = text.lastIndexOf('\n') + 1;
    if (end > done) {
      for (const line of text.slice(done, end).split('\n')) {
        const adv = parseAdvertLine(line);
        if (adv) adverts.push(adv);
        else garps.push(...parseTcpdumpText(line).garps);
      }
      done = end;
    }
    return { adverts, garps }; // callers only read them
  };
}

export interface AdvertGaps {
  /** Adverts (priority > 0) this sender put on the wire in the window. */
  count: number;
  /** The longest time between two of its consecutive adverts with no other sender's advert between (it was master throughout). */
  maxGapMs: number;
  /** When that gap ended (ms since the window's start). */
  atMs: number;
  /** Gaps longer than two advert intervals. */
  over2: number;
}

/**
 * Per sender in `srcs`, how regularly it advertised while master in [fromMs, toMs]: a gap between
 * two of its adverts counts only when no other sender advertised in between (a backup's silence
 * is not a gap).
 */
export function masterAdvertGaps(
  adverts: readonly WireAdvert[],
  srcs: readonly string[],
  fromMs: number,
  toMs: number,
  intervalMs: number,
): AdvertGaps[] {
  const live = adverts.filter((x) => x.prio > 0 && x.ms >= fromMs && x.ms <= toMs).sort((x, y) => x.ms - y.ms);
  return srcs.map((src) => {
    const g: AdvertGaps = { count: 0, maxGapMs: 0, atMs: Number.NaN, over2: 0 };
    let prev: number | undefined;
    for (const x of live) {
      if (x.src !== src) {
        prev = undefined;
        continue;
      }
      g.count++;
      if (prev !== undefined) {
        const gap = x.ms - prev;
        if (gap > 2 * intervalMs) g.over2++;
        if (gap > g.maxGapMs) {
          g.maxGapMs = gap;
          g.atMs = x.ms - fromMs;
        }
      }
      prev = x.ms;
    }
    return g;
  });
}

export interface GcPauses {
  scavenges: number;
  /** Mark-Compact (and Mark-sweep) collections. */
  full: number;
  /** The longest main-thread pause node's `--trace-gc` reported (ms), and its kind. */
  maxPauseMs: number;
  maxKind: string;
}

/** `[pid:0x...]   1234 ms: Scavenge 4.4 (5.8) -> 3.9 (6.8) MB, 0.77 / 0.00 ms  ...` lines of `--trace-gc`. */
export function gcPauses(text: string): GcPauses {
  const out: GcPauses = { scavenges: 0, full: 0, maxPauseMs: 0, maxKind: '' };
  const re =
    /^\[\d+:0x[0-9a-f]+\]\s+\d+ ms: ([A-Za-z -]+?)(?: \([a-z]+\))? [\d.]+ \([\d.]+\) -> [\d.]+ \([\d.]+\) MB, (?:pooled: [\d.]+ MB, )?([\d.]+) \/ [\d.]+ ms/gm;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const kind = m[1]!;
    if (kind.startsWith('Scavenge') || kind.startsWith('Minor')) out.scavenges++;
    else out.full++;
    const ms = Number(m[2]);
    if (ms > out.maxPauseMs) {
      out.maxPauseMs = ms;
      out.maxKind = kind;
    }
  }
  return out;
}

/** What the poller reads from a status reply (`{ ok: true, status: StatusReport }`, src/control/protocol.ts). */
interface StatusBits {
  eventLoop?: { maxLagMs?: number; p99Ms?: number; lateTimers?: number };
  reloads?: number;
}

export interface PollStats {
  ok: number;
  failed: number;
  /** Ticks when 4 requests were still in flight. */
  skipped: number;
  p99RttMs: number;
  maxRttMs: number;
  /** The worst eventLoop.maxLagMs, p99Ms and lateTimers any reply reported. */
  maxLagMs: number;
  maxP99Ms: number;
  lateTimers: number;
  /** The status `reloads` counter at the end. */
  reloads: number;
  firstError: string | null;
  /** When the reported maxLagMs went up (ms since start, value). */
  lagSteps: { ms: number; lagMs: number }[];
}

/** One node's status poller: a request every 1/hz s, at most 4 in flight (more count as skipped). */
export class Poller {
  ok = 0;
  failed = 0;
  skipped = 0;
  inFlight = 0;
  maxRttMs = 0;
  readonly rtts: number[] = [];
  maxLagMs = 0;
  maxP99Ms = 0;
  lateTimers = 0;
  reloads = 0;
  firstError: string | null = null;
  /** When the reported maxLagMs went up (ms since start, value). */
  readonly lagSteps: { ms: number; lagMs: number }[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(
    readonly sock: string,
    readonly t0: number,
  ) {}

  start(hz: number): void {
    this.#timer = setInterval(() => this.#poll(), 1000 / hz);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  stats(): PollStats {
    const s = [...this.rtts].sort((x, y) => x - y);
    const p99RttMs = s.length ? s[Math.min(s.length - 1, Math.floor(s.length * 0.99))]! : Number.NaN;
    const { ok, failed, skipped, maxRttMs, maxLagMs, maxP99Ms, lateTimers, reloads, firstError, lagSteps } = this;
    return { ok, failed, skipped, p99RttMs, maxRttMs, maxLagMs, maxP99Ms, lateTimers, reloads, firstError, lagSteps };
  }

  #poll(): void {
    if (this.inFlight >= 4) {
      this.skipped++;
      return;
    }
    this.inFlight++;
    const t = wallNowMs();
    request(this.sock, { cmd: 'status' }, 2000).then(
      (r) => {
        this.inFlight--;
        const rtt = wallNowMs() - t;
        this.rtts.push(rtt);
        this.maxRttMs = Math.max(this.maxRttMs, rtt);
        if (!r.ok) return this.#fail(r.error);
        this.ok++;
        this.#read((r as { status?: StatusBits }).status ?? {});
      },
      (e: unknown) => {
        this.inFlight--;
        this.#fail(e instanceof Error ? e.message : String(e));
      },
    );
  }

  #fail(why: string): void {
    this.failed++;
    this.firstError ??= why;
  }

  #read(r: StatusBits): void {
    const lag = r.eventLoop?.maxLagMs ?? 0;
    if (lag > this.maxLagMs) this.lagSteps.push({ ms: wallNowMs() - this.t0, lagMs: lag });
    this.maxLagMs = Math.max(this.maxLagMs, lag);
    this.maxP99Ms = Math.max(this.maxP99Ms, r.eventLoop?.p99Ms ?? 0);
    this.lateTimers = Math.max(this.lateTimers, r.eventLoop?.lateTimers ?? 0);
    this.reloads = Math.max(this.reloads, r.reloads ?? 0);
  }
}
