/**
 * The typed configuration model: what a keepalived.conf means once keepalived's defaults and
 * derivations are applied (docs/keepalived-behaviour.md 2). Plain JSON-compatible data (so it prints as YAML/JSON
 * and reads back losslessly); times are integer milliseconds (`...Ms`), also where keepalived's
 * unit on the wire is coarser (`advertIntMs`: whole seconds for v2, centiseconds for v3).
 * `loadConfig()` returns it deep-frozen.
 */

/** Where an entity was defined, for diagnostics at run time (reload, status). */
export interface Origin {
  file: string;
  line: number;
}

/** A command line for a script or notify hook, parsed the shell-like way keepalived does. */
export interface ScriptCommand {
  /** argv[0] is the program as written (keepalived resolves it at run time). */
  argv: string[];
  /** Run as this user (null: global script_user). */
  user: string | null;
  group: string | null;
}

/** One VIP / eVIP / static address line (docs/keepalived-behaviour.md 2.3). */
export interface AddressEntry {
  /** Address without prefix, e.g. "10.0.0.100". */
  address: string;
  family: 4 | 6;
  prefixLength: number;
  /** null: the instance's interface (or default_interface for static addresses). */
  dev: string | null;
  /** Broadcast address as given ("+"/"-" already resolved), or null for none. */
  broadcast: string | null;
  /** rtnetlink scope number (0 global, 200 site, 253 link, 254 host, 255 nowhere). */
  scope: number;
  label: string | null;
  peer: string | null;
  noTrack: boolean;
  /** Remaining flags (home, -nodad, mngtmpaddr, noprefixroute, autojoin, use_vmac...), as written. */
  flags: string[];
  /** static_ipaddress only. */
  trackGroup: string | null;
  /**
   * A VIP/eVIP given a VMAC of its own on its interface (`use_vmac_addr`, or `use_vmac` on its line;
   * set by the instance's completion, docs/vmac.md). Absent or false: none.
   */
  ownVmac?: boolean;
  origin: Origin;
}

/** virtual_routes / static_routes entry: kept as ip-route-like words, with the parts vrrpd acts on. */
export interface RouteEntry {
  words: string[];
  /** Destination prefix ("0.0.0.0/0" for default), or null if not parsed. */
  to: string | null;
  via: string | null;
  src: string | null;
  dev: string | null;
  table: string | null;
  metric: number | null;
  blackhole: boolean;
  noTrack: boolean;
  origin: Origin;
}

/** virtual_rules / static_rules entry. */
export interface RuleEntry {
  words: string[];
  from: string | null;
  to: string | null;
  table: string | null;
  preference: number | null;
  noTrack: boolean;
  origin: Origin;
}

export interface UnicastPeer {
  address: string;
  /** TTL range accepted from this peer (0..255); any set turns on check_unicast_src. */
  minTtl: number;
  maxTtl: number;
}

export interface TrackedInterface {
  name: string;
  /** 0 = FAULT while down. */
  weight: number;
  reverse: boolean;
}

export interface TrackedScript {
  name: string;
  /** null: the vrrp_script's own weight. */
  weight: number | null;
  reverse: boolean | null;
}

export interface TrackedFile {
  name: string;
  weight: number | null;
  reverse: boolean | null;
}

/** A `track_process` reference in an instance or sync group (null: the block's own value). */
export interface TrackedProcess {
  name: string;
  weight: number | null;
  reverse: boolean | null;
}

export type NotifyKind = 'master' | 'backup' | 'fault' | 'stop' | 'deleted' | 'masterRxLowerPri' | 'generic';

