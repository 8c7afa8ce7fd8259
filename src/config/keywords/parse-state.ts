/**
 * What the keyword handlers of every block fill while the config is dispatched: the model being
 * built, the diagnostics, and the parse-time facts that do not belong in the model (which keywords
 * were given, families, script users). completion.ts applies the post-parse rules to it. Pure.
 */
import type { Diagnostics, SourceLoc } from '../diagnostics.js';
import type { ConfigHost } from '../host.js';
import { defaultGlobalDefs, type Config, type SyncGroup, type VrrpInstance, type VrrpScript } from '../model.js';
import { ScriptIdentities } from '../script-identities.js';

/** Parse-time facts that do not belong in the model. */
export interface InstanceExtras {
  /** Keywords given explicitly (for defaults resolved at the end, e.g. garp_lower_prio_delay). */
  readonly set: Set<string>;
  /**
   * A unicast keyword was used: unicast_peer (even empty), unicast_src_ip, unicast_fault_no_peer,
   * check_unicast_src or old_unicast_checksum (keepalived 2.2.7's VRRP_FLAG_UNICAST_CONFIGURED).
   */
  unicastKeyword: boolean;
  /** The configured interface does not exist on this host. */
  missingInterface: boolean;
  /** An `interface` was given but refused (loopback). */
  rejectedInterface: boolean;
  /** Address family, set by the first VIP, unicast peer, source or destination address, or native_ipv6. */
  family: 4 | 6 | null;
  /** VRRP version given by `version` or `native_ipv6`; null: resolved at completion (IPv6: 3, else vrrp_version). */
  version: 2 | 3 | null;
  /** `advert_int` as written (ms, microsecond resolution), rounded at completion once the version is known. */
  advertIntRawMs: number | null;
  /** The block closed with `}` (vs cut by EOF). */
  readonly open: SourceLoc;
}

export interface ScriptExtras {
  readonly set: Set<string>;
  scriptLine: string | null;
  /** Its `user` line named an unknown user or group: removed at the end of the block. */
  userFailed: boolean;
}

export interface ParseState {
  readonly host: ConfigHost;
  readonly diags: Diagnostics;
  readonly config: Config;
  readonly instanceExtras: Map<VrrpInstance, InstanceExtras>;
  readonly scriptExtras: Map<VrrpScript, ScriptExtras>;
  /** Global keywords given explicitly. */
  readonly globalSet: Set<string>;
  /** Sync groups with their own `smtp_alert` line (the others take the global default at the end). */
  readonly groupSmtpAlertSet: Set<SyncGroup>;
  /** Next auto preference for rules without one (keepalived counts down from 16384). */
  nextRulePreference: number;
  /** Who each script runs as (script-identities.ts), with keepalived's diagnostics. */
  readonly identities: ScriptIdentities;
  /** Hook to seed ${_RANDOM}. */
  setRandomSeed?: (seed: number) => void;
}

export function newParseState(host: ConfigHost, diags: Diagnostics, file: string): ParseState {
  const global = defaultGlobalDefs();
  return {
    host,
    diags,
    identities: new ScriptIdentities(host.users, diags, global),
    config: {
      file,
      files: [file],
      global,
      instances: [],
      scripts: [],
      trackFiles: [],
      trackProcesses: [],
      syncGroups: [],
      staticIpaddress: [],
      staticRoutes: [],
      staticRules: [],
    },
    instanceExtras: new Map(),
    scriptExtras: new Map(),
    globalSet: new Set(),
    groupSmtpAlertSet: new Set(),
    nextRulePreference: 16384,
  };
}
