/**
 * keepalived's keyword tables for a VRRP-only daemon (KEEPALIVED.md 2): global_defs, vrrp_instance,
 * vrrp_script, vrrp_sync_group, track_file, static_* and the root keywords of other subsystems
 * (skipped silently). Handlers fill a ParseState; completion.ts applies the post-parse rules. Pure.
 */
import type { Diagnostics, SourceLoc } from './diagnostics.js';
import type { Keyword, KeywordCtx } from './dispatch.js';
import type { ConfigHost } from './host.js';
import {
  defaultGlobalDefs,
  defaultInstance,
  type AddressEntry,
  type Config,
  type FifoSpec,
  type NotifyKind,
  type RouteEntry,
  type RuleEntry,
  type ScriptCommand,
  type SyncGroup,
  type TrackedFile,
  type TrackedInterface,
  type TrackedScript,
  type TrackFile,
  type VrrpInstance,
  type VrrpScript,
} from './model.js';
import { parseAddressLine, parseRouteLine, parseRuleLine } from './address-lines.js';
import { isIpv4Multicast } from '../protocol/ipv4-address.js';
import { ipFamily, readBool, readInt, readSeconds, readUnsigned } from './values.js';
import { splitQuotedEscaped } from './words.js';
import { ScriptIdentities } from './script-identities.js';

/** Parse-time facts that do not belong in the model. */
export interface InstanceExtras {
  /** Keywords given explicitly (for defaults resolved at the end, e.g. garp_lower_prio_delay). */
  readonly set: Set<string>;
  /** A unicast keyword (unicast_src_ip, unicast_ttl...) was used. */
  unicastKeyword: boolean;
  /** The configured interface does not exist on this host. */
  missingInterface: boolean;
  /** An `interface` was given but refused (loopback). */
  rejectedInterface: boolean;
  /** Address family, set by the first VIP or unicast peer. */
  family: 4 | 6 | null;
  /** `advert_int` as written, for keepalived's v2 rounding message at completion. */
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
      syncGroups: [],
      staticIpaddress: [],
      staticRoutes: [],
      staticRules: [],
    },
    instanceExtras: new Map(),
    scriptExtras: new Map(),
    globalSet: new Set(),
    nextRulePreference: 16384,
  };
}

// ------------------------------------------------------------------------------------------ helpers

const loc = (ctx: KeywordCtx): SourceLoc => ({ file: ctx.stmt.file, line: ctx.stmt.line });

function interfaceFacts(st: ParseState) {
  return st.host.interfaces?.();
}

function interfaceExistsFn(st: ParseState): ((n: string) => boolean) | undefined {
  const ifs = interfaceFacts(st);
  return ifs ? (n: string) => ifs.has(n) : undefined;
}

/**
 * A script keyword's command: keepalived re-parses the raw line shell-like; the first word after the
 * keyword is split again into argv; the next words are user and group.
 */
function readScriptCommand(ctx: KeywordCtx, index = 1): ScriptCommand | undefined {
  ctx.word(index);
  const all = splitQuotedEscaped(ctx.stmt.text);
  if (!all.ok) {
    ctx.diags.error(ctx.stmt, all.message, ctx.words[0]);
    return undefined;
  }
  const cmdText = all.words[index];
  if (cmdText === undefined) return undefined;
  const argv = splitQuotedEscaped(cmdText);
  if (!argv.ok || argv.words.length === 0) {
    ctx.diags.error(ctx.stmt, argv.ok ? `${ctx.words[0]} has no command` : argv.message, ctx.words[0]);
    return undefined;
  }
  return { argv: argv.words, user: all.words[index + 1] ?? null, group: all.words[index + 2] ?? null };
}

function readFifo(ctx: KeywordCtx): FifoSpec {
  return { path: ctx.word(1), user: ctx.words[2] ?? null, group: ctx.words[3] ?? null };
}

function trackWeight(ctx: KeywordCtx, words: readonly string[], min: number, max: number, what: string): { weight: number | null; reverse: boolean | null } | undefined {
  let weight: number | null = null;
  let reverse: boolean | null = null;
  for (let i = 1; i < words.length; i++) {
    const w = words[i]!;
    if (w === 'weight') {
      const v = words[i + 1];
      if (v === undefined) {
        ctx.diags.error(ctx.stmt, `${what} ${words[0]} weight missing`, w);
        return undefined;
      }
      i++;
      if (!/^[-+]?\d+$/.test(v) || Number(v) < min || Number(v) > max) {
        ctx.diags.error(ctx.stmt, `weight for ${words[0]} must be between [${min}:${max}] inclusive. Ignoring...`, w);
        return undefined;
      }
      weight = Number(v);
    } else if (w === 'reverse') reverse = true;
    else if (w === 'noreverse') reverse = false;
    else {
      ctx.diags.error(ctx.stmt, `Unknown ${what} option '${w}' for ${words[0]}`, w);
    }
  }
  return { weight, reverse };
}

/** strtol(s, &end, 0) with `*end` required to be '\0': 0x hex, leading-0 octal, else decimal. */
function strtolBase0(s: string): number | undefined {
  const m = /^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(s);
  if (!m) return undefined;
  if (/^0[xX]/.test(s)) return parseInt(s.slice(2), 16);
  if (s.startsWith('0')) return s.length === 1 ? 0 : parseInt(s.slice(1), 8);
  return parseInt(s, 10);
}

const UMASK_BITS: Record<string, number> = {
  IRUSR: 0o400, IWUSR: 0o200, IXUSR: 0o100, IRGRP: 0o040, IWGRP: 0o020, IXGRP: 0o010, IROTH: 0o004, IWOTH: 0o002, IXOTH: 0o001,
};

/**
 * global_defs `umask NUMBER` or `umask IWGRP|IWOTH ...` (global_parser.c `umask_handler()`): the mask
 * keepalived runs with, so the mask its scripts inherit. vrrpd applies it to scripts and the FIFO
 * it creates (its own files get explicit modes).
 */
