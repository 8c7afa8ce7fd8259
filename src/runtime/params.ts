/**
 * Config model -> what the runtime needs per instance: the state machine's `InstanceParams` plus
 * the wire and host facts the state machine does not see (interface, peers, password, address
 * entries, hooks). Pure.
 *
 * Implicit tracking (docs/keepalived-behaviour.md 3.6): the instance's own interface with weight 0 unless
 * `dont_track_primary`; interfaces carrying VIPs/eVIPs (unless `no_track`); the sync group's
 * track_interface/track_script/track_file on every member. One more tracked "interface" is
 * synthetic, {@link SOURCE_TRACKER}: weight 0, "up" while the instance has a usable source address
 * (its interface exists and carries `unicast_src_ip`/`mcast_src_ip`, or has a primary IPv4
 * address). It is how a missing interface or source address at start becomes FAULT through the
 * state machine's own rules, and recovers when it appears.
 */
import type { AuthType } from '../protocol/types.js';
import { canonicalIpv6 } from '../protocol/ipv6-address.js';
import { addressVmacPlan, type AddressVmacPlan, type VmacLink } from './addr-vmac.js';
import {
  makeInstanceParams,
  type InstanceParams,
  type TrackedFile,
  type TrackedProcess,
  type TrackedInterface,
  type TrackedScript,
} from '../protocol/instance-params.js';
import type {
  AddressEntry,
  DeepReadonly,
  FrozenConfig,
  NotifyKind,
  RouteEntry,
  RuleEntry,
  ScriptCommand,
  SyncGroup,
  TrackFile,
  TrackProcess,
  VrrpInstance,
  VrrpScript,
} from '../config/model.js';

/** The synthetic tracked interface standing for "a usable source address exists". */
export const SOURCE_TRACKER = '@source-address';

type R<T> = DeepReadonly<T>;

export interface UnicastPeerSpec {
  readonly address: string;
  readonly minTtl: number;
  readonly maxTtl: number;
}

/** The instance's VMAC (`use_vmac`, docs/vmac.md): its name and MAC. */
export interface VmacSpec {
  readonly ifname: string;
  readonly mac: string;
  /** `vmac_xmit_base`: the adverts are sent and received on the parent (`interface`), not on the VMAC. */
  readonly xmitBase: boolean;
}

/** `use_vmac`: the configured name or `vrrp.<VRID>`, MAC 00:00:5e:00:01:<VRID> (00:00:5e:00:02:<VRID> for IPv6). */
export function vmacSpec(inst: R<VrrpInstance>): VmacSpec | null {
  if (!inst.useVmac) return null;
  const vrid = inst.virtualRouterId.toString(16).padStart(2, '0');
  return {
    ifname: inst.vmacIfname ?? `vrrp.${inst.virtualRouterId}`,
    mac: `00:00:5e:00:0${inst.family === 6 ? 2 : 1}:${vrid}`,
    xmitBase: inst.vmacXmitBase,
  };
}

