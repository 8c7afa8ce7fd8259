/**
 * Post-parse rules (keepalived's vrrp_complete_instance() and friends; docs/keepalived-behaviour.md 2.2 "Other
 * completion-time rules", 2.4, 2.5): defaults resolved at the end, derivations, consistency checks
 * and the host checks (interfaces, script files) keepalived makes. Pure but for the injected host.
 */
import type { InstanceExtras, ParseState } from './keywords/parse-state.js';
import type { ScriptCommand, SyncGroup, VrrpInstance } from './model.js';
import { completeAddressVmacs } from './keywords/vmac.js';
import { checkScriptFile, type ScriptCheck } from './script-check.js';
import { ROOT_IDENTITY } from './script-user.js';
import { isIpv6LinkLocal } from './values.js';

export function completeConfig(st: ParseState): void {
  const { config: cfg, diags } = st;
  const g = cfg.global;

  // vrrp_garp_lower_prio_* default to the *global* master values, resolved at the end of the parse
  if (!st.globalSet.has('vrrp_garp_lower_prio_delay')) g.vrrpGarpLowerPrioDelayMs = g.vrrpGarpMasterDelayMs;
  if (!st.globalSet.has('vrrp_garp_lower_prio_repeat')) g.vrrpGarpLowerPrioRepeat = g.vrrpGarpMasterRepeat;
  // smtp_alert of an instance or sync group without its own: smtp_alert_vrrp if given, else smtp_alert, else off
  const smtpDefault = st.globalSet.has('smtp_alert_vrrp') ? g.smtpAlertVrrp : st.globalSet.has('smtp_alert') ? g.smtpAlert : false;
  for (const i of cfg.instances) if (!st.instanceExtras.get(i)?.set.has('smtp_alert')) i.smtpAlert = smtpDefault;
  for (const sg of cfg.syncGroups) if (!st.groupSmtpAlertSet.has(sg)) sg.smtpAlert = smtpDefault;

  // keepalived 2.2.7 ends its checks here when an interface is missing (config-cases: pass-order)
  if ((!g.dynamicInterfaces && [...st.instanceExtras.values()].some((x) => x.missingInterface)) || routeInterfaceMissing(st)) {
    diags.fatal(undefined, 'Non-existent interface specified in configuration');
    return;
  }

  checkScriptSecurity(st);

  // Unused scripts are dropped (keepalived logs this at run time only, not under -t).
  const used = new Set<string>();
  for (const i of cfg.instances) for (const t of i.trackScripts) used.add(t.name);
  for (const sg of cfg.syncGroups) for (const t of sg.trackScripts) used.add(t.name);
  for (const s of [...cfg.scripts]) {
    if (!used.has(s.name)) {
      diags.info(s.origin, `Warning - script ${s.name} is not used`, 'vrrp_script');
      cfg.scripts.splice(cfg.scripts.indexOf(s), 1);
    }
  }

  // First the VRID and interface of every instance; the first failure ends the checks.
  for (const i of cfg.instances) {
    if (!checkIdentity(st, i)) return;
  }

  completeSyncGroups(st);

  for (const i of cfg.instances) {
    const before = diags.hasFatal();
    completeInstance(st, i);
    if (!before && diags.hasFatal()) return;
  }

  // Duplicate VRID per (interface, family, multicast): fatal in keepalived.
  const seen = new Map<string, VrrpInstance>();
  for (const i of cfg.instances) {
    if (i.unicastPeers.length > 0) continue;
    const fam = i.family;
    const key = `${i.interface ?? ''}|${fam}|${i.virtualRouterId}`;
    const other = seen.get(key);
    if (other)
      diags.fatal(
        undefined,
        `${other.name} and ${i.name} both use VRID ${i.virtualRouterId} with IPv${fam} on interface ${i.interface ?? ''}`,
      );
    else seen.set(key, i);
  }
  // Unicast instances may share a VRID only when their peers don't overlap.
  const uni = cfg.instances.filter((i) => i.unicastPeers.length > 0);
  for (let a = 0; a < uni.length; a++) {
    for (let b = a + 1; b < uni.length; b++) {
      const x = uni[a]!;
      const y = uni[b]!;
      if (x.virtualRouterId !== y.virtualRouterId || x.interface !== y.interface || x.family !== y.family) continue;
      if (x.unicastPeers.some((p) => y.unicastPeers.some((q) => q.address === p.address)))
        diags.fatal(
          undefined,
          `${x.name} and ${y.name} both use VRID ${x.virtualRouterId} with IPv${x.family} on interface ${x.interface ?? ''}`,
        );
    }
  }
}