function readUmask(ctx: KeywordCtx, g: Config['global']): void {
  const first = ctx.word(1);
  if (/^[0-9]/.test(first)) {
    if (ctx.words.length !== 2) {
      ctx.diags.error(ctx.stmt, `${ctx.words.length === 1 ? 'Missing' : 'Extra'} parameter(s) to umask option`, 'umask');
      return;
    }
    const v = strtolBase0(first);
    if (v === undefined || v < 0 || (v & ~0o777) !== 0) {
      ctx.diags.error(ctx.stmt, `invalid umask value ${first}`, 'umask');
      return;
    }
    g.umask = v;
    return;
  }
  let bits = 0;
  let needOr = false;
  for (const w of ctx.words.slice(1)) {
    let p = w;
    while (p.length > 0) {
      if (needOr) {
        if (p[0] !== '|') {
          ctx.diags.error(ctx.stmt, `Invalid umask syntax ${w}`, 'umask');
          return;
        }
        needOr = false;
        p = p.slice(1);
        continue;
      }
      const bit = UMASK_BITS[p.slice(0, 5)];
      if (bit === undefined) {
        ctx.diags.error(ctx.stmt, `Unknown umask bit ${p}`, 'umask');
        return;
      }
      bits |= bit;
      p = p.slice(5);
      needOr = true;
    }
  }
  if (!needOr) {
    ctx.diags.error(ctx.stmt, 'umask missing bit value', 'umask');
    return;
  }
  g.umask = bits;
}

// ------------------------------------------------------------------------------------------ global_defs