export interface VrrpInstance {
  name: string;
  /** Configured initial state; derived MASTER when priority 255 and not given. */
  state: 'MASTER' | 'BACKUP';
  /** Was `state` given in the file (vs derived)? Needed to print the file back unchanged. */
  stateConfigured: boolean;
  interface: string | null;
  virtualRouterId: number;
  priority: number;
  /**
   * Advert interval, ms. VRRPv2 sends whole seconds: a multiple of 1000 (1..255 s). VRRPv3 sends
   * centiseconds (12 bits): a multiple of 10, 10..40950 ms; `advertIntMs / 10` is the wire value.
   */
  advertIntMs: number;
  /** VRRP version: `version`, else 3 for IPv6, else global_defs `vrrp_version` (resolved at the end of the parse). */
  version: 2 | 3;
  /**
   * Address family of the instance: fixed by its first VIP, unicast peer, source or destination
   * address (or `native_ipv6`), IPv4 when none. VIPs, peers and addresses are of this family;
   * `virtual_ipaddress_excluded` may hold either.
   */
  family: 4 | 6;
  nopreempt: boolean;
  preemptDelayMs: number;
  authType: 'NONE' | 'PASS' | 'AH';
  /** At most 8 bytes (keepalived truncates). Never logged. */
  authPass: string | null;
  virtualIpaddress: AddressEntry[];
  virtualIpaddressExcluded: AddressEntry[];
  virtualRoutes: RouteEntry[];
  virtualRules: RuleEntry[];
  unicastSrcIp: string | null;
  mcastSrcIp: string | null;
  mcastDstIp: string | null;
  unicastPeers: UnicastPeer[];
  unicastTtl: number;
  unicastFaultNoPeer: boolean;
  checkUnicastSrc: boolean;
  /**
   * VRRPv3 IPv4 unicast checksum (`old_unicast_checksum [never]`): `old` sends and expects the
   * pre-1.3.6 form from the start (pseudo-header destination 224.0.0.18), `never` never switches
   * to it, null (default) switches when a peer is seen using it.
   */
  oldUnicastChecksum: 'old' | 'never' | null;
  dontTrackPrimary: boolean;
  /**
   * `use_vmac [IFNAME]`: the VIPs and adverts go on a macvlan with the VRRP MAC (docs/vmac.md);
   * `vmacIfname` is IFNAME, or null for keepalived's default `vrrp.<VRID>`.
   */
  useVmac: boolean;
  vmacIfname: string | null;
  /**
   * `vmac_xmit_base`: the adverts are sent and received on `interface` (the VMAC's parent), the
   * VIPs and GARPs stay on the VMAC (docs/vmac.md). Only with `use_vmac` (completion clears it).
   */
  vmacXmitBase: boolean;
  /**
   * `use_vmac_addr`: each VIP/eVIP on another interface than `interface`, or of the other family,
   * gets a VMAC of its own (docs/vmac.md; completion marks the entries `ownVmac`).
   */
  useVmacAddr: boolean;
  trackSrcIp: boolean;
  trackInterfaces: TrackedInterface[];
  trackScripts: TrackedScript[];
  trackFiles: TrackedFile[];
  trackProcesses: TrackedProcess[];
  garpMasterDelayMs: number;
  garpMasterRepeat: number;
  garpMasterRefreshMs: number;
  garpMasterRefreshRepeat: number;
  garpLowerPrioDelayMs: number;
  garpLowerPrioRepeat: number;
  downTimerAdverts: number;
  lowerPrioNoAdvert: boolean;
  higherPrioSendAdvert: boolean;
  skipCheckAdvAddr: boolean;
  strictMode: boolean;
  accept: boolean;
  promoteSecondaries: boolean;
  notify: Partial<Record<NotifyKind, ScriptCommand>>;
  notifyPriorityChanges: boolean;
  smtpAlert: boolean;
  /** Sync group this instance belongs to, or null. */
  syncGroup: string | null;
  /** Keywords accepted for compatibility but without effect in vrrpd (use_vmac, debug...). */
  unsupported: string[];
  origin: Origin;
}

export interface VrrpScript {
  name: string;
  script: ScriptCommand;
  intervalMs: number;
  /** 0 = same as interval. */
  timeoutMs: number;
  weight: number;
  reverse: boolean;
  rise: number;
  fall: number;
  initFail: boolean;
  origin: Origin;
}

export interface TrackFile {
  name: string;
  file: string;
  weight: number;
  reverse: boolean;
  /** init_file: value to create the file with, or null. */
  initValue: number | null;
  initOverwrite: boolean;
  origin: Origin;
}

/**
 * A `vrrp_track_process` block (docs/keepalived-behaviour.md 2.8): which processes count and how many
 * make a quorum. src/runtime/track-process.ts says how it runs.
 */
export interface TrackProcess {
  name: string;
  /** `process`: the comm (15 characters at most to ever match) or, with full_command, argv[0]. */
  process: string;
  /** Arguments after the name on the `process` line (null: none given). */
  params: string[] | null;
  /** `param_match`: none (arguments not looked at), exact, partial or initial. */
  paramMatch: 'none' | 'exact' | 'partial' | 'initial';
  /** Match /proc/PID/cmdline (argv[0] and arguments) instead of the comm in /proc/PID/stat. */
  fullCommand: boolean;
  /** Quorum held while quorum <= count <= quorumMax. */
  quorum: number;
  /** null: no maximum. */
  quorumMax: number | null;
  weight: number;
  reverse: boolean;
  /** Delay before losing (or regaining) quorum through processes ending, in ms (0: at once). */
  terminateDelayMs: number;
  /** Delay before gaining (or losing) quorum through processes starting, in ms (0: at once). */
  forkDelayMs: number;
  origin: Origin;
}

