/**
 * The model printed back as canonical keepalived.conf text (for `vrrpd check --print` and
 * round-trip tests: the printed text loads to the same model).
 */
import { formatAddressLine } from './address-lines.js';
import { V3_ADVERT_INT_MAX_MS } from './completion.js';
import type {
  DeepReadonly,
  Config,
  RuleEntry,
  ScriptCommand,
  SyncGroup,
  TrackedFile,
  TrackedInterface,
  TrackedProcess,
  TrackedScript,
  TrackProcess,
  VrrpInstance,
} from './model.js';

const q = (s: string): string => (/^[^\s"'\\!#{}$]+$/.test(s) && s !== '' ? s : `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`);

/** A script command as one shell-like quoted word, then user and group. */
function cmd(c: DeepReadonly<ScriptCommand>): string {
  const inner = c.argv.map((a) => (/^[^\s"'\\]+$/.test(a) ? a : `'${a.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`)).join(' ');
  const parts = [`"${inner.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`];
  if (c.user !== null) parts.push(c.user);
  if (c.group !== null) parts.push(c.group);
  return parts.join(' ');
}

const secs = (ms: number): string => String(ms / 1000);

function track(t: DeepReadonly<TrackedInterface | TrackedScript | TrackedFile>): string {
  const p = [t.name];
  if (t.weight !== null) p.push('weight', String(t.weight));
  if (t.reverse === true) p.push('reverse');
  if (t.reverse === false && 'weight' in t && typeof t.weight === 'number' && !('name' in t && false)) {
    /* noreverse is the default */
  }
  return p.join(' ');
}

/** Lines of output, indented four spaces per depth. */
class Printer {
  readonly out: string[] = [];
  line(depth: number, s: string): void {
    this.out.push(`${'    '.repeat(depth)}${s}`);
  }
  /** A value block `name { rows }`, left out when there are no rows. */
  block(depth: number, name: string, rows: readonly string[]): void {
    if (!rows.length) return;
    this.line(depth, `${name} {`);
    for (const r of rows) this.line(depth + 1, r);
    this.line(depth, '}');
  }
}

/** A rule line with its preference (assigned at parse time when the line had none). */
const ruleLine = (r: DeepReadonly<RuleEntry>): string =>
  [...r.words, ...(r.words.includes('preference') ? [] : ['preference', String(r.preference)])].join(' ');

export function printKeepalived(c: DeepReadonly<Config>): string {
  const p = new Printer();
  printGlobal(p, c.global);
  for (const t of c.trackFiles) {
    p.line(0, `track_file ${t.name} {`);
    p.line(1, `file ${q(t.file)}`);
    p.line(1, `weight ${t.weight}${t.reverse ? ' reverse' : ''}`);
    if (t.initValue !== null) p.line(1, `init_file ${t.initValue}${t.initOverwrite ? ' overwrite' : ''}`);
    p.line(0, '}');
  }
  for (const s of c.scripts) {
    p.line(0, `vrrp_script ${s.name} {`);
    p.line(1, `script ${cmd({ argv: s.script.argv, user: null, group: null })}`);
    if (s.script.user !== null) p.line(1, `user ${s.script.user}${s.script.group !== null ? ` ${s.script.group}` : ''}`);
    p.line(1, `interval ${secs(s.intervalMs)}`);
    if (s.timeoutMs > 0) p.line(1, `timeout ${secs(s.timeoutMs)}`);
    p.line(1, `weight ${s.weight}${s.reverse ? ' reverse' : ''}`);
    p.line(1, `rise ${s.rise}`);
    p.line(1, `fall ${s.fall}`);
    if (s.initFail) p.line(1, 'init_fail');
    p.line(0, '}');
  }
  for (const t of c.trackProcesses) printTrackProcess(p, t);
  printStatic(p, c);
  for (const i of c.instances) printInstance(p, i);
  for (const sg of c.syncGroups) printSyncGroup(p, sg);
  return `${p.out.join('\n')}\n`;
}

function printTrackProcess(p: Printer, t: DeepReadonly<TrackProcess>): void {
  p.line(0, `vrrp_track_process ${t.name} {`);
  p.line(1, `process ${[t.process, ...(t.params ?? [])].map(q).join(' ')}`);
  if (t.paramMatch !== 'none') p.line(1, `param_match${t.paramMatch === 'exact' ? '' : ` ${t.paramMatch}`}`);
  if (t.fullCommand) p.line(1, 'full_command');
  if (t.quorum >= 1) p.line(1, `quorum ${t.quorum}`);
  if (t.quorumMax !== null) p.line(1, `quorum_max ${t.quorumMax}`);
  p.line(1, `weight ${t.weight}${t.reverse ? ' reverse' : ''}`);
  if (t.terminateDelayMs > 0) p.line(1, `terminate_delay ${secs(t.terminateDelayMs)}`);
  if (t.forkDelayMs > 0) p.line(1, `fork_delay ${secs(t.forkDelayMs)}`);
  p.line(0, '}');
}

/** A `track_process` reference: keepalived takes `reverse` only after a weight. */
function trackedProcess(t: DeepReadonly<TrackedProcess>): string {
  if (t.weight === null) return t.name;
  return `${t.name} weight ${t.weight}${t.reverse === null ? '' : t.reverse ? ' reverse' : ' noreverse'}`;
}

function printGlobal(p: Printer, g: DeepReadonly<Config['global']>): void {
  p.line(0, 'global_defs {');
  if (g.routerId !== null) p.line(1, `router_id ${q(g.routerId)}`);
  if (g.notificationEmail.length) {
    p.line(1, 'notification_email {');
    for (const e of g.notificationEmail) p.line(2, q(e));
    p.line(1, '}');
  }
  if (g.notificationEmailFrom !== null) p.line(1, `notification_email_from ${q(g.notificationEmailFrom)}`);
  if (g.smtpServer !== null) p.line(1, `smtp_server ${g.smtpServer}`);
  p.line(1, `smtp_connect_timeout ${secs(g.smtpConnectTimeoutMs)}`);
  if (g.smtpHeloName !== null) p.line(1, `smtp_helo_name ${g.smtpHeloName}`);
  if (g.noEmailFaults) p.line(1, 'no_email_faults');
  p.line(1, `vrrp_mcast_group4 ${g.vrrpMcastGroup4}`);
  p.line(1, `vrrp_mcast_group6 ${g.vrrpMcastGroup6}`);
  p.line(1, `default_interface ${g.defaultInterface}`);
  p.line(1, `vrrp_garp_master_delay ${secs(g.vrrpGarpMasterDelayMs)}`);
  p.line(1, `vrrp_garp_master_repeat ${g.vrrpGarpMasterRepeat}`);
  p.line(1, `vrrp_garp_master_refresh ${secs(g.vrrpGarpMasterRefreshMs)}`);
  p.line(1, `vrrp_garp_master_refresh_repeat ${g.vrrpGarpMasterRefreshRepeat}`);
  p.line(1, `vrrp_garp_lower_prio_delay ${secs(g.vrrpGarpLowerPrioDelayMs)}`);
  p.line(1, `vrrp_garp_lower_prio_repeat ${g.vrrpGarpLowerPrioRepeat}`);
  if (g.vrrpGarpIntervalMs > 0) p.line(1, `vrrp_garp_interval ${secs(g.vrrpGarpIntervalMs)}`);
  if (g.vrrpGnaIntervalMs > 0) p.line(1, `vrrp_gna_interval ${secs(g.vrrpGnaIntervalMs)}`);
  p.line(1, `vrrp_min_garp ${g.vrrpMinGarp}`);
  p.line(1, `vrrp_down_timer_adverts ${g.vrrpDownTimerAdverts}`);
  p.line(1, `vrrp_lower_prio_no_advert ${g.vrrpLowerPrioNoAdvert}`);
  p.line(1, `vrrp_higher_prio_send_advert ${g.vrrpHigherPrioSendAdvert}`);
  p.line(1, `vrrp_version ${g.vrrpVersion}`);
  if (g.vrrpCheckUnicastSrc) p.line(1, 'vrrp_check_unicast_src');
  if (g.vrrpSkipCheckAdvAddr) p.line(1, 'vrrp_skip_check_adv_addr');
  if (g.vrrpStrict) p.line(1, 'vrrp_strict');
  if (g.vrrpNotifyFifo)
    p.line(
      1,
      `vrrp_notify_fifo ${[g.vrrpNotifyFifo.path, g.vrrpNotifyFifo.user, g.vrrpNotifyFifo.group].filter((x) => x !== null).join(' ')}`,
    );
  if (g.vrrpNotifyFifoScript) p.line(1, `vrrp_notify_fifo_script ${cmd(g.vrrpNotifyFifoScript)}`);
  if (g.notifyFifo)
    p.line(1, `notify_fifo ${[g.notifyFifo.path, g.notifyFifo.user, g.notifyFifo.group].filter((x) => x !== null).join(' ')}`);
  if (g.notifyFifoScript) p.line(1, `notify_fifo_script ${cmd(g.notifyFifoScript)}`);
  p.line(1, `vrrp_notify_priority_changes ${g.vrrpNotifyPriorityChanges}`);
  if (g.fifoWriteVrrpStatesOnReload) p.line(1, 'fifo_write_vrrp_states_on_reload');
  if (g.scriptUser !== null) p.line(1, `script_user ${g.scriptUser}${g.scriptGroup !== null ? ` ${g.scriptGroup}` : ''}`);
  if (g.enableScriptSecurity) p.line(1, 'enable_script_security');
  if (g.umask !== 0o177) p.line(1, `umask 0${g.umask.toString(8)}`);
  if (g.dynamicInterfaces) p.line(1, 'dynamic_interfaces');
  if (g.vrrpStartupDelayMs > 0) p.line(1, `vrrp_startup_delay ${secs(g.vrrpStartupDelayMs)}`);
  if (g.logUnknownVrids) p.line(1, 'log_unknown_vrids');
  if (g.startupScript) p.line(1, `startup_script ${cmd(g.startupScript)}`);
  if (g.shutdownScript) p.line(1, `shutdown_script ${cmd(g.shutdownScript)}`);
  if (g.reloadCheckConfig) p.line(1, 'reload_check_config');
  p.line(1, `smtp_alert ${g.smtpAlert}`);
  p.line(1, `smtp_alert_vrrp ${g.smtpAlertVrrp}`);
  for (const x of g.ignored) p.line(1, x);
  p.line(0, '}');
}

function printStatic(p: Printer, c: DeepReadonly<Config>): void {
  p.block(0, 'static_ipaddress', c.staticIpaddress.map(formatAddressLine));
  p.block(
    0,
    'static_routes',
    c.staticRoutes.map((r) => r.words.join(' ')),
  );
  p.block(0, 'static_rules', c.staticRules.map(ruleLine));
}

function printInstance(p: Printer, i: DeepReadonly<VrrpInstance>): void {
  p.line(0, `vrrp_instance ${i.name} {`);
  if (i.stateConfigured) p.line(1, `state ${i.state}`);
  if (i.interface !== null) p.line(1, `interface ${i.interface}`);
  p.line(1, `virtual_router_id ${i.virtualRouterId}`);
  p.line(1, `priority ${i.priority}`);
  // keepalived rounds 40.955..40.959 s up to 40.96 s under v3, past the range it clamps (config-cases
  // v3-advert-int, VI_15); only such a value reads back as that
  p.line(1, `advert_int ${i.version === 3 && i.advertIntMs > V3_ADVERT_INT_MAX_MS ? '40.955' : secs(i.advertIntMs)}`);
  // the family comes back from the first address printed; native_ipv6 only when no address says it
  if (i.family === 6 && !hasIpv6Address(i)) p.line(1, 'native_ipv6');
  p.line(1, `version ${i.version}`);
  if (i.nopreempt) p.line(1, 'nopreempt');
  if (i.preemptDelayMs > 0) p.line(1, `preempt_delay ${secs(i.preemptDelayMs)}`);
  // a password is kept even when the type was refused (`auth_type pass`): print it so it reads back
  if (i.authPass !== null) {
    p.line(1, 'authentication {');
    if (i.authType !== 'NONE') p.line(2, `auth_type ${i.authType}`);
    p.line(2, `auth_pass ${q(i.authPass)}`);
    p.line(1, '}');
  }
  if (i.unicastSrcIp !== null) p.line(1, `unicast_src_ip ${i.unicastSrcIp}`);
  if (i.mcastSrcIp !== null) p.line(1, `mcast_src_ip ${i.mcastSrcIp}`);
  if (i.mcastDstIp !== null) p.line(1, `mcast_dst_ip ${i.mcastDstIp}`);
  p.block(
    1,
    'unicast_peer',
    i.unicastPeers.map((p) => (p.minTtl !== 0 || p.maxTtl !== 255 ? `${p.address} min_ttl ${p.minTtl} max_ttl ${p.maxTtl}` : p.address)),
  );
  if (i.unicastPeers.length) p.line(1, `unicast_ttl ${i.unicastTtl}`);
  if (i.unicastFaultNoPeer) p.line(1, 'unicast_fault_no_peer');
  if (i.checkUnicastSrc) p.line(1, 'check_unicast_src');
  if (i.oldUnicastChecksum !== null) p.line(1, i.oldUnicastChecksum === 'never' ? 'old_unicast_checksum never' : 'old_unicast_checksum');
  if (i.dontTrackPrimary) p.line(1, 'dont_track_primary');
  if (i.useVmac) p.line(1, i.vmacIfname === null ? 'use_vmac' : `use_vmac ${i.vmacIfname}`);
  if (i.vmacXmitBase) p.line(1, 'vmac_xmit_base');
  if (i.useVmacAddr) p.line(1, 'use_vmac_addr');
  if (i.trackSrcIp) p.line(1, 'track_src_ip');
  p.block(1, 'virtual_ipaddress', i.virtualIpaddress.map(formatAddressLine));
  p.block(1, 'virtual_ipaddress_excluded', i.virtualIpaddressExcluded.map(formatAddressLine));
  p.block(
    1,
    'virtual_routes',
    i.virtualRoutes.map((r) => r.words.join(' ')),
  );
  p.block(1, 'virtual_rules', i.virtualRules.map(ruleLine));
  p.block(1, 'track_interface', i.trackInterfaces.map(track));
  p.block(1, 'track_script', i.trackScripts.map(track));
  p.block(1, 'track_file', i.trackFiles.map(track));
  p.block(1, 'track_process', i.trackProcesses.map(trackedProcess));
  p.line(1, `garp_master_delay ${secs(i.garpMasterDelayMs)}`);
  p.line(1, `garp_master_repeat ${i.garpMasterRepeat}`);
  p.line(1, `garp_master_refresh ${secs(i.garpMasterRefreshMs)}`);
  p.line(1, `garp_master_refresh_repeat ${i.garpMasterRefreshRepeat}`);
  p.line(1, `garp_lower_prio_delay ${secs(i.garpLowerPrioDelayMs)}`);
  p.line(1, `garp_lower_prio_repeat ${i.garpLowerPrioRepeat}`);
  p.line(1, `down_timer_adverts ${i.downTimerAdverts}`);
  p.line(1, `lower_prio_no_advert ${i.lowerPrioNoAdvert}`);
  p.line(1, `higher_prio_send_advert ${i.higherPrioSendAdvert}`);
  if (i.skipCheckAdvAddr) p.line(1, 'skip_check_adv_addr');
  p.line(1, `strict_mode ${i.strictMode}`);
  p.line(1, i.accept ? 'accept' : 'no_accept');
  if (i.promoteSecondaries) p.line(1, 'promote_secondaries');
  const names: Record<string, string> = {
    master: 'notify_master',
    backup: 'notify_backup',
    fault: 'notify_fault',
    stop: 'notify_stop',
    deleted: 'notify_deleted',
    masterRxLowerPri: 'notify_master_rx_lower_pri',
    generic: 'notify',
  };
  for (const [k, v] of Object.entries(i.notify)) if (v) p.line(1, v.argv.length ? `${names[k]} ${cmd(v)}` : `${names[k]}`);
  p.line(1, `notify_priority_changes ${i.notifyPriorityChanges}`);
  p.line(1, `smtp_alert ${i.smtpAlert}`);
  for (const x of i.unsupported) p.line(1, x);
  p.line(0, '}');
}

function printSyncGroup(p: Printer, sg: DeepReadonly<SyncGroup>): void {
  p.line(0, `vrrp_sync_group ${sg.name} {`);
  p.block(1, 'group', sg.members);
  p.block(1, 'track_interface', sg.trackInterfaces.map(track));
  p.block(1, 'track_script', sg.trackScripts.map(track));
  p.block(1, 'track_file', sg.trackFiles.map(track));
  p.block(1, 'track_process', sg.trackProcesses.map(trackedProcess));
  const names: Record<string, string> = {
    master: 'notify_master',
    backup: 'notify_backup',
    fault: 'notify_fault',
    stop: 'notify_stop',
    generic: 'notify',
  };
  for (const [k, v] of Object.entries(sg.notify)) if (v) p.line(1, `${names[k]} ${cmd(v)}`);
  if (sg.syncGroupTrackingWeight) p.line(1, 'sync_group_tracking_weight');
  p.line(1, `notify_priority_changes ${sg.notifyPriorityChanges}`);
  p.line(1, `smtp_alert ${sg.smtpAlert}`);
  p.line(0, '}');
}

/** Does an address that fixes the family (VIP, peer, source or destination) say IPv6? */
function hasIpv6Address(i: DeepReadonly<VrrpInstance>): boolean {
  const v6 = (a: string | null): boolean => a !== null && a.includes(':');
  return (
    i.virtualIpaddress.length > 0 || i.unicastPeers.some((x) => v6(x.address)) || v6(i.unicastSrcIp) || v6(i.mcastSrcIp) || v6(i.mcastDstIp)
  );
}