function globalKeywords(st: ParseState): Keyword[] {
  const g = st.config.global;
  const mark = (ctx: KeywordCtx) => st.globalSet.add(ctx.words[0]!);
  const secs = (field: 'vrrpGarpMasterDelayMs' | 'vrrpGarpMasterRefreshMs' | 'vrrpGarpLowerPrioDelayMs') => (ctx: KeywordCtx) => {
    const v = readUnsigned(ctx, ctx.word(1), 0, 4294967295 / 1000);
    if (v === undefined) ctx.diags.error(ctx.stmt, `${ctx.words[0]} '${ctx.words[1]}' is invalid`, ctx.words[0]);
    else {
      g[field] = v * 1000;
      mark(ctx);
    }
  };
  const count = (field: 'vrrpGarpMasterRepeat' | 'vrrpGarpMasterRefreshRepeat' | 'vrrpGarpLowerPrioRepeat', zeroToOne: boolean) => (ctx: KeywordCtx) => {
    const v = readUnsigned(ctx, ctx.word(1), 0, 2147483647);
    if (v === undefined) {
      ctx.diags.error(ctx.stmt, `${ctx.words[0]} '${ctx.words[1]}' is invalid`, ctx.words[0]);
      return;
    }
    if (v === 0 && zeroToOne) {
      ctx.diags.error(ctx.stmt, `${ctx.words[0]} must be greater than 0, setting to 1`, ctx.words[0]);
      g[field] = 1;
    } else g[field] = v;
    mark(ctx);
  };
  const flag = (field: 'vrrpCheckUnicastSrc' | 'vrrpSkipCheckAdvAddr' | 'vrrpStrict' | 'enableScriptSecurity' | 'logUnknownVrids' | 'fifoWriteVrrpStatesOnReload') => (ctx: KeywordCtx) => {
    g[field] = true;
    mark(ctx);
  };
  const bool = (field: 'vrrpLowerPrioNoAdvert' | 'vrrpHigherPrioSendAdvert' | 'vrrpNotifyPriorityChanges' | 'vrrpMinGarp' | 'smtpAlert' | 'smtpAlertVrrp') => (ctx: KeywordCtx) => {
    const v = readBool(ctx);
    if (v !== undefined) {
      g[field] = v;
      mark(ctx);
    }
  };
  const interval = (field: 'vrrpGarpIntervalMs' | 'vrrpGnaIntervalMs') => (ctx: KeywordCtx) => {
    const v = readSeconds(ctx, ctx.word(1), 0.000001, 4294.967295);
    if (v === undefined) ctx.diags.error(ctx.stmt, `${ctx.words[0]} '${ctx.words[1]}' is invalid`, ctx.words[0]);
    else g[field] = v;
  };
  const ignore = (name: string, block = false): Keyword => ({
    name,
    handler: (ctx) => {
      g.ignored.push(ctx.words.join(' '));
      if (block) ctx.readValueBlock();
    },
  });
  const ignored = [
    'lvs_flush', 'lvs_flush_on_stop', 'lvs_sync_daemon', 'lvs_timeouts', 'lvs_netlink_cmd_rcv_bufs',
    'lvs_netlink_cmd_rcv_bufs_force', 'lvs_netlink_monitor_rcv_bufs', 'lvs_netlink_monitor_rcv_bufs_force',
    'lvs_notify_fifo', 'lvs_notify_fifo_script', 'checker_process_name', 'checker_priority', 'checker_no_swap',
    'checker_rt_priority', 'checker_cpu_affinity', 'checker_rlimit_rttime', 'checker_log_all_failures',
    'checker_netlink_cmd_rcv_bufs', 'checker_netlink_cmd_rcv_bufs_force', 'checker_netlink_monitor_rcv_bufs',
    'checker_netlink_monitor_rcv_bufs_force', 'bfd_process_name', 'bfd_priority', 'bfd_no_swap', 'bfd_rt_priority',
    'bfd_cpu_affinity', 'bfd_rlimit_rttime', 'smtp_alert_checker', 'no_checker_emails', 'rs_init_notifies',
    'nftables_ipvs', 'snmp_socket', 'enable_traps', 'enable_snmp_vrrp', 'enable_snmp_keepalived', 'enable_snmp_rfc',
    'enable_snmp_rfcv2', 'enable_snmp_rfcv3', 'enable_snmp_checker', 'enable_dbus', 'dbus_service_name',
    'smtp_helo_name', 'no_email_faults', 'vrrp_iptables', 'vrrp_ipsets', 'nftables', 'nftables_priority',
    'nftables_ifindex', 'nftables_counters', 'disable_local_igmp', 'vrrp_netlink_cmd_rcv_bufs',
    'vrrp_netlink_cmd_rcv_bufs_force', 'vrrp_netlink_monitor_rcv_bufs', 'vrrp_netlink_monitor_rcv_bufs_force',
    'vrrp_rx_bufs_policy', 'vrrp_rx_bufs_multiplier', 'process_monitor_rcv_bufs', 'process_monitor_rcv_bufs_force',
    'vrrp_priority', 'vrrp_no_swap', 'vrrp_rt_priority', 'vrrp_cpu_affinity', 'vrrp_rlimit_rttime',
    'max_auto_priority', 'min_auto_priority_delay', 'process_names', 'process_name', 'vrrp_process_name',
    'vmac_prefix', 'vmac_addr_prefix', 'vrrp_garp_extra_if', 'vrrp_vmac_garp_intvl', 'startup_script_timeout',
    'shutdown_script_timeout', 'reload_time_file', 'reload_repeat', 'reload_file', 'include_check',
    'config_save_dir', 'tmp_config_directory', 'data_use_instance', 'vrrp_mcast_group6', 'linkbeat_use_polling',
    'network_namespace_ipvs', 'instance', 'use_pid_dir', 'child_wait_time', 'json_version', 'state_dump_file',
    'stats_dump_file', 'json_dump_file',
  ];
  return [
    {
      name: 'router_id',
      handler: (ctx) => {
        const v = ctx.words[1];
        if (v === undefined) ctx.diags.error(ctx.stmt, 'routerid name missing - ignoring', 'router_id');
        else g.routerId = v;
      },
    },
    {
      name: 'notification_email',
      handler: (ctx) => {
        for (const l of ctx.readValueBlock()) g.notificationEmail.push(...l.words);
      },
    },
    { name: 'notification_email_from', handler: (ctx) => void (g.notificationEmailFrom = ctx.word(1)) },
    { name: 'smtp_server', handler: (ctx) => void (g.smtpServer = ctx.words.slice(1).join(' ') || ctx.word(1)) },
    {
      name: 'smtp_connect_timeout',
      handler: (ctx) => {
        const v = readUnsigned(ctx, ctx.word(1), 1, 4294967295 / 1000);
        if (v !== undefined) g.smtpConnectTimeoutMs = v * 1000;
      },
    },
    { name: 'smtp_alert', handler: bool('smtpAlert') },
    { name: 'smtp_alert_vrrp', handler: bool('smtpAlertVrrp') },
    {
      name: 'vrrp_mcast_group4',
      handler: (ctx) => {
        const v = ctx.word(1);
        if (isIpv4Multicast(v)) g.vrrpMcastGroup4 = v;
        else ctx.diags.error(ctx.stmt, `vrrp_mcast_group4 '${v}' is not an IPv4 multicast address`, ctx.words[0]);
      },
    },
    { name: 'default_interface', handler: (ctx) => void (g.defaultInterface = ctx.word(1)) },
    { name: 'vrrp_garp_master_delay', handler: secs('vrrpGarpMasterDelayMs') },
    { name: 'vrrp_garp_master_repeat', handler: count('vrrpGarpMasterRepeat', true) },
    { name: 'vrrp_garp_master_refresh', handler: secs('vrrpGarpMasterRefreshMs') },
    { name: 'vrrp_garp_master_refresh_repeat', handler: count('vrrpGarpMasterRefreshRepeat', true) },
    { name: 'vrrp_garp_lower_prio_delay', handler: secs('vrrpGarpLowerPrioDelayMs') },
    { name: 'vrrp_garp_lower_prio_repeat', handler: count('vrrpGarpLowerPrioRepeat', false) },
    { name: 'vrrp_garp_interval', handler: interval('vrrpGarpIntervalMs') },
    { name: 'vrrp_gna_interval', handler: interval('vrrpGnaIntervalMs') },
    { name: 'vrrp_min_garp', handler: bool('vrrpMinGarp') },
    {
      name: 'vrrp_down_timer_adverts',
      handler: (ctx) => {
        const v = readUnsigned(ctx, ctx.word(1), 1, 100);
        if (v !== undefined) g.vrrpDownTimerAdverts = v;
        else ctx.diags.error(ctx.stmt, `Invalid vrrp_down_timer_adverts [1:100] '${ctx.words[1]}'`, ctx.words[0]);
      },
    },
    { name: 'vrrp_lower_prio_no_advert', handler: bool('vrrpLowerPrioNoAdvert') },
    { name: 'vrrp_higher_prio_send_advert', handler: bool('vrrpHigherPrioSendAdvert') },
    {
      name: 'vrrp_version',
      handler: (ctx) => {
        const v = readUnsigned(ctx, ctx.word(1), 2, 3);
        if (v === 2 || v === 3) g.vrrpVersion = v;
        else ctx.diags.error(ctx.stmt, `vrrp_version: invalid value '${ctx.words[1]}'`, ctx.words[0]);
      },
    },
    { name: 'vrrp_check_unicast_src', handler: flag('vrrpCheckUnicastSrc') },
    { name: 'vrrp_skip_check_adv_addr', handler: flag('vrrpSkipCheckAdvAddr') },
    { name: 'vrrp_strict', handler: flag('vrrpStrict') },
    {
      name: 'vrrp_notify_fifo',
      handler: (ctx) => {
        const f = readFifo(ctx);
        if (st.identities.acceptFifo(f, 'vrrp_notify_fifo', loc(ctx))) g.vrrpNotifyFifo = f;
      },
    },
    {
      name: 'vrrp_notify_fifo_script',
      handler: (ctx) => {
        const c = readScriptCommand(ctx);
        if (c && st.identities.acceptNotify(c, 'vrrp_notify_fifo', loc(ctx))) g.vrrpNotifyFifoScript = c;
      },
    },
    {
      name: 'notify_fifo',
      handler: (ctx) => {
        const f = readFifo(ctx);
        if (st.identities.acceptFifo(f, 'notify_fifo', loc(ctx))) g.notifyFifo = f;
      },
    },
    {
      name: 'notify_fifo_script',
      handler: (ctx) => {
        const c = readScriptCommand(ctx);
        if (c && st.identities.acceptNotify(c, 'notify_fifo', loc(ctx))) g.notifyFifoScript = c;
      },
    },
    { name: 'vrrp_notify_priority_changes', handler: bool('vrrpNotifyPriorityChanges') },
    { name: 'fifo_write_vrrp_states_on_reload', handler: flag('fifoWriteVrrpStatesOnReload') },
    {
      name: 'script_user',
      handler: (ctx) => {
        g.scriptUser = ctx.word(1);
        g.scriptGroup = ctx.words[2] ?? null;
        st.identities.setGlobal(g.scriptUser, g.scriptGroup, loc(ctx));
      },
    },
    { name: 'enable_script_security', handler: flag('enableScriptSecurity') },
    { name: 'umask', handler: (ctx) => void readUmask(ctx, g) },
    { name: 'dynamic_interfaces', handler: () => void (g.dynamicInterfaces = true) },
    {
      name: 'vrrp_startup_delay',
      handler: (ctx) => {
        const v = readSeconds(ctx, ctx.word(1), 0.001, 4294.967295);
        if (v !== undefined) g.vrrpStartupDelayMs = v;
      },
    },
    { name: 'log_unknown_vrids', handler: flag('logUnknownVrids') },
    { name: 'startup_script', handler: (ctx) => void (g.startupScript = readScriptCommand(ctx) ?? null) },
    { name: 'shutdown_script', handler: (ctx) => void (g.shutdownScript = readScriptCommand(ctx) ?? null) },
    { name: 'reload_check_config', handler: () => void (g.reloadCheckConfig = true) },
    {
      name: 'random_seed',
      handler: (ctx) => {
        const v = readUnsigned(ctx, ctx.word(1), 0, 4294967295);
        if (v !== undefined) st.setRandomSeed?.(v);
      },
    },
    { name: 'net_namespace', handler: (ctx) => void g.ignored.push(ctx.words.join(' ')) },
    { name: 'namespace_with_ipsets', handler: (ctx) => void g.ignored.push(ctx.words.join(' ')) },
    ...ignored.map((n) => ignore(n)),
  ];
}