/** Everything the runtime knows about one configured instance. */
export interface InstanceSpec {
  readonly name: string;
  readonly vrid: number;
  /** Configured interface; null for a unicast instance found by its `unicast_src_ip`. */
  readonly interface: string | null;
  /** `use_vmac`: the macvlan on `interface` that carries the VIPs, GARPs and (without `vmac_xmit_base`) adverts; else null. */
  readonly vmac: VmacSpec | null;
  /**
   * The VMACs of their own of VIPs/eVIPs (`use_vmac_addr`, `use_vmac` on a VIP line: addr-vmac.ts),
   * made and removed with `vmac`; those entries' `dev` is their VMAC.
   */
  readonly addrVmacs: readonly VmacLink[];
  readonly unicast: boolean;
  /** `version` / `vrrp_version` (3 for IPv6). */
  readonly version: 2 | 3;
  /** Address family of the instance: of its VIPs, peers and adverts. */
  readonly family: 4 | 6;
  /** global_defs `vrrp_mcast_group4`: the destination the pre-1.3.6 v3 unicast checksum puts in its pseudo-header. */
  readonly mcastGroup4: string;
  readonly peers: readonly UnicastPeerSpec[];
  readonly unicastTtl: number;
  /** Multicast destination (`mcast_dst_ip`, or global `vrrp_mcast_group4` / `vrrp_mcast_group6`). */
  readonly mcastGroup: string;
  /** `unicast_src_ip` / `mcast_src_ip`, or null = the interface's primary address. */
  readonly configuredSrcIp: string | null;
  readonly checkUnicastSrc: boolean;
  /** `old_unicast_checksum`: `old` from the start, `never` switch to it, null: switch when a peer uses it. */
  readonly oldUnicastChecksum: 'old' | 'never' | null;
  /** `track_src_ip`: losing the source address later is a FAULT too. */
  readonly trackSrcIp: boolean;
  readonly authType: AuthType;
  /** PASS password (never logged). */
  readonly authPass: string | undefined;
  /** VIPs (of the instance's family) and eVIPs (either family, as keepalived allows) by address. */
  readonly vipEntries: readonly R<AddressEntry>[];
  readonly evipEntries: readonly R<AddressEntry>[];
  readonly routes: readonly R<RouteEntry>[];
  readonly rules: readonly R<RuleEntry>[];
  readonly notify: Readonly<Partial<Record<NotifyKind, R<ScriptCommand>>>>;
  /** vrrp_script blocks this instance tracks (directly or through its sync group). */
  readonly scripts: readonly R<VrrpScript>[];
  readonly trackFiles: readonly R<TrackFile>[];
  /** vrrp_track_process blocks this instance tracks (directly or through its sync group). */
  readonly trackProcesses: readonly R<TrackProcess>[];
  /** State machine params; `srcIp` is `configuredSrcIp` or 0.0.0.0 until the runtime resolves it. */
  readonly params: InstanceParams;
  /** Reload identity (docs/keepalived-behaviour.md 6 step 3): VRID, family, interface, unicast or not, source, group. */
  readonly matchKey: string;
}

const AUTH: Record<'NONE' | 'PASS' | 'AH', AuthType> = { NONE: 0, PASS: 1, AH: 2 };

/** Text the state machine carries for a route/rule (the runtime maps it back to the entry). */
export function routeKey(r: R<RouteEntry>): string {
  return r.words.join(' ');
}
export function ruleKey(r: R<RuleEntry>): string {
  return r.words.join(' ');
}

/** Map every `vrrp_instance` of a loaded config. */
export function instanceSpecs(cfg: FrozenConfig): InstanceSpec[] {
  return cfg.instances.map((i) => instanceSpec(cfg, i));
}

export function instanceSpec(cfg: FrozenConfig, inst: R<VrrpInstance>): InstanceSpec {
  const g = cfg.global;
  const group = inst.syncGroup === null ? undefined : cfg.syncGroups.find((s) => s.name === inst.syncGroup);
  const unicast = inst.unicastPeers.length > 0;
  const configuredSrcIp = sourceOf(unicast ? inst.unicastSrcIp : inst.mcastSrcIp);
  const { plan, vipEntries, evipEntries } = addressEntries(cfg, inst);
  const trackInterfaces = trackedInterfaces(inst, group, [...vipEntries, ...evipEntries]);
  const { scripts, trackScripts } = trackedScripts(cfg, inst, group);
  const { trackFiles, trackedFiles } = trackedFileList(cfg, inst, group);
  const { trackProcesses, trackedProcesses } = trackedProcessList(cfg, inst, group);

  const noTrack = [...vipEntries, ...evipEntries].filter((a) => a.noTrack).map((a) => a.address);

  const params = makeInstanceParams({
    name: inst.name,
    vrid: inst.virtualRouterId,
    basePriority: inst.priority,
    initialState: inst.state,
    version: inst.version,
    adverIntMs: inst.advertIntMs,
    nopreempt: inst.nopreempt,
    preemptDelayMs: inst.preemptDelayMs,
    downTimerAdverts: inst.downTimerAdverts,
    lowerPrioNoAdvert: inst.lowerPrioNoAdvert,
    higherPrioSendAdvert: inst.higherPrioSendAdvert,
    skipCheckAdvAddr: inst.skipCheckAdvAddr,
    authType: AUTH[inst.authType],
    garp: {
      masterDelayMs: inst.garpMasterDelayMs,
      masterRepeat: inst.garpMasterRepeat,
      masterRefreshMs: inst.garpMasterRefreshMs,
      masterRefreshRepeat: inst.garpMasterRefreshRepeat,
      lowerPrioDelayMs: inst.garpLowerPrioDelayMs,
      lowerPrioRepeat: inst.garpLowerPrioRepeat,
      intervalMs: g.vrrpGarpIntervalMs,
      gnaIntervalMs: g.vrrpGnaIntervalMs,
    },
    vips: vipEntries.map((a) => a.address),
    evips: evipEntries.map((a) => a.address),
    virtualRoutes: inst.virtualRoutes.map(routeKey),
    virtualRules: inst.virtualRules.map(ruleKey),
    noTrackAddresses: noTrack,
    srcIp: configuredSrcIp ?? '0.0.0.0',
    trackInterfaces,
    trackScripts,
    trackFiles: trackedFiles,
    trackProcesses: trackedProcesses,
    syncGroup: group?.name ?? null,
  });

  const mcastGroup = canonical(inst.mcastDstIp ?? (inst.family === 6 ? g.vrrpMcastGroup6 : g.vrrpMcastGroup4));
  return {
    name: inst.name,
    vrid: inst.virtualRouterId,
    interface: inst.interface,
    vmac: vmacSpec(inst),
    addrVmacs: plan.links,
    unicast,
    version: inst.version,
    family: inst.family,
    mcastGroup4: g.vrrpMcastGroup4,
    peers: inst.unicastPeers.map((p) => ({ address: canonical(p.address), minTtl: p.minTtl, maxTtl: p.maxTtl })),
    unicastTtl: inst.unicastTtl,
    mcastGroup,
    configuredSrcIp,
    checkUnicastSrc: inst.checkUnicastSrc || inst.unicastPeers.some((p) => p.minTtl > 0 || p.maxTtl < 255),
    trackSrcIp: inst.trackSrcIp,
    oldUnicastChecksum: inst.oldUnicastChecksum,
    authType: AUTH[inst.authType],
    authPass: inst.authType === 'PASS' ? (inst.authPass ?? undefined) : undefined,
    vipEntries,
    evipEntries,
    routes: inst.virtualRoutes,
    rules: inst.virtualRules,
    notify: inst.notify,
    scripts,
    trackFiles,
    trackProcesses,
    params,
    matchKey: matchKey(inst, unicast, mcastGroup),
  };
}

