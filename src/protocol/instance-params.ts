/**
 * Protocol-level parameters of one VRRP instance: what the state machine needs, already resolved
 * (keepalived's global defaults applied, `vrrp_complete_instance()` fix-ups done). The config layer
 * maps a parsed `vrrp_instance` onto this; nothing here reads files. All durations are integer ms.
 */
import type { AuthType } from './types.js';
import { PRIORITY_OWNER } from './constants.js';
import { DEFAULT_DOWN_TIMER_ADVERTS } from './timing.js';

/** `track_interface { IF [weight W [reverse]] }` (docs/keepalived-behaviour.md 3.6). */
export interface TrackedInterface {
  /** Interface name. The runtime reports its state with `{kind:'interface', name, up}`. */
  readonly name: string;
  /** -253..253; 0 = interface down puts the instance in FAULT. */
  readonly weight: number;
  /** Swap the up/down sense (weight 0 + reverse = FAULT while up). */
  readonly reverse: boolean;
}

/** `track_script { NAME [weight W [reverse]] }` joined with its `vrrp_script NAME {}` block. */
export interface TrackedScript {
  /** vrrp_script name. Results arrive as `{kind:'script', name, ok}`. */
  readonly name: string;
  /** -253..253 (track_script weight, else the script's `weight`); 0 = KO puts the instance in FAULT. */
  readonly weight: number;
  /** `reverse`: OK and KO swap roles. */
  readonly reverse: boolean;
  /** vrrp_script `rise` (>= 1, default 1): consecutive successes to become OK. */
  readonly rise: number;
  /** vrrp_script `fall` (>= 1, default 1): consecutive failures to become KO. */
  readonly fall: number;
  /** vrrp_script `init_fail`: start KO instead of "not yet run". */
  readonly initFail: boolean;
}

/** `track_process { NAME [weight W [reverse]] }` joined with its `vrrp_track_process NAME {}` block. */
export interface TrackedProcess {
  /** vrrp_track_process name. Its quorum arrives as `{kind:'process', name, quorum}`. */
  readonly name: string;
  /** -254..254 (default: the block's, 0); 0 = FAULT without the quorum. */
  readonly weight: number;
  /** `reverse`: weight 0 -> FAULT while the quorum is held; otherwise the contribution's sign flips. */
  readonly reverse: boolean;
}

/** `track_file { NAME [weight W [reverse]] }` joined with its `track_file NAME {}` block. */
export interface TrackedFile {
  /** track_file name. Values arrive as `{kind:'file', name, value}` (strtol of the content). */
  readonly name: string;
  /** -254..254 (default 1); 0 = non-zero value is FAULT. Contribution = value * weight. */
  readonly weight: number;
  /** `reverse`: weight 0 -> zero value is FAULT; otherwise the contribution's sign flips. */
  readonly reverse: boolean;
}

/** GARP settings (docs/keepalived-behaviour.md 2.1/2.2, 3.7). */
export interface GarpParams {
  /** `garp_master_delay` (s -> ms, default 5000): second burst after becoming MASTER; 0 = none. */
  readonly masterDelayMs: number;
  /** `garp_master_repeat` (default 5, 0 -> 1): rounds per burst on becoming MASTER. */
  readonly masterRepeat: number;
  /** `garp_master_refresh` (s -> ms, default 0 = off): refresh period, rounded up to the advert grid. */
  readonly masterRefreshMs: number;
  /** `garp_master_refresh_repeat` (default 1): rounds per refresh. */
  readonly masterRefreshRepeat: number;
  /** `garp_lower_prio_delay` (s -> ms, default = global master delay): second lower-prio burst; 0 = none. */
  readonly lowerPrioDelayMs: number;
  /** `garp_lower_prio_repeat` (default = global master repeat): rounds per lower-prio burst; 0 = none. */
  readonly lowerPrioRepeat: number;
  /** `vrrp_garp_interval` (s -> ms, default 0 = back-to-back): minimum gap between two GARPs. */
  readonly intervalMs: number;
  /** `vrrp_gna_interval` (s -> ms, default 0): the same for unsolicited neighbour advertisements (IPv6). */
  readonly gnaIntervalMs: number;
}