// ------------------------------------------------------------------------------------------ vrrp_instance

function instanceKeywords(st: ParseState, cur: () => VrrpInstance | undefined): Keyword[] {
  const ex = (i: VrrpInstance) => st.instanceExtras.get(i)!;
  /** Wrap a handler so it only runs inside a live instance and records the keyword. */
  const on = (name: string, fn: (i: VrrpInstance, ctx: KeywordCtx) => void): Keyword => ({
    name,
    handler: (ctx) => {
      const i = cur();
      if (!i) return;
      ex(i).set.add(name);
      fn(i, ctx);
    },
  });
  const notify = (name: string, kind: NotifyKind): Keyword =>
    on(name, (i, ctx) => {
      if (i.notify[kind]) {
        ctx.diags.error(ctx.stmt, `(${i.name}) ${name} script already specified - ignoring ${ctx.stmt.text.slice(name.length).trim()}`, name);
        return;
      }
      const cmd = readScriptCommand(ctx);
      if (cmd && st.identities.acceptNotify(cmd, 'notify', loc(ctx))) i.notify[kind] = cmd;
    });
  const garpSecs = (name: string, field: 'garpMasterDelayMs' | 'garpMasterRefreshMs' | 'garpLowerPrioDelayMs') =>
    on(name, (i, ctx) => {
      const v = readUnsigned(ctx, ctx.word(1), 0, 4294967295 / 1000);
      if (v === undefined) ctx.diags.error(ctx.stmt, `(${i.name}) ${name} '${ctx.words[1]}' invalid - ignoring`, name);
      else i[field] = v * 1000;
    });
  const garpCount = (name: string, field: 'garpMasterRepeat' | 'garpMasterRefreshRepeat' | 'garpLowerPrioRepeat', zeroToOne: boolean) =>
    on(name, (i, ctx) => {
      const v = readUnsigned(ctx, ctx.word(1), 0, 2147483647);
      if (v === undefined) ctx.diags.error(ctx.stmt, `(${i.name}) ${name} '${ctx.words[1]}' invalid - ignoring`, name);
      else if (v === 0 && zeroToOne) {
        ctx.diags.error(ctx.stmt, `(${i.name}) ${name} must be greater than 0, setting to 1`, name);
        i[field] = 1;
      } else i[field] = v;
    });
  const boolKw = (name: string, field: 'lowerPrioNoAdvert' | 'higherPrioSendAdvert' | 'notifyPriorityChanges' | 'smtpAlert' | 'strictMode') =>
    on(name, (i, ctx) => {
      const v = readBool(ctx);
      if (v !== undefined) i[field] = v;
    });
  const unsupported = (name: string, block = false): Keyword =>
    on(name, (i, ctx) => {
      i.unsupported.push(ctx.words.join(' '));
      if (block) ctx.readValueBlock();
    });
  const addresses = (name: string, field: 'virtualIpaddress' | 'virtualIpaddressExcluded') =>
    on(name, (i, ctx) => {
      for (const l of ctx.readValueBlock()) {
        const e = parseAddressLine(l.words, l.stmt, ctx.diags, { interfaceExists: interfaceExistsFn(st) });
        if (!e) continue;
        // VIPs (not eVIPs) must be of the instance's family, set by the first address seen
        if (field === 'virtualIpaddress' && !familyMatches(i, e.family)) {
          ctx.diags.error(l.stmt, `(${i.name}): address family must match VRRP instance [${l.words[0]}] - ignoring`, name);
          continue;
        }
        i[field].push(e);
      }
    });

  return [
    on('state', (i, ctx) => {
      const v = ctx.word(1);
      if (v === 'MASTER') {
        i.state = 'MASTER';
        i.stateConfigured = true;
      } else if (v === 'BACKUP') {
        if (i.stateConfigured && i.state === 'MASTER') {
          ctx.diags.error(ctx.stmt, `(${i.name}) state previously set as MASTER - ignoring BACKUP`, 'state');
          return;
        }
        i.state = 'BACKUP';
        i.stateConfigured = true;
      } else {
        ctx.diags.error(ctx.stmt, `(${i.name}) unknown state '${v}', defaulting to BACKUP`, 'state');
        i.state = 'BACKUP';
        i.stateConfigured = true;
      }
    }),
    on('interface', (i, ctx) => {
      const name = ctx.word(1);
      const ifs = interfaceFacts(st);
      const facts = ifs?.get(name);
      if (name === 'lo' || facts?.loopback) {
        ctx.diags.error(ctx.stmt, `(${i.name}) cannot use a loopback interface (${name}) for vrrp - ignoring`, 'interface');
        ex(i).rejectedInterface = true;
        return;
      }
      if (ifs && !facts) {
        ctx.diags.error(ctx.stmt, `WARNING - interface ${name} for vrrp_instance ${i.name} doesn't exist`, 'interface');
        ex(i).missingInterface = true;
      }
      i.interface = name;
    }),
    on('virtual_router_id', (i, ctx) => {
      const v = readUnsigned(ctx, ctx.word(1), 1, 255);
      if (v === undefined) ctx.diags.error(ctx.stmt, `(${i.name}): VRID '${ctx.words[1]}' not valid - must be between 1 & 255`, 'virtual_router_id');
      else i.virtualRouterId = v;
    }),
    on('priority', (i, ctx) => {
      const v = readUnsigned(ctx, ctx.word(1), 1, 255);
      if (v === undefined) {
        ctx.diags.error(ctx.stmt, `(${i.name}) Priority not valid! must be between 1 & 255. Using default 100`, 'priority');
        i.priority = 100;
      } else i.priority = v;
    }),
    on('advert_int', (i, ctx) => {
      const v = readSeconds(ctx, ctx.word(1), 0.01, 255, true);
      if (v === undefined) ctx.diags.error(ctx.stmt, `(${i.name}) Advert interval (${ctx.words[1]}) not valid! Must be > 0 - ignoring`, 'advert_int');
      else {
        ex(i).advertIntRawMs = v;
        i.advertIntMs = v;
      }
    }),
    on('nopreempt', (i) => void (i.nopreempt = true)),
    on('preempt', (i) => void (i.nopreempt = false)),
    on('preempt_delay', (i, ctx) => {
      const v = readSeconds(ctx, ctx.word(1), 0, 1000);
      if (v === undefined) ctx.diags.error(ctx.stmt, `(${i.name}) preempt_delay not valid! must be between 0-1000`, 'preempt_delay');
      else i.preemptDelayMs = Math.round(v);
    }),
    {
      name: 'authentication',
      sub: [
        on('auth_type', (i, ctx) => {
          const v = ctx.word(1);
          if (v === 'PASS') i.authType = 'PASS';
          else if (v === 'AH') i.authType = 'AH';
          else ctx.diags.error(ctx.stmt, `(${i.name}) unknown authentication type '${v}'`, 'auth_type');
        }),
        on('auth_pass', (i, ctx) => {
          let v = ctx.word(1);
          if (Buffer.byteLength(v) > 8) {
            ctx.diags.error(ctx.stmt, 'Truncating auth_pass to 8 characters', 'auth_pass');
            v = Buffer.from(v).subarray(0, 8).toString('latin1');
          }
          i.authPass = v;
        }),
      ],
    },
    addresses('virtual_ipaddress', 'virtualIpaddress'),
    addresses('virtual_ipaddress_excluded', 'virtualIpaddressExcluded'),
    on('virtual_routes', (i, ctx) => {
      for (const l of ctx.readValueBlock()) {
        const r = parseRouteLine(l.words, l.stmt, ctx.diags, interfaceExistsFn(st));
        if (r) i.virtualRoutes.push(r);
      }
    }),
    on('virtual_rules', (i, ctx) => {
      for (const l of ctx.readValueBlock()) {
        const r = parseRuleLine(l.words, l.stmt, ctx.diags);
        if (r) i.virtualRules.push(assignPreference(st, r, l.stmt, ctx.diags));
      }
    }),
    on('unicast_src_ip', (i, ctx) => {
      const v = ctx.word(1);
      if (!ipFamily(v)) {
        ctx.diags.error(ctx.stmt, `(${i.name}) unicast_src_ip ${v} is not a valid IP address - ignoring`, 'unicast_src_ip');
        return;
      }
      i.unicastSrcIp = v;
      ex(i).unicastKeyword = true;
    }),
    on('mcast_src_ip', (i, ctx) => {
      const v = ctx.word(1);
      if (!ipFamily(v)) ctx.diags.error(ctx.stmt, `(${i.name}) mcast_src_ip ${v} is not a valid IP address - ignoring`, 'mcast_src_ip');
      else i.mcastSrcIp = v;
    }),
    on('mcast_dst_ip', (i, ctx) => {
      const v = ctx.word(1);
      if (!isIpv4Multicast(v) && !ipFamily(v)?.toString().startsWith('6')) ctx.diags.error(ctx.stmt, `(${i.name}) mcast_dst_ip ${v} is not a multicast address - ignoring`, 'mcast_dst_ip');
      else i.mcastDstIp = v;
    }),
    on('unicast_peer', (i, ctx) => {
      for (const l of ctx.readValueBlock()) {
        const addr = l.words[0]!;
        const fam = ipFamily(addr);
        if (!fam) {
          ctx.diags.error(l.stmt, `Configuration error: VRRP instance[${i.name}] malformed unicast peer address[${addr}]. Skipping...`, 'unicast_peer');
          continue;
        }
        if (!familyMatches(i, fam)) {
          ctx.diags.error(l.stmt, `(${i.name}): address family must match VRRP instance [${addr}] - ignoring`, 'unicast_peer');
          continue;
        }
        const p = { address: addr, minTtl: 0, maxTtl: 255 };
        let ok = true;
        for (let k = 1; k < l.words.length; k++) {
          const w = l.words[k]!;
          if (w === 'min_ttl' || w === 'max_ttl') {
            const val = l.words[++k];
            const n = val !== undefined && /^\d+$/.test(val) ? Number(val) : NaN;
            if (!(n >= 0 && n <= 255)) {
              ctx.diags.error(l.stmt, `(${i.name}) invalid ${w} ${val ?? ''} for unicast peer ${addr} - ignoring peer`, w);
              ok = false;
              break;
            }
            if (w === 'min_ttl') p.minTtl = n;
            else p.maxTtl = n;
            i.checkUnicastSrc = true;
          } else {
            ctx.diags.error(l.stmt, `(${i.name}) Unknown unicast peer option '${w}' - ignoring`, w);
          }
        }
        if (ok) i.unicastPeers.push(p);
      }
    }),
    on('unicast_ttl', (i, ctx) => {
      const v = readUnsigned(ctx, ctx.word(1), 0, 255);
      if (v === undefined) ctx.diags.error(ctx.stmt, `(${i.name}) Invalid unicast_ttl [0:255] '${ctx.words[1]}' - ignoring`, 'unicast_ttl');
      else i.unicastTtl = v;
    }),
    on('unicast_fault_no_peer', (i) => {
      i.unicastFaultNoPeer = true;
      ex(i).unicastKeyword = true;
    }),
    on('check_unicast_src', (i) => void (i.checkUnicastSrc = true)),
    on('track_src_ip', (i) => void (i.trackSrcIp = true)),
    on('dont_track_primary', (i) => void (i.dontTrackPrimary = true)),
    on('track_interface', (i, ctx) => {
      for (const l of ctx.readValueBlock()) {
        const t = trackedInterface(st, l.words, l.stmt, ctx, i.name);
        if (t) i.trackInterfaces.push(t);
      }
    }),
    on('track_script', (i, ctx) => {
      for (const l of ctx.readValueBlock()) {
        const name = l.words[0]!;
        if (!st.config.scripts.some((s) => s.name === name)) {
          ctx.diags.error(l.stmt, `(${i.name}) track script ${name} not found, ignoring...`, 'track_script');
          continue;
        }
        if (i.trackScripts.some((t) => t.name === name)) {
          ctx.diags.error(l.stmt, `(${i.name}) duplicate track_script ${name} - ignoring`, 'track_script');
          continue;
        }
        const w = trackWeight({ ...ctx, stmt: l.stmt }, l.words, -253, 253, 'track script');
        if (w) i.trackScripts.push({ name, ...w });
      }
    }),
    on('track_file', (i, ctx) => {
      for (const l of ctx.readValueBlock()) {
        const name = l.words[0]!;
        if (!st.config.trackFiles.some((s) => s.name === name)) {
          ctx.diags.error(l.stmt, `(${i.name}) track_file ${name} not found, ignoring...`, 'track_file');
          continue;
        }
        const w = trackWeight({ ...ctx, stmt: l.stmt }, l.words, -254, 254, 'track file');
        if (w) i.trackFiles.push({ name, ...w });
      }
    }),
    on('version', (i, ctx) => {
      const v = readUnsigned(ctx, ctx.word(1), 2, 3);
      if (v === 2 || v === 3) i.version = v;
      else ctx.diags.error(ctx.stmt, `(${i.name}) Version must be 2 or 3`, 'version');
    }),
    garpSecs('garp_master_delay', 'garpMasterDelayMs'),
    garpCount('garp_master_repeat', 'garpMasterRepeat', true),
    garpSecs('garp_master_refresh', 'garpMasterRefreshMs'),
    garpCount('garp_master_refresh_repeat', 'garpMasterRefreshRepeat', true),
    garpSecs('garp_lower_prio_delay', 'garpLowerPrioDelayMs'),
    garpCount('garp_lower_prio_repeat', 'garpLowerPrioRepeat', false),
    on('down_timer_adverts', (i, ctx) => {
      const v = readUnsigned(ctx, ctx.word(1), 1, 100);
      if (v === undefined) ctx.diags.error(ctx.stmt, `(${i.name}) down_timer_adverts must be between 1 and 100 - ignoring`, 'down_timer_adverts');
      else i.downTimerAdverts = v;
    }),
    boolKw('lower_prio_no_advert', 'lowerPrioNoAdvert'),
    boolKw('higher_prio_send_advert', 'higherPrioSendAdvert'),
    // KEEPALIVED.md 2.2: in 2.2.7 any value, even `off`, sets it
    on('skip_check_adv_addr', (i) => void (i.skipCheckAdvAddr = true)),
    boolKw('strict_mode', 'strictMode'),
    on('accept', (i) => void (i.accept = true)),
    on('no_accept', (i) => void (i.accept = false)),
    on('promote_secondaries', (i) => void (i.promoteSecondaries = true)),
    notify('notify_master', 'master'),
    notify('notify_backup', 'backup'),
    notify('notify_fault', 'fault'),
    notify('notify_stop', 'stop'),
    on('notify_deleted', (i, ctx) => {
      if (ctx.words.length < 2) {
        i.notify.deleted = { argv: [], user: null, group: null };
        return;
      }
      const cmd = readScriptCommand(ctx);
      if (cmd && st.identities.acceptNotify(cmd, 'notify', loc(ctx))) i.notify.deleted = cmd;
    }),
    notify('notify_master_rx_lower_pri', 'masterRxLowerPri'),
    notify('notify', 'generic'),
    boolKw('smtp_alert', 'smtpAlert'),
    boolKw('notify_priority_changes', 'notifyPriorityChanges'),
    on('lvs_sync_daemon_interface', (i, ctx) => {
      ctx.diags.error(ctx.stmt, `(${i.name}) Specifying lvs_sync_daemon_interface against a vrrp is deprecated.`, 'lvs_sync_daemon_interface');
      ctx.diags.error(ctx.stmt, `        Please use global lvs_sync_daemon`, 'lvs_sync_daemon_interface');
      i.unsupported.push(ctx.words.join(' '));
    }),
    unsupported('use_vmac'),
    unsupported('use_vmac_addr'),
    unsupported('vmac_xmit_base'),
    unsupported('use_ipvlan'),
    unsupported('garp_extra_if'),
    unsupported('vmac_garp_intvl'),
    unsupported('native_ipv6'),
    unsupported('old_unicast_checksum'),
    unsupported('debug'),
    unsupported('kernel_rx_buf_size'),
    unsupported('linkbeat_use_polling'),
    unsupported('vrf'),
    unsupported('track_process', true),
    unsupported('track_bfd', true),
  ];
}