/** Reload identity (docs/keepalived-behaviour.md 6 step 3): VRID, family, interface, unicast or not, source, group, VMACs. */
function matchKey(inst: R<VrrpInstance>, unicast: boolean, mcastGroup: string): string {
  const kind = unicast ? 'unicast' : 'multicast';
  const vmac = vmacSpec(inst)?.ifname;
  const key = [inst.virtualRouterId, inst.family, inst.interface ?? '', kind, unicast ? (inst.unicastSrcIp ?? '') : mcastGroup];
  if (vmac !== undefined) key.push(`vmac ${vmac}`);
  // keepalived 2.2.7 matches no instance whose use_vmac_addr changed (docs/vmac.md "use_vmac_addr");
  // a kept one's address VMACs follow its VIPs (reload.ts).
  if (inst.useVmacAddr) key.push('vmac_addr');
  return key.join('|');
}

/**
 * IPv6 addresses in the one text form the kernel, netlink and the sockets report (RFC 5952), so a
 * config's `FD00:0::1` and the kernel's `fd00::1` are the same address at run time.
 */
function canonical(address: string): string {
  return address.includes(':') ? (canonicalIpv6(address) ?? address) : address;
}

/** VIPs (of the instance's family) and eVIPs, canonical, each on its VMAC of its own if it has one. */
function addressEntries(cfg: FrozenConfig, inst: R<VrrpInstance>) {
  const plan = addressVmacPlan(cfg, inst);
  const vipEntries = inst.virtualIpaddress.filter((a) => a.family === inst.family).map((e) => onVmac(plan, e));
  return { plan, vipEntries, evipEntries: inst.virtualIpaddressExcluded.map((e) => onVmac(plan, e)) };
}

function sourceOf(configured: string | null): string | null {
  return configured === null ? null : canonical(configured);
}

/** The entry on its VMAC of its own, if it has one (addr-vmac.ts), canonical. */
function onVmac(plan: AddressVmacPlan, e: R<AddressEntry>): R<AddressEntry> {
  const dev = plan.devOf.get(e);
  return canonicalEntry(dev === undefined ? e : { ...e, dev });
}

function canonicalEntry(e: R<AddressEntry>): R<AddressEntry> {
  const c = canonical(e.address);
  return c === e.address ? e : { ...e, address: c };
}

/** The same params with the resolved source address (tie-break and `master` in status). */
export function withSrcIp(p: InstanceParams, srcIp: string): InstanceParams {
  return p.srcIp === srcIp ? p : { ...p, srcIp };
}

type SyncGroupOf = R<SyncGroup> | undefined;