function routeInterfaceMissing(st: ParseState): boolean {
  const ifs = st.host.interfaces?.();
  if (!ifs || st.config.global.dynamicInterfaces) return false;
  return st.config.instances.some((i) => i.virtualRoutes.some((r) => r.dev !== null && !ifs.has(r.dev)));
}

/** VRID set, interface usable: checked for every instance before anything else. */
function checkIdentity(st: ParseState, i: VrrpInstance): boolean {
  const { diags } = st;
  const ex = st.instanceExtras.get(i)!;
  const pfx = `(${i.name})`;
  if (i.virtualRouterId === 0) {
    diags.fatal(undefined, `${pfx} the virtual router id must be set`, 'virtual_router_id');
    return false;
  }
  if (i.interface === null && ex.rejectedInterface) {
    diags.fatal(undefined, `${pfx} Unknown interface!`, 'interface');
    return false;
  }
  if (i.interface === null && !(i.unicastPeers.length > 0 && i.unicastSrcIp !== null)) {
    if (i.unicastPeers.length > 0) diags.fatal(undefined, `${pfx} Unicast instances must have unicast_src_ip or interface`, 'interface');
    else diags.fatal(undefined, `${pfx} Unknown interface!`, 'interface');
    return false;
  }
  return true;
}

/** The post-parse rules of one instance (keepalived's `vrrp_complete_instance()`, docs/keepalived-behaviour.md 2.2), in this order. */
function completeInstance(st: ParseState, i: VrrpInstance): void {
  const ex = st.instanceExtras.get(i)!;
  if (!completeVersion(st, i, ex)) return;
  completeDefaults(st, i, ex);
  if (i.strictMode) completeStrict(st, i, ex);
  completePreempt(st, i);
  completeAuth(st, i);
  completeFirstIpv6Vip(st, i);
  completeInterval(st, i, ex);
  completeVmacXmitBase(st, i);
  completeAddressVmacs(i, (msg, kw) => st.diags.error(undefined, msg, kw));
  // keepalived checks the VIPs a second time, also refusing an IPv6 instance kept at version 2
  if (i.virtualIpaddress.length === 0 && i.family === 6) {
    st.diags.fatal(undefined, `(${i.name}) No VIP specified; at least one is required`, 'virtual_ipaddress');
    return;
  }
  completeTracking(st, i);
}

/**
 * `vmac_xmit_base` (docs/vmac.md): reset in strict mode, cleared without `use_vmac`, each with
 * keepalived 2.2.7's counted error (test/fixtures/config-cases/vmac-xmit-base.conf).
 */
function completeVmacXmitBase(st: ParseState, i: VrrpInstance): void {
  if (!i.vmacXmitBase) return;
  if (i.useVmac && i.strictMode)
    st.diags.error(undefined, `(${i.name}) xmit_base is incompatible with strict mode - resetting`, 'vmac_xmit_base');
  else if (!i.useVmac) st.diags.error(undefined, `(${i.name}) vmac_xmit_base is only valid with a vmac`, 'vmac_xmit_base');
  else return;
  i.vmacXmitBase = false;
}

/**
 * Family and version, the first thing keepalived settles for an instance: IPv4 unless an address
 * said otherwise; the version given, else 3 for IPv6, else global_defs `vrrp_version` (read once
 * the whole file is, so a later global_defs counts). An IPv6 instance keeps an explicit
 * `version 2` unless strict mode forces 3 (keepalived 2.2.7, observed). Then the VIP requirement:
 * VRRPv3 and strict mode need one. False: the instance is refused.
 */