/** First address fixes the instance's family; later ones must match (keepalived checks at parse time). */
function familyMatches(i: VrrpInstance, fam: 4 | 6): boolean {
  const ex = instanceFamily.get(i);
  if (ex === undefined) {
    instanceFamily.set(i, fam);
    return true;
  }
  return ex === fam;
}
const instanceFamily = new WeakMap<VrrpInstance, 4 | 6>();

function trackedInterface(st: ParseState, words: readonly string[], stmt: KeywordCtx['stmt'], ctx: KeywordCtx, owner: string): TrackedInterface | undefined {
  const name = words[0]!;
  const ifs = interfaceFacts(st);
  if (ifs && !ifs.has(name)) {
    if (st.config.global.dynamicInterfaces) {
      ctx.diags.error(stmt, `WARNING - interface ${name} for track_interface doesn't exist`, 'track_interface');
    } else {
      ctx.diags.error(stmt, `(${owner}) tracked interface ${name} doesn't exist`, 'track_interface');
      return undefined;
    }
  }
  const w = trackWeight({ ...ctx, stmt }, words, -253, 253, 'track interface');
  if (!w) return undefined;
  return { name, weight: w.weight ?? 0, reverse: w.reverse ?? false };
}

function assignPreference(st: ParseState, r: RuleEntry, stmt: KeywordCtx['stmt'], diags: Diagnostics): RuleEntry {
  if (r.preference !== null) return r;
  const pref = st.nextRulePreference--;
  diags.warn(stmt, `Rule has no preference specified - setting to ${pref}. This is probably not what you want.`, 'preference');
  return { ...r, preference: pref };
}