/** Tracked interfaces: own (weight 0), configured, VIP interfaces, sync group's; first wins. */
function trackedInterfaces(inst: R<VrrpInstance>, group: SyncGroupOf, addresses: readonly R<AddressEntry>[]): TrackedInterface[] {
  const ifname = inst.interface;
  const trackInterfaces: TrackedInterface[] = [{ name: SOURCE_TRACKER, weight: 0, reverse: false }];
  const addIf = (t: TrackedInterface): void => {
    if (!trackInterfaces.some((x) => x.name === t.name)) trackInterfaces.push(t);
  };
  if (ifname !== null && !inst.dontTrackPrimary) addIf({ name: ifname, weight: 0, reverse: false });
  for (const t of inst.trackInterfaces) addIf({ name: t.name, weight: t.weight, reverse: t.reverse });
  for (const a of addresses) {
    if (a.dev !== null && a.dev !== ifname && !a.noTrack) addIf({ name: a.dev, weight: 0, reverse: false });
  }
  for (const t of group?.trackInterfaces ?? []) addIf({ name: t.name, weight: t.weight, reverse: t.reverse });
  return trackInterfaces;
}

/** The instance's and its sync group's track_scripts that name a defined vrrp_script; first wins. */
function trackedScripts(
  cfg: FrozenConfig,
  inst: R<VrrpInstance>,
  group: SyncGroupOf,
): { scripts: R<VrrpScript>[]; trackScripts: TrackedScript[] } {
  const scripts: R<VrrpScript>[] = [];
  const trackScripts: TrackedScript[] = [];
  for (const t of [...inst.trackScripts, ...(group?.trackScripts ?? [])]) {
    const def = cfg.scripts.find((s) => s.name === t.name);
    if (def === undefined || trackScripts.some((x) => x.name === t.name)) continue; // keepalived ignores unknown names
    scripts.push(def);
    trackScripts.push({
      name: def.name,
      weight: t.weight ?? def.weight,
      reverse: t.reverse ?? def.reverse,
      rise: Math.max(1, def.rise),
      fall: Math.max(1, def.fall),
      initFail: def.initFail,
    });
  }
  return { scripts, trackScripts };
}

/** The instance's and its sync group's track_files that name a defined vrrp_track_file; first wins. */
function trackedFileList(
  cfg: FrozenConfig,
  inst: R<VrrpInstance>,
  group: SyncGroupOf,
): { trackFiles: R<TrackFile>[]; trackedFiles: TrackedFile[] } {
  const trackFiles: R<TrackFile>[] = [];
  const trackedFiles: TrackedFile[] = [];
  for (const t of [...inst.trackFiles, ...(group?.trackFiles ?? [])]) {
    const def = cfg.trackFiles.find((f) => f.name === t.name);
    if (def === undefined || trackedFiles.some((x) => x.name === t.name)) continue;
    trackFiles.push(def);
    trackedFiles.push({ name: def.name, weight: t.weight ?? def.weight, reverse: t.reverse ?? def.reverse });
  }
  return { trackFiles, trackedFiles };
}

/**
 * The instance's and its sync group's track_process entries that name a defined
 * vrrp_track_process (the first block of that name, as keepalived finds it). A process tracked by
 * both takes the sync group's weight unless the instance's is 0 (keepalived's
 * `add_vrrp_to_track_process()`), with the instance's reverse.
 */
function trackedProcessList(
  cfg: FrozenConfig,
  inst: R<VrrpInstance>,
  group: SyncGroupOf,
): { trackProcesses: R<TrackProcess>[]; trackedProcesses: TrackedProcess[] } {
  const trackProcesses: R<TrackProcess>[] = [];
  const trackedProcesses: TrackedProcess[] = [];
  // `?? []`: a YAML model written before track_process existed has no such lists
  for (const t of [...(inst.trackProcesses ?? []), ...(group?.trackProcesses ?? [])]) {
    const def = (cfg.trackProcesses ?? []).find((p) => p.name === t.name);
    if (def === undefined) continue;
    const weight = t.weight ?? def.weight;
    const n = trackedProcesses.findIndex((x) => x.name === t.name);
    if (n >= 0) {
      const mine = trackedProcesses[n]!;
      if (mine.weight !== 0) trackedProcesses[n] = { ...mine, weight };
      continue;
    }
    trackProcesses.push(def);
    trackedProcesses.push({ name: def.name, weight, reverse: t.reverse ?? def.reverse });
  }
  return { trackProcesses, trackedProcesses };
}