function completeVersion(st: ParseState, i: VrrpInstance, ex: InstanceExtras): boolean {
  const { diags } = st;
  const pfx = `(${i.name})`;
  if (ex.family === 6 && ex.version === 2 && i.strictMode) {
    diags.error(undefined, `${pfx} cannot use IPv6 with VRRP version 2; setting version 3`, 'version');
    ex.version = 3;
  }
  i.family = ex.family ?? 4;
  i.version = ex.version ?? (i.family === 6 ? 3 : st.config.global.vrrpVersion);
  if (i.virtualIpaddress.length > 0) return true;
  if (i.version === 3 || i.strictMode) {
    diags.fatal(undefined, `${pfx} No VIP specified; at least one is required`, 'virtual_ipaddress');
    return false;
  }
  diags.error(undefined, `${pfx} No VIP specified; at least one is sensible`, 'virtual_ipaddress');
  return true;
}

/** Defaults from global_defs, unicast keywords without peers, the owner's state. */
function completeDefaults(st: ParseState, i: VrrpInstance, ex: InstanceExtras): void {
  const { diags } = st;
  const g = st.config.global;
  const pfx = `(${i.name})`;

  if (!ex.set.has('garp_lower_prio_delay')) i.garpLowerPrioDelayMs = g.vrrpGarpLowerPrioDelayMs;
  if (!ex.set.has('garp_lower_prio_repeat')) i.garpLowerPrioRepeat = g.vrrpGarpLowerPrioRepeat;

  // keepalived 2.2.7 (vrrp.c): unicast keywords without peers fall back to multicast, deprecated;
  // with unicast_fault_no_peer the instance goes to FAULT for good instead (logged, not by -t);
  // vrrpd refuses that case (runtime-support.ts)
  if (i.unicastPeers.length === 0 && ex.unicastKeyword) {
    if (i.unicastFaultNoPeer) diags.info(undefined, `${pfx} Cannot use unicast without any peers - going to fault state`);
    else {
      diags.error(
        undefined,
        `${pfx} A unicast keyword has been specified without any unicast peers. Defaulting to multicast. This usage is deprecated - please update your configuration.`,
      );
      if (i.unicastTtl !== 255) i.unicastTtl = 255;
    }
  }

  // state MASTER without priority means the address owner
  if (i.state === 'MASTER' && !ex.set.has('priority')) i.priority = 255;
  if (!i.stateConfigured) i.state = i.priority === 255 ? 'MASTER' : 'BACKUP';
}

/**
 * RFC 5798 5.2.9: an IPv6 instance's first VIP is its link-local address. keepalived insists only in
 * strict mode (a counted error, nothing changed) and otherwise only logs it at run time.
 */
function completeFirstIpv6Vip(st: ParseState, i: VrrpInstance): void {
  const first = i.virtualIpaddress[0];
  if (i.family !== 6 || i.unicastPeers.length > 0 || !first || isIpv6LinkLocal(first.address)) return;
  if (i.strictMode) st.diags.error(undefined, `(${i.name}) the first IPv6 VIP address must be link local`, 'virtual_ipaddress');
  else st.diags.info(undefined, `(${i.name}) the first IPv6 VIP address should be link local`, 'virtual_ipaddress');
}

/** VRRPv3's 12-bit Max Adver Interval in centiseconds: at most 4095 cs (RFC 5798 5.2.7). */
export const V3_ADVERT_INT_MAX_MS = 40950;

/**
 * The advert interval in the version's wire unit (keepalived's checks at completion): v2 whole
 * seconds, rounded to the nearest (at least 1); v3 centiseconds, rounded half up to the nearest
 * (at least 0.01 s) and at most 40.95 s. The parse already refused values outside 0.01..255 s.
 */