export interface SyncGroup {
  name: string;
  members: string[];
  trackInterfaces: TrackedInterface[];
  trackScripts: TrackedScript[];
  trackFiles: TrackedFile[];
  trackProcesses: TrackedProcess[];
  notify: Partial<Record<'master' | 'backup' | 'fault' | 'stop' | 'generic', ScriptCommand>>;
  syncGroupTrackingWeight: boolean;
  notifyPriorityChanges: boolean;
  smtpAlert: boolean;
  origin: Origin;
}

export interface FifoSpec {
  path: string;
  user: string | null;
  group: string | null;
}

export interface GlobalDefs {
  routerId: string | null;
  notificationEmail: string[];
  notificationEmailFrom: string | null;
  smtpServer: string | null;
  smtpConnectTimeoutMs: number;
  /** `smtp_helo_name` (null: the host's name). */
  smtpHeloName: string | null;
  /** `no_email_faults`: no mail for FAULT transitions. */
  noEmailFaults: boolean;
  vrrpMcastGroup4: string;
  vrrpMcastGroup6: string;
  defaultInterface: string;
  vrrpGarpMasterDelayMs: number;
  vrrpGarpMasterRepeat: number;
  vrrpGarpMasterRefreshMs: number;
  vrrpGarpMasterRefreshRepeat: number;
  /** Resolved at the end of the parse: defaults to vrrpGarpMasterDelayMs. */
  vrrpGarpLowerPrioDelayMs: number;
  vrrpGarpLowerPrioRepeat: number;
  vrrpGarpIntervalMs: number;
  vrrpGnaIntervalMs: number;
  vrrpMinGarp: boolean;
  vrrpDownTimerAdverts: number;
  vrrpLowerPrioNoAdvert: boolean;
  vrrpHigherPrioSendAdvert: boolean;
  vrrpVersion: 2 | 3;
  vrrpCheckUnicastSrc: boolean;
  vrrpSkipCheckAdvAddr: boolean;
  vrrpStrict: boolean;
  vrrpNotifyFifo: FifoSpec | null;
  vrrpNotifyFifoScript: ScriptCommand | null;
  notifyFifo: FifoSpec | null;
  notifyFifoScript: ScriptCommand | null;
  vrrpNotifyPriorityChanges: boolean;
  fifoWriteVrrpStatesOnReload: boolean;
  scriptUser: string | null;
  scriptGroup: string | null;
  enableScriptSecurity: boolean;
  /** File-creation mask scripts run with (global_defs `umask`; keepalived's default 0177). */
  umask: number;
  dynamicInterfaces: boolean;
  vrrpStartupDelayMs: number;
  logUnknownVrids: boolean;
  startupScript: ScriptCommand | null;
  shutdownScript: ScriptCommand | null;
  reloadCheckConfig: boolean;
  smtpAlert: boolean;
  smtpAlertVrrp: boolean;
  /** Accepted keywords without effect in vrrpd (LVS, SNMP, tuning...), as written. */
  ignored: string[];
}

export interface Config {
  /** Path of the main file as given. */
  file: string;
  /** Every file read, main first. */
  files: string[];
  global: GlobalDefs;
  instances: VrrpInstance[];
  scripts: VrrpScript[];
  trackFiles: TrackFile[];
  trackProcesses: TrackProcess[];
  syncGroups: SyncGroup[];
  staticIpaddress: AddressEntry[];
  staticRoutes: RouteEntry[];
  staticRules: RuleEntry[];
}

export type DeepReadonly<T> = T extends (infer E)[]
  ? readonly DeepReadonly<E>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

export type FrozenConfig = DeepReadonly<Config>;