// ------------------------------------------------------------------------------------------ vrrp_script

function scriptKeywords(st: ParseState, cur: () => VrrpScript | undefined): Keyword[] {
  const on = (name: string, fn: (s: VrrpScript, ctx: KeywordCtx) => void): Keyword => ({
    name,
    handler: (ctx) => {
      const s = cur();
      if (!s) return;
      st.scriptExtras.get(s)!.set.add(name);
      fn(s, ctx);
    },
  });
  const secs = (name: string, field: 'intervalMs' | 'timeoutMs') =>
    on(name, (s, ctx) => {
      const v = readUnsigned(ctx, ctx.word(1), 0, 4294);
      if (v === undefined) {
        ctx.diags.error(ctx.stmt, `(${s.name}): vrrp script ${name} '${ctx.words[1]}' must be between 1 and 4294 - ignoring`, name);
        return;
      }
      if (v === 0) {
        ctx.diags.error(ctx.stmt, `vrrp script ${name} must be >= 1, setting to 1`, name);
        s[field] = 1000;
      } else s[field] = v * 1000;
    });
  return [
    on('script', (s, ctx) => {
      const cmd = readScriptCommand(ctx);
      // keepalived takes only the command here (words after it are ignored); the user comes from
      // the `user` line, before or after this one
      if (cmd) s.script = { argv: cmd.argv, user: s.script.user, group: s.script.group };
      st.scriptExtras.get(s)!.scriptLine = ctx.stmt.text;
    }),
    secs('interval', 'intervalMs'),
    secs('timeout', 'timeoutMs'),
    on('weight', (s, ctx) => {
      const v = readInt(ctx, ctx.word(1), -253, 253);
      if (v === undefined) {
        ctx.diags.error(ctx.stmt, `vrrp_script ${s.name} weight must be between [-253:253] inclusive, ignoring...`, 'weight');
        return;
      }
      s.weight = v;
      if (ctx.words[2] === 'reverse') s.reverse = true;
    }),
    on('rise', (s, ctx) => {
      const v = readUnsigned(ctx, ctx.word(1), 1, 2147483647);
      if (v === undefined) ctx.diags.error(ctx.stmt, `vrrp_script ${s.name} rise value invalid, must be >= 1`, 'rise');
      else s.rise = v;
    }),
    on('fall', (s, ctx) => {
      const v = readUnsigned(ctx, ctx.word(1), 1, 2147483647);
      if (v === undefined) ctx.diags.error(ctx.stmt, `vrrp_script ${s.name} fall value invalid, must be >= 1`, 'fall');
      else s.fall = v;
    }),
    on('user', (s, ctx) => {
      const user = ctx.word(1);
      const group = ctx.words[2] ?? null;
      // keepalived: a later `user` line that resolves clears an earlier failure
      st.scriptExtras.get(s)!.userFailed = !st.identities.vrrpScriptUser(s.script.argv, user, group, loc(ctx));
      s.script = { ...s.script, user, group };
    }),
    on('init_fail', (s) => void (s.initFail = true)),
  ];
}