function completeInterval(st: ParseState, i: VrrpInstance, ex: InstanceExtras): void {
  const { diags } = st;
  const pfx = `(${i.name})`;
  const raw = ex.advertIntRawMs;
  if (raw === null) return;
  if (i.version === 2) {
    if (raw % 1000 === 0) return;
    diags.error(undefined, `${pfx} VRRPv2 advertisement interval ${(raw / 1000).toFixed(6)}s must be an integer. rounding`, 'advert_int');
    i.advertIntMs = Math.max(1000, Math.round(raw / 1000) * 1000);
    return;
  }
  const us = Math.round(raw * 1000);
  // 40.96 s and above do not fit in 12 bits of centiseconds
  if (us >= (V3_ADVERT_INT_MAX_MS + 10) * 1000) {
    diags.error(
      undefined,
      `${pfx} VRRPv3 advertisement interval ${(us / 1e6).toFixed(2)}s is out of range. Must be less than 40.96s. Setting to 40.95s`,
      'advert_int',
    );
    i.advertIntMs = V3_ADVERT_INT_MAX_MS;
  } else if (us % 10000 !== 0) {
    diags.error(
      undefined,
      `${pfx} VRRPv3 advertisement interval ${(us / 1e6).toFixed(6)}s must be in units of 10ms - rounding`,
      'advert_int',
    );
    const cs = Math.floor((us + 5000) / 10000);
    i.advertIntMs = Math.max(1, cs) * 10;
  }
}

/** `strict_mode` (or global `vrrp_strict`): RFC-only behaviour. */
function completeStrict(st: ParseState, i: VrrpInstance, ex: InstanceExtras): void {
  const { diags } = st;
  const pfx = `(${i.name})`;
  if (i.authType !== 'NONE') {
    diags.error(undefined, `${pfx} Strict mode does not support authentication. Ignoring.`, 'authentication');
    i.authType = 'NONE';
    i.authPass = null;
  }
  if (i.state === 'MASTER' && i.priority !== 255) {
    diags.error(undefined, `${pfx} State MASTER must match being address owner`, 'state');
    i.state = 'BACKUP';
  }
  if (i.preemptDelayMs > 0) {
    diags.error(undefined, `${pfx} preempt_delay is incompatible with strict mode - resetting`, 'preempt_delay');
    i.preemptDelayMs = 0;
  }
  i.downTimerAdverts = 3;
  i.lowerPrioNoAdvert = true;
  i.higherPrioSendAdvert = false;
  if (!ex.set.has('accept') && !ex.set.has('no_accept')) i.accept = i.priority === 255;
  if (ex.set.has('accept') && i.version === 2) {
    diags.error(undefined, `${pfx} warning - accept mode for VRRP version 2 does not comply with RFC3768 - resetting`, 'accept');
    i.accept = false;
  }
}

/** Preemption settings that cannot work together. */
function completePreempt(st: ParseState, i: VrrpInstance): void {
  const { diags } = st;
  const pfx = `(${i.name})`;
  if (i.state === 'MASTER' && (i.nopreempt || i.preemptDelayMs > 0)) {
    if (i.nopreempt) diags.error(undefined, `${pfx} Warning - nopreempt will not work with initial state MASTER - clearing`, 'nopreempt');
    if (i.preemptDelayMs > 0)
      diags.error(undefined, `${pfx} Warning - preempt delay will not work with initial state MASTER - clearing`, 'preempt_delay');
    i.nopreempt = false;
    i.preemptDelayMs = 0;
  }
  if (i.nopreempt && i.priority === 255) {
    diags.error(undefined, `${pfx} nopreempt is incompatible with priority 255 - resetting nopreempt`, 'nopreempt');
    i.nopreempt = false;
  }
  if (i.nopreempt && i.preemptDelayMs > 0) {
    diags.error(undefined, `${pfx} preempt_delay is incompatible with nopreempt mode - resetting`, 'preempt_delay');
    i.preemptDelayMs = 0;
  }
}

/** Authentication that cannot be used as configured. */
function completeAuth(st: ParseState, i: VrrpInstance): void {
  const { diags } = st;
  const pfx = `(${i.name})`;
  if (i.authType !== 'NONE' && i.version === 3) {
    diags.error(undefined, `${pfx} VRRP version 3 does not support authentication. Ignoring.`, 'authentication');
    i.authType = 'NONE';
    i.authPass = null;
  }
  if (i.authType !== 'NONE' && i.authPass === null) {
    diags.error(undefined, `${pfx} Authentication type given without password - ignoring authentication`, 'authentication');
    i.authType = 'NONE';
  }
  if (i.authType === 'AH' && i.state === 'MASTER' && i.priority !== 255) {
    diags.error(undefined, `${pfx} Initial state master is incompatible with AH authentication - clearing`, 'state');
    i.state = 'BACKUP';
  }
}

