/**
 * The status report (`vrrpd status --json`, schema in status.schema.json): the daemon's own
 * snapshot (every field it has, e.g. the notifier's `lastHooks`, passes through) completed with
 * what an operator asks first: why this state, who is master, who else is out there and when we
 * last heard them, whether the VIPs are really on the interface (asked of the kernel's address
 * cache, not of our intentions), the manual holds, and counters under stable names.
 *
 * Built on the work queue, so it is one consistent snapshot between two protocol steps; building
 * it reads memory and one getsockopt(SO_MEMINFO) per VRRP receive socket (the kernel's drops,
 * `sockets`), so it never delays the protocol by more than that.
 */
import type { Daemon } from '../runtime/daemon.js';
import type { Instance } from '../runtime/instance.js';
import { SOURCE_TRACKER } from '../runtime/params.js';
import type { ProcessState } from '../runtime/track-process.js';
import { snapshotMasterDownMs, snapshotSkewMs } from '../protocol/fsm-step.js';
import { trackerShare } from '../protocol/tracking.js';
import type { HoldReport, InstanceReport, PeerReport, StatusReport, TrackReport } from './protocol.js';
import { PROTOCOL_VERSION } from './protocol.js';

export interface ReportMeta {
  readonly version: string;
  readonly configLoadedAtMs: number | null;
  readonly eventLoop: { readonly p50Ms: number; readonly p99Ms: number };
  /** The hold in force for an instance (maintenance, promote, yield), as reported. */
  readonly holdFor: (name: string) => HoldReport | null;
  readonly nodeMaintenance: HoldReport | null;
  /** Wall clock (tests). */
  readonly nowMs?: number;
}

type LegacyInstance = Readonly<Record<string, unknown>> & {
  readonly name: string;
  readonly counters?: Readonly<Record<string, number>>;
  readonly drops?: Readonly<Record<string, number>>;
};

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/**
 * Tracked items with what each contributes now (docs/keepalived-behaviour.md 3.6, same arithmetic as
 * tracking.ts); a tracked process also with its count and how it is watched, from `processOf`.
 */
export function trackReport(inst: Instance, processOf: (name: string) => ProcessState | undefined = () => undefined): TrackReport[] {
  const s = inst.snapshot;
  const p = s.params;
  const out: TrackReport[] = [];
  for (const t of p.trackInterfaces) {
    const up = s.tracking.interfaces[t.name] ?? true;
    const r = trackerShare(t.weight, t.reverse, up);
    if (t.name === SOURCE_TRACKER) {
      out.push({
        kind: 'source',
        name: inst.srcIp ?? 'none',
        status: up ? 'ok' : (inst.sourceProblem ?? 'missing'),
        weight: 0,
        contribution: null,
        fault: r.fault,
      });
      continue;
    }
    out.push({
      kind: 'interface',
      name: t.name,
      status: up ? 'up' : 'down',
      weight: t.weight,
      contribution: r.fault ? null : r.add,
      fault: r.fault,
    });
  }
  for (const t of p.trackScripts) {
    const st = s.tracking.scripts[t.name];
    const status = st?.status ?? 'init';
    if (status === 'init') {
      out.push({ kind: 'script', name: t.name, status, weight: t.weight, contribution: 0, fault: false });
      continue;
    }
    const r = trackerShare(t.weight, t.reverse, status === 'ok');
    out.push({ kind: 'script', name: t.name, status, weight: t.weight, contribution: r.fault ? null : r.add, fault: r.fault });
  }
  for (const t of p.trackFiles) {
    const value = s.tracking.files[t.name] ?? 0;
    if (t.weight === 0) {
      const fault = (value !== 0) !== t.reverse;
      out.push({ kind: 'file', name: t.name, status: String(value), weight: 0, contribution: fault ? null : 0, fault });
      continue;
    }
    const c = Math.max(-254, Math.min(253, value * t.weight * (t.reverse ? -1 : 1)));
    out.push({ kind: 'file', name: t.name, status: String(value), weight: t.weight, contribution: c <= -254 ? null : c, fault: c <= -254 });
  }
  for (const t of p.trackProcesses) {
    const quorum = s.tracking.processes[t.name];
    const r = quorum === undefined ? { fault: false, add: 0 } : trackerShare(t.weight, t.reverse, quorum);
    const w = processOf(t.name);
    out.push({
      kind: 'process',
      name: t.name,
      status: quorum === undefined ? 'init' : quorum ? 'quorum' : 'no quorum',
      weight: t.weight,
      contribution: r.fault ? null : r.add,
      fault: r.fault,
      ...(w === undefined ? {} : { count: w.count, source: w.source, pending: w.pending }),
    });
  }
  return out;
}

function presence(
  d: Daemon,
  inst: Instance,
  entries: readonly { address: string; dev: string | null }[],
): { address: string; present: boolean }[] {
  const addrs = d.hostAddresses();
  const links = d.hostLinks();
  return entries.map((e) => {
    const ifname = e.dev ?? inst.ifname;
    const ifindex = ifname === null ? undefined : links.find((l) => l.ifname === ifname)?.ifindex;
    const present = addrs.some((a) => a.address === e.address && (ifindex === undefined || a.ifindex === ifindex));
    return { address: e.address, present };
  });
}