// ------------------------------------------------------------------------------------------ sync group

function syncGroupKeywords(st: ParseState, cur: () => SyncGroup | undefined): Keyword[] {
  const on = (name: string, fn: (g: SyncGroup, ctx: KeywordCtx) => void): Keyword => ({
    name,
    handler: (ctx) => {
      const g = cur();
      if (g) fn(g, ctx);
    },
  });
  const notify = (name: string, kind: 'master' | 'backup' | 'fault' | 'stop' | 'generic') =>
    on(name, (g, ctx) => {
      const cmd = readScriptCommand(ctx);
      if (cmd && st.identities.acceptNotify(cmd, 'notify', loc(ctx))) g.notify[kind] = cmd;
    });
  return [
    on('group', (g, ctx) => {
      for (const l of ctx.readValueBlock()) g.members.push(...l.words);
    }),
    on('track_interface', (g, ctx) => {
      for (const l of ctx.readValueBlock()) {
        const t = trackedInterface(st, l.words, l.stmt, ctx, g.name);
        if (t) g.trackInterfaces.push(t);
      }
    }),
    on('track_script', (g, ctx) => {
      for (const l of ctx.readValueBlock()) {
        const name = l.words[0]!;
        if (!st.config.scripts.some((s) => s.name === name)) {
          ctx.diags.error(l.stmt, `(${g.name}) track script ${name} not found, ignoring...`, 'track_script');
          continue;
        }
        const w = trackWeight({ ...ctx, stmt: l.stmt }, l.words, -253, 253, 'track script');
        if (w) g.trackScripts.push({ name, ...w } as TrackedScript);
      }
    }),
    on('track_file', (g, ctx) => {
      for (const l of ctx.readValueBlock()) {
        const name = l.words[0]!;
        if (!st.config.trackFiles.some((s) => s.name === name)) {
          ctx.diags.error(l.stmt, `(${g.name}) track_file ${name} not found, ignoring...`, 'track_file');
          continue;
        }
        const w = trackWeight({ ...ctx, stmt: l.stmt }, l.words, -254, 254, 'track file');
        if (w) g.trackFiles.push({ name, ...w } as TrackedFile);
      }
    }),
    on('track_process', (_g, ctx) => void ctx.readValueBlock()),
    on('track_bfd', (_g, ctx) => void ctx.readValueBlock()),
    notify('notify_master', 'master'),
    notify('notify_backup', 'backup'),
    notify('notify_fault', 'fault'),
    notify('notify_stop', 'stop'),
    notify('notify', 'generic'),
    on('smtp_alert', (g, ctx) => {
      const v = readBool(ctx);
      if (v !== undefined) g.smtpAlert = v;
    }),
    on('global_tracking', (g, ctx) => {
      ctx.diags.error(ctx.stmt, `(${g.name}) global_tracking is deprecated. Use track_interface/script/file on the sync group`, 'global_tracking');
      g.syncGroupTrackingWeight = true;
    }),
    on('sync_group_tracking_weight', (g) => void (g.syncGroupTrackingWeight = true)),
    on('notify_priority_changes', (g, ctx) => {
      const v = readBool(ctx);
      if (v !== undefined) g.notifyPriorityChanges = v;
    }),
  ];
}

// ------------------------------------------------------------------------------------------ track_file

function trackFileKeywords(cur: () => TrackFile | undefined): Keyword[] {
  const on = (name: string, fn: (t: TrackFile, ctx: KeywordCtx) => void): Keyword => ({
    name,
    handler: (ctx) => {
      const t = cur();
      if (t) fn(t, ctx);
    },
  });
  return [
    on('file', (t, ctx) => void (t.file = ctx.word(1))),
    on('weight', (t, ctx) => {
      const v = readInt(ctx, ctx.word(1), -254, 254);
      if (v === undefined) {
        ctx.diags.error(ctx.stmt, `Track file ${t.name} weight must be between [-254:254] inclusive, ignoring...`, 'weight');
        return;
      }
      t.weight = v;
      if (ctx.words[2] === 'reverse') t.reverse = true;
    }),
    on('init_file', (t, ctx) => {
      let k = 1;
      const w = ctx.words[k];
      if (w !== undefined && w !== 'overwrite') {
        if (/^[-+]?\d+$/.test(w)) t.initValue = Number(w);
        else ctx.diags.error(ctx.stmt, `track file ${t.name} init_file value '${w}' is invalid`, 'init_file');
        k++;
      } else t.initValue = 0;
      if (t.initValue === null) t.initValue = 0;
      if (ctx.words[k] === 'overwrite') t.initOverwrite = true;
    }),
  ];
}

// ------------------------------------------------------------------------------------------ root

/**
 * The root keywords as keepalived's other parsing passes (parent, checker, bfd) see them: every
 * VRRP block is inactive there and skipped by brace counting, so stray braces and unknown root
 * keywords are reported from a different point of view (KEEPALIVED.md 1.7, config-cases README).
 */
export function otherPassRootKeywords(): Keyword[] {
  const vrrpBlocks = ['global_defs', 'vrrp_instance', 'vrrp_script', 'vrrp_sync_group', 'track_file', 'vrrp_track_file', 'static_ipaddress', 'static_routes', 'static_rules'];
  const misc = ['net_namespace', 'net_namespace_ipvs', 'namespace_with_ipsets', 'use_pid_dir', 'instance', 'child_wait_time', 'linkbeat_use_polling'];
  return [...[...vrrpBlocks, ...INACTIVE_ROOT].map((name): Keyword => ({ name, inactive: true })), ...misc.map((name): Keyword => ({ name }))];
}