/** Everything the state machine knows about an instance's configuration. */
export interface InstanceParams {
  /** `vrrp_instance NAME`: used as `(NAME)` in logs. */
  readonly name: string;
  /** `virtual_router_id` 1..255. */
  readonly vrid: number;
  /** `priority` 1..255 (255 = address owner, never changed by tracking). */
  readonly basePriority: number;
  /** `state` as configured (or derived: MASTER iff priority 255). Matters only for the owner. */
  readonly initialState: 'MASTER' | 'BACKUP';
  /** `vrrp_version` / `version`: 2 (RFC 3768) or 3 (RFC 5798; always 3 for IPv6). Default 2. */
  readonly version: 2 | 3;
  /** `advert_int` (s -> ms; v2 whole seconds, v3 whole centiseconds; default 1000). */
  readonly adverIntMs: number;
  /** `nopreempt`: as BACKUP accept lower-priority adverts (never take over from a live master). */
  readonly nopreempt: boolean;
  /** `preempt_delay` (s -> ms, default 0): see docs/keepalived-behaviour.md 3.5. */
  readonly preemptDelayMs: number;
  /** `down_timer_adverts` 1..100 (default 3). */
  readonly downTimerAdverts: number;
  /** `lower_prio_no_advert`: MASTER does not answer a lower-priority advert with its own. */
  readonly lowerPrioNoAdvert: boolean;
  /** `higher_prio_send_advert`: MASTER sends one advert before yielding to a higher priority. */
  readonly higherPrioSendAdvert: boolean;
  /** `skip_check_adv_addr`: BACKUP skips the VIP checks for adverts from the last accepted master. */
  readonly skipCheckAdvAddr: boolean;
  /** `authentication { auth_type }`: 0 none, 1 PASS, 2 AH (what the codec checks; informational here). */
  readonly authType: AuthType;
  /** GARP settings. */
  readonly garp: GarpParams;
  /** `virtual_ipaddress` addresses (dotted quads, config order), carried in adverts. */
  readonly vips: readonly string[];
  /** `virtual_ipaddress_excluded` addresses (config order), set with MASTER, not advertised. */
  readonly evips: readonly string[];
  /** `virtual_routes` entries (opaque text for the runtime), added when MASTER. */
  readonly virtualRoutes: readonly string[];
  /** `virtual_rules` entries (opaque text for the runtime), added when MASTER. */
  readonly virtualRules: readonly string[];
  /** VIPs/eVIPs marked `no_track`: deleting them externally changes nothing. */
  readonly noTrackAddresses: readonly string[];
  /** Our advert source (`unicast_src_ip`/`mcast_src_ip` or the interface primary), for the tie-break. */
  readonly srcIp: string;
  /** track_interface entries, including the implicit weight-0 own interface unless `dont_track_primary`. */
  readonly trackInterfaces: readonly TrackedInterface[];
  /** track_script entries. */
  readonly trackScripts: readonly TrackedScript[];
  /** track_file entries. */
  readonly trackFiles: readonly TrackedFile[];
  /** track_process entries. */
  readonly trackProcesses: readonly TrackedProcess[];
  /** `vrrp_sync_group` this instance belongs to, if any (docs/keepalived-behaviour.md 2.5). */
  readonly syncGroup: string | null;
}

/** keepalived's defaults for GARP (`set_vrrp_defaults()`). */
export const DEFAULT_GARP: GarpParams = {
  masterDelayMs: 5000,
  masterRepeat: 5,
  masterRefreshMs: 0,
  masterRefreshRepeat: 1,
  lowerPrioDelayMs: 5000,
  lowerPrioRepeat: 5,
  intervalMs: 0,
  gnaIntervalMs: 0,
};

/**
 * Build params with keepalived's defaults for everything not given (a convenience for tests and
 * the config layer). `vrid` and `srcIp` are required; `initialState` defaults to MASTER iff
 * priority 255, like keepalived.
 */
export function makeInstanceParams(
  p: Partial<Omit<InstanceParams, 'garp'>> & { vrid: number; srcIp: string; garp?: Partial<GarpParams> },
): InstanceParams {
  const basePriority = p.basePriority ?? 100;
  return {
    name: p.name ?? `VI_${p.vrid}`,
    vrid: p.vrid,
    basePriority,
    initialState: p.initialState ?? (basePriority === PRIORITY_OWNER ? 'MASTER' : 'BACKUP'),
    version: p.version ?? 2,
    adverIntMs: p.adverIntMs ?? 1000,
    nopreempt: p.nopreempt ?? false,
    preemptDelayMs: p.preemptDelayMs ?? 0,
    downTimerAdverts: p.downTimerAdverts ?? DEFAULT_DOWN_TIMER_ADVERTS,
    lowerPrioNoAdvert: p.lowerPrioNoAdvert ?? false,
    higherPrioSendAdvert: p.higherPrioSendAdvert ?? false,
    skipCheckAdvAddr: p.skipCheckAdvAddr ?? false,
    authType: p.authType ?? 0,
    garp: { ...DEFAULT_GARP, ...p.garp },
    vips: p.vips ?? [],
    evips: p.evips ?? [],
    virtualRoutes: p.virtualRoutes ?? [],
    virtualRules: p.virtualRules ?? [],
    noTrackAddresses: p.noTrackAddresses ?? [],
    srcIp: p.srcIp,
    trackInterfaces: p.trackInterfaces ?? [],
    trackScripts: p.trackScripts ?? [],
    trackFiles: p.trackFiles ?? [],
    trackProcesses: p.trackProcesses ?? [],
    syncGroup: p.syncGroup ?? null,
  };
}