export function instanceReport(d: Daemon, inst: Instance, legacy: LegacyInstance | undefined, meta: ReportMeta): InstanceReport {
  const s = inst.snapshot;
  const now = meta.nowMs ?? Date.now();
  const c = { ...s.counters, ...inst.counters };
  const drops: Record<string, number> = { ...(legacy?.drops ?? {}) };
  for (const [k, v] of inst.drops) drops[k] = v;
  const peers: PeerReport[] = [...inst.peers].map(([ip, v]) => ({
    ip,
    priority: v.priority,
    lastSeen: new Date(v.lastSeenMs).toISOString(),
    ageMs: Math.max(0, now - v.lastSeenMs),
  }));
  peers.sort((a, b) => a.ageMs - b.ageMs);
  const master = s.state === 'MASTER' ? { ip: inst.srcIp ?? s.params.srcIp, priority: s.effectivePriority } : s.master;
  const extra: Record<string, unknown> = {};
  // Fields the daemon adds that this builder does not know (e.g. lastHooks) pass through.
  for (const [k, v] of Object.entries(legacy ?? {})) if (!(k in REPORT_KEYS)) extra[k] = v;
  return {
    ...extra,
    name: inst.name,
    state: s.state,
    since: iso(inst.lastTransitionMs),
    reason: inst.describe(s.reason),
    vrid: inst.spec.vrid,
    interface: inst.ifname,
    srcIp: inst.srcIp,
    unicast: inst.spec.unicast,
    version: s.params.version,
    family: inst.spec.family,
    advertIntMs: s.params.adverIntMs,
    learnedAdvertIntMs: s.masterAdverIntMs,
    masterDownIntervalMs: snapshotMasterDownMs(s),
    skewMs: snapshotSkewMs(s),
    preempt: { mode: s.params.nopreempt ? 'nopreempt' : 'preempt', delayMs: s.params.preemptDelayMs },
    transitions: inst.transitions
      .recent()
      .map((e) => ({ at: new Date(e.atMs).toISOString(), from: e.from, to: e.to, reason: e.reason, cause: e.cause })),
    transitionCounts: inst.transitions.counts(),
    basePriority: s.params.basePriority,
    effectivePriority: s.effectivePriority,
    hold: meta.holdFor(inst.name),
    tracked: trackReport(inst, (n) => d.trackedProcess(n)),
    faults: s.faults.map((f) => inst.describe(f)),
    masterIp: master?.ip ?? null,
    masterPriority: master?.priority ?? null,
    master: master === null ? null : { ip: master.ip, priority: master.priority },
    peers,
    vips: presence(d, inst, inst.spec.vipEntries),
    evips: presence(d, inst, inst.spec.evipEntries),
    lastGarp: iso(inst.lastGarpMs),
    syncGroup: s.params.syncGroup,
    counters: {
      advertsSent: c.advertSent,
      advertsReceived: c.advertRcvd,
      becameMaster: c.becomeMaster,
      releasedMaster: c.releaseMaster,
      priorityZeroSent: c.priZeroSent,
      priorityZeroReceived: c.priZeroRcvd,
      lowerPriorityDiscarded: c.lowerPrioDiscarded,
      advertSendErrors: c.advertSendErrors,
      garpPackets: c.garpPackets,
      vipRestored: c.vipRestored,
      addressErrors: c.addressErrors,
      peersEvicted: c.peersEvicted,
      droppedTotal: Object.values(drops).reduce((a, b) => a + b, 0),
      // Older names, kept for scripts written against the first control socket.
      advertSent: c.advertSent,
      advertRcvd: c.advertRcvd,
    },
    drops,
  };
}

const REPORT_KEYS: Record<string, true> = Object.fromEntries(
  [
    'name',
    'state',
    'since',
    'reason',
    'vrid',
    'interface',
    'srcIp',
    'unicast',
    'version',
    'family',
    'advertIntMs',
    'learnedAdvertIntMs',
    'masterDownIntervalMs',
    'skewMs',
    'preempt',
    'transitions',
    'transitionCounts',
    'basePriority',
    'effectivePriority',
    'hold',
    'tracked',
    'faults',
    'masterIp',
    'masterPriority',
    'master',
    'peers',
    'vips',
    'evips',
    'lastGarp',
    'syncGroup',
    'counters',
    'drops',
    'wantState',
    'lastTransitionMs',
  ].map((k) => [k, true]),
);

/** The whole report. Must run on the work queue. */
export function buildReport(d: Daemon, meta: ReportMeta): StatusReport {
  const st = d.status();
  const now = meta.nowMs ?? Date.now();
  const legacy = new Map((st.instances as unknown as LegacyInstance[]).map((i) => [i.name, i]));
  return {
    protocol: PROTOCOL_VERSION,
    version: meta.version,
    pid: st.pid,
    configFile: st.configFile,
    configLoadedAt: iso(meta.configLoadedAtMs),
    reloads: st.reloads,
    startedAt: new Date(st.startedAtMs).toISOString(),
    uptimeMs: Math.max(0, now - st.startedAtMs),
    eventLoop: {
      maxLagMs: st.eventLoop.maxLagMs,
      lateTimers: st.eventLoop.lateTimers,
      p50Ms: meta.eventLoop.p50Ms,
      p99Ms: meta.eventLoop.p99Ms,
    },
    maintenance: meta.nodeMaintenance,
    instances: d.instances.map((i) => instanceReport(d, i, legacy.get(i.name), meta)),
    syncGroups: st.syncGroups,
    interfaces: st.interfaces,
    sockets: st.sockets,
  };
}