const INACTIVE_ROOT = ['virtual_server', 'virtual_server_group', 'SSL', 'bfd_instance', 'vrrp_track_process', 'garp_group', 'track_group', 'linkbeat_interfaces', 'interface_up_down_delays'];

/**
 * The prologue of a named root block (`vrrp_instance NAME {`...): the name must be given and be new,
 * else keepalived reports it and skips the whole block. Returns the name, or undefined when skipped.
 */
function blockName(ctx: KeywordCtx, missing: string, exists: (n: string) => boolean, duplicate: (n: string) => string): string | undefined {
  const n = ctx.words[1];
  const problem = n === undefined ? missing : exists(n) ? duplicate(n) : undefined;
  if (problem === undefined) return n;
  ctx.diags.error(ctx.stmt, problem, ctx.words[0]);
  ctx.skipBlock(true);
  return undefined;
}

export function rootKeywords(st: ParseState): Keyword[] {
  const cfg = st.config;
  const diags = st.diags;
  const host = st.host;
  let instance: VrrpInstance | undefined;
  let script: VrrpScript | undefined;
  let group: SyncGroup | undefined;
  let trackFile: TrackFile | undefined;

  const trackFileBlock = (name: string): Keyword => ({
    name,
    handler: (ctx) => {
      trackFile = undefined;
      const n = blockName(ctx, `${name} must have a name - skipping`, (x) => cfg.trackFiles.some((t) => t.name === x), (x) => `track_file ${x} already defined`);
      if (n === undefined) return;
      trackFile = { name: n, file: '', weight: 1, reverse: false, initValue: null, initOverwrite: false, origin: loc(ctx) };
    },
    sub: trackFileKeywords(() => trackFile),
    close: (at) => {
      const t = trackFile;
      trackFile = undefined;
      if (!t) return;
      if (t.file === '') {
        diags.error(at, `No file set for track_file ${t.name} - ignoring`, name);
        return;
      }
      cfg.trackFiles.push(t);
    },
  });

  return [
    { name: 'global_defs', sub: globalKeywords(st) },
    {
      name: 'vrrp_instance',
      handler: (ctx) => {
        instance = undefined;
        const n = blockName(ctx, 'vrrp_instance must have a name', (x) => cfg.instances.some((i) => i.name === x), (x) => `vrrp instance ${x} already defined`);
        if (n === undefined) return;
        const i = defaultInstance(n, cfg.global, loc(ctx));
        st.instanceExtras.set(i, { set: new Set(), unicastKeyword: false, missingInterface: false, rejectedInterface: false, family: null, advertIntRawMs: null, open: loc(ctx) });
        cfg.instances.push(i);
        instance = i;
      },
      sub: instanceKeywords(st, () => instance),
      close: (at) => {
        const i = instance;
        instance = undefined;
        if (!i) return;
        if (i.unicastPeers.length === 0 && st.instanceExtras.get(i)!.set.has('unicast_ttl')) {
          diags.error(at, `(${i.name}): Cannot use unicast_ttl without unicast peers - resetting`, 'unicast_ttl');
          i.unicastTtl = 255;
        }
      },
    },
    {
      name: 'vrrp_script',
      handler: (ctx) => {
        script = undefined;
        const n = blockName(ctx, 'vrrp_script must have a name', (x) => cfg.scripts.some((s) => s.name === x), (x) => `vrrp script ${x} already defined`);
        if (n === undefined) return;
        script = {
          name: n,
          script: { argv: [], user: null, group: null },
          intervalMs: 1000,
          timeoutMs: 0,
          weight: 0,
          reverse: false,
          rise: 1,
          fall: 1,
          initFail: false,
          origin: loc(ctx),
        };
        st.scriptExtras.set(script, { set: new Set(), scriptLine: null, userFailed: false });
      },
      sub: scriptKeywords(st, () => script),
      close: (at) => {
        const s = script;
        script = undefined;
        if (!s) return;
        if (s.script.argv.length === 0) {
          diags.error(at, `No script set for vrrp_script ${s.name} - removing`, 'vrrp_script');
          return;
        }
        // an unknown `user` was reported on its line; a refused default user is reported here
        if (st.scriptExtras.get(s)!.userFailed || !st.identities.acceptVrrpScript(s.name, s.script, at)) return;
        cfg.scripts.push(s);
      },
    },
    {
      name: 'vrrp_sync_group',
      handler: (ctx) => {
        group = undefined;
        const n = blockName(ctx, 'vrrp_sync_group must have a name', (x) => cfg.syncGroups.some((g) => g.name === x), (x) => `vrrp sync group ${x} already defined`);
        if (n === undefined) return;
        group = {
          name: n,
          members: [],
          trackInterfaces: [],
          trackScripts: [],
          trackFiles: [],
          notify: {},
          syncGroupTrackingWeight: false,
          notifyPriorityChanges: false,
          smtpAlert: false,
          origin: loc(ctx),
        };
        cfg.syncGroups.push(group);
      },
      sub: syncGroupKeywords(st, () => group),
      close: () => void (group = undefined),
    },
    trackFileBlock('track_file'),
    trackFileBlock('vrrp_track_file'),
    {
      name: 'static_ipaddress',
      handler: (ctx) => {
        for (const l of ctx.readValueBlock()) {
          const e: AddressEntry | undefined = parseAddressLine(l.words, l.stmt, ctx.diags, { allowTrackGroup: true, interfaceExists: interfaceExistsFn(st) });
          if (e) cfg.staticIpaddress.push(e);
        }
      },
    },
    {
      name: 'static_routes',
      handler: (ctx) => {
        for (const l of ctx.readValueBlock()) {
          const r: RouteEntry | undefined = parseRouteLine(l.words, l.stmt, ctx.diags, interfaceExistsFn(st));
          if (r) cfg.staticRoutes.push(r);
        }
      },
    },
    {
      name: 'static_rules',
      handler: (ctx) => {
        for (const l of ctx.readValueBlock()) {
          const r = parseRuleLine(l.words, l.stmt, ctx.diags);
          if (r) cfg.staticRules.push(assignPreference(st, r, l.stmt, ctx.diags));
        }
      },
    },
    ...['net_namespace', 'net_namespace_ipvs', 'namespace_with_ipsets', 'use_pid_dir', 'instance', 'child_wait_time', 'linkbeat_use_polling'].map(
      (name): Keyword => ({ name, handler: (ctx) => void cfg.global.ignored.push(ctx.words.join(' ')) }),
    ),
    ...INACTIVE_ROOT.map((name): Keyword => ({ name, inactive: true })),
  ];
}