export function defaultGlobalDefs(): GlobalDefs {
  return {
    routerId: null,
    notificationEmail: [],
    notificationEmailFrom: null,
    smtpServer: null,
    smtpConnectTimeoutMs: 30000,
    smtpHeloName: null,
    noEmailFaults: false,
    vrrpMcastGroup4: '224.0.0.18',
    vrrpMcastGroup6: 'ff02::12',
    defaultInterface: 'eth0',
    vrrpGarpMasterDelayMs: 5000,
    vrrpGarpMasterRepeat: 5,
    vrrpGarpMasterRefreshMs: 0,
    vrrpGarpMasterRefreshRepeat: 1,
    vrrpGarpLowerPrioDelayMs: 5000,
    vrrpGarpLowerPrioRepeat: 5,
    vrrpGarpIntervalMs: 0,
    vrrpGnaIntervalMs: 0,
    vrrpMinGarp: false,
    vrrpDownTimerAdverts: 3,
    vrrpLowerPrioNoAdvert: false,
    vrrpHigherPrioSendAdvert: false,
    vrrpVersion: 2,
    vrrpCheckUnicastSrc: false,
    vrrpSkipCheckAdvAddr: false,
    vrrpStrict: false,
    vrrpNotifyFifo: null,
    vrrpNotifyFifoScript: null,
    notifyFifo: null,
    notifyFifoScript: null,
    vrrpNotifyPriorityChanges: false,
    fifoWriteVrrpStatesOnReload: false,
    scriptUser: null,
    scriptGroup: null,
    enableScriptSecurity: false,
    umask: 0o177,
    dynamicInterfaces: false,
    vrrpStartupDelayMs: 0,
    logUnknownVrids: false,
    startupScript: null,
    shutdownScript: null,
    reloadCheckConfig: false,
    smtpAlert: false,
    smtpAlertVrrp: false,
    ignored: [],
  };
}

/** A new instance with keepalived's defaults (alloc_vrrp(); GARP values copied from global_defs). */
/** A `vrrp_track_process` block before its keywords: keepalived's defaults (quorum 1, no weight, no delays). */
export function defaultTrackProcess(name: string, origin: Origin): TrackProcess {
  return {
    name,
    process: '',
    params: null,
    paramMatch: 'none',
    fullCommand: false,
    quorum: 1,
    quorumMax: null,
    weight: 0,
    reverse: false,
    terminateDelayMs: 0,
    forkDelayMs: 0,
    origin,
  };
}

export function defaultInstance(name: string, g: GlobalDefs, origin: Origin): VrrpInstance {
  return {
    name,
    state: 'BACKUP',
    stateConfigured: false,
    interface: null,
    virtualRouterId: 0,
    priority: 100,
    advertIntMs: 1000,
    version: g.vrrpVersion,
    family: 4,
    nopreempt: false,
    preemptDelayMs: 0,
    authType: 'NONE',
    authPass: null,
    virtualIpaddress: [],
    virtualIpaddressExcluded: [],
    virtualRoutes: [],
    virtualRules: [],
    unicastSrcIp: null,
    mcastSrcIp: null,
    mcastDstIp: null,
    unicastPeers: [],
    unicastTtl: 255,
    unicastFaultNoPeer: false,
    checkUnicastSrc: g.vrrpCheckUnicastSrc,
    oldUnicastChecksum: null,
    dontTrackPrimary: false,
    useVmac: false,
    vmacIfname: null,
    vmacXmitBase: false,
    useVmacAddr: false,
    trackSrcIp: false,
    trackInterfaces: [],
    trackScripts: [],
    trackFiles: [],
    trackProcesses: [],
    garpMasterDelayMs: g.vrrpGarpMasterDelayMs,
    garpMasterRepeat: g.vrrpGarpMasterRepeat,
    garpMasterRefreshMs: g.vrrpGarpMasterRefreshMs,
    garpMasterRefreshRepeat: g.vrrpGarpMasterRefreshRepeat,
    garpLowerPrioDelayMs: g.vrrpGarpLowerPrioDelayMs,
    garpLowerPrioRepeat: g.vrrpGarpLowerPrioRepeat,
    downTimerAdverts: g.vrrpDownTimerAdverts,
    lowerPrioNoAdvert: g.vrrpLowerPrioNoAdvert,
    higherPrioSendAdvert: g.vrrpHigherPrioSendAdvert,
    skipCheckAdvAddr: g.vrrpSkipCheckAdvAddr,
    strictMode: g.vrrpStrict,
    accept: true,
    promoteSecondaries: false,
    notify: {},
    notifyPriorityChanges: g.vrrpNotifyPriorityChanges,
    smtpAlert: false,
    syncGroup: null,
    unsupported: [],
    origin,
  };
}

export function deepFreeze<T>(o: T): DeepReadonly<T> {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o as object)) deepFreeze(v);
  }
  return o as DeepReadonly<T>;
}