/** Trackers: not the instance's own interface; an address owner ignores weighted ones. */
function completeTracking(st: ParseState, i: VrrpInstance): void {
  const { diags } = st;
  const pfx = `(${i.name})`;
  for (const t of [...i.trackInterfaces]) {
    if (t.name === i.interface) {
      diags.error(undefined, `${pfx} Ignoring track_interface ${t.name} since own interface`, 'track_interface');
      i.trackInterfaces.splice(i.trackInterfaces.indexOf(t), 1);
    }
  }

  // An address owner ignores weights: weighted trackers are dropped (docs/keepalived-behaviour.md 2.2).
  if (i.priority === 255) {
    i.trackScripts = i.trackScripts.filter((t) => (t.weight ?? scriptWeight(st, t.name)) === 0);
    i.trackInterfaces = i.trackInterfaces.filter((t) => t.weight === 0);
  }
}

function scriptWeight(st: ParseState, name: string): number {
  return st.config.scripts.find((s) => s.name === name)?.weight ?? 0;
}

function completeSyncGroups(st: ParseState): void {
  const { config: cfg, diags } = st;
  const owner = new Map<string, string>();
  for (const sg of [...cfg.syncGroups]) {
    const members: string[] = [];
    for (const m of sg.members) {
      const inst = cfg.instances.find((i) => i.name === m);
      if (!inst) {
        diags.error(undefined, `Virtual router ${m} specified in sync group ${sg.name} doesn't exist - ignoring`, 'group');
        continue;
      }
      const prev = owner.get(m);
      if (prev) {
        diags.error(undefined, `Virtual router ${m} cannot exist in more than one sync group; ignoring ${sg.name}`, 'group');
        continue;
      }
      owner.set(m, sg.name);
      members.push(m);
    }
    const hadMembers = sg.members.length > 0;
    sg.members = members;
    if (members.length === 0) {
      if (hadMembers) diags.error(undefined, `Sync group ${sg.name}, no matching virtual router found in group declaration - removing`);
      else diags.error(undefined, `Sync group ${sg.name} has no virtual router(s). removing`);
      cfg.syncGroups.splice(cfg.syncGroups.indexOf(sg), 1);
      continue;
    }
    if (members.length === 1)
      diags.error(undefined, `Sync group ${sg.name} has only 1 virtual router(s) - this probably isn't what you want`);
    for (const m of members) {
      const inst = cfg.instances.find((i) => i.name === m)!;
      inst.syncGroup = sg.name;
      if (!sg.syncGroupTrackingWeight) {
        inst.trackScripts = inst.trackScripts.filter((t) => (t.weight ?? scriptWeight(st, t.name)) === 0);
        inst.trackInterfaces = inst.trackInterfaces.map((t) => ({ ...t, weight: 0 }));
      }
    }
    ownerGroupProcesses(st, sg);
  }
}

/** A sync group with an address owner (priority 255) among its members tracks processes unweighted. */
function ownerGroupProcesses(st: ParseState, sg: SyncGroup): void {
  if (!sg.members.some((m) => st.config.instances.find((i) => i.name === m)?.priority === 255)) return;
  for (const t of sg.trackProcesses) {
    if ((t.weight ?? st.config.trackProcesses.find((p) => p.name === t.name)?.weight ?? 0) === 0) continue;
    st.diags.error(
      undefined,
      `(${sg.name}) Cannot have weighted track process '${t.name}' with member having priority 255 - setting weight 0`,
      'track_process',
    );
    t.weight = 0;
  }
}

/**
 * keepalived's script checks at the end of the vrrp pass (vrrp.c `check_vrrp_script_security()`,
 * docs/keepalived-behaviour.md 4.1, 1.7 exit 6), judged against the running host (script-check.ts): a script that
 * is missing, not executable for its user or (with enable_script_security) insecure is REMOVED from
 * what runs. A vrrp_script: from the model and from every instance's and sync group's
 * track_script (the instance is not put in FAULT: keepalived drops the tracking, observed); a
 * notify hook or FIFO reader script: unset. Without enable_script_security any script found is a
 * SECURITY VIOLATION (exit 6), and insecure scripts still run, as with keepalived. keepalived's log
 * lines for each check are `info` diagnostics, except the one saying why a script will not run (or
 * runs from an insecure path): a notice, with what to fix appended, shown by `vrrpd check` without
 * counting for its exit code.
 */
function checkScriptSecurity(st: ParseState): void {
  const { config: cfg, diags, host } = st;
  const fs = host.scriptFs;
  if (!fs) return;
  const g = cfg.global;
  const security = g.enableScriptSecurity;
  let isScript = false;
  let insecure = false;
  const judge = (cmd: ScriptCommand): ScriptCheck | undefined => {
    const prog = cmd.argv[0];
    if (prog === undefined) return undefined;
    const id = st.identities.get(cmd) ?? ROOT_IDENTITY;
    const r = checkScriptFile(fs, prog, id.ok ? id.uid : 0, id.ok ? id.gid : 0, security);
    isScript ||= r.isScript;
    insecure ||= r.insecure;
    r.messages.forEach((m, n) => {
      const last = n === r.messages.length - 1;
      // the reason a script will not run (or runs insecure), with what to fix: shown by `vrrpd check`
      // (not counted: keepalived -t does not print it, its running daemon logs it)
      if (last && (!r.usable || r.insecure)) diags.notice(undefined, r.detail !== undefined ? `${m} (${r.detail})` : m, 'security');
      else diags.info(undefined, m, 'security');
    });
    return r;
  };

  // startup/shutdown scripts are checked first, by keepalived's parent process, with their own message
  for (const c of [g.startupScript, g.shutdownScript]) if (c) judge(c);
  if (!security && isScript) {
    diags.report(
      undefined,
      'error',
      `SECURITY VIOLATION - start/shutdown scripts are being executed but script_security not enabled.${insecure ? ' There are insecure scripts.' : ''}`,
      undefined,
      'security',
    );
  }
  isScript = false;
  insecure = false;

  const drop = (name: string): void => {
    const s = cfg.scripts.find((x) => x.name === name);
    if (s) cfg.scripts.splice(cfg.scripts.indexOf(s), 1);
    for (const x of [...cfg.instances, ...cfg.syncGroups]) x.trackScripts = x.trackScripts.filter((ts) => ts.name !== name);
  };
  for (const s of [...cfg.scripts]) {
    const r = judge(s.script);
    if (!r || r.usable) continue;
    if (r.inhibited) diags.error(undefined, `Disabling track script ${s.name} due to insecure`, 'vrrp_script');
    else if (r.notFound) diags.error(undefined, `Disabling track script ${s.name} since not found/accessible`, 'vrrp_script');
    drop(s.name);
  }
  const hooks = (owner: { notify: Partial<Record<string, ScriptCommand>> }, order: readonly string[]): void => {
    for (const k of order) {
      const c = owner.notify[k];
      if (!c || c.argv.length === 0) continue;
      const r = judge(c);
      if (r && !r.usable) delete owner.notify[k];
    }
  };
  for (const i of cfg.instances) hooks(i, ['backup', 'master', 'fault', 'stop', 'deleted', 'generic', 'masterRxLowerPri']);
  for (const sg of cfg.syncGroups) hooks(sg, ['backup', 'master', 'fault', 'stop', 'generic']);
  if (g.notifyFifoScript) {
    const r = judge(g.notifyFifoScript);
    if (r && !r.usable) g.notifyFifoScript = null;
  }
  if (g.vrrpNotifyFifoScript) {
    const r = judge(g.vrrpNotifyFifoScript);
    if (r && !r.usable) g.vrrpNotifyFifoScript = null;
  }
  if (!security && isScript) {
    diags.report(
      undefined,
      'error',
      `SECURITY VIOLATION - scripts are being executed but script_security not enabled.${insecure ? ' There are insecure scripts.' : ''}`,
      undefined,
      'security',
    );
  }
}
