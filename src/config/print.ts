/**
 * The model printed back as canonical keepalived.conf text (for `vrrpd check --print` and
 * round-trip tests: the printed text loads to the same model).
 */
import { formatAddressLine } from './address-lines.js';
import type { DeepReadonly, Config, ScriptCommand, TrackedFile, TrackedInterface, TrackedScript } from './model.js';

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

export function printKeepalived(c: DeepReadonly<Config>): string {
  const out: string[] = [];
  const g = c.global;
  const line = (depth: number, s: string) => out.push(`${'    '.repeat(depth)}${s}`);
  line(0, 'global_defs {');
  if (g.routerId !== null) line(1, `router_id ${q(g.routerId)}`);
  if (g.notificationEmail.length) {
    line(1, 'notification_email {');
    for (const e of g.notificationEmail) line(2, q(e));
    line(1, '}');
  }
  if (g.notificationEmailFrom !== null) line(1, `notification_email_from ${q(g.notificationEmailFrom)}`);
  if (g.smtpServer !== null) line(1, `smtp_server ${g.smtpServer}`);
  line(1, `smtp_connect_timeout ${secs(g.smtpConnectTimeoutMs)}`);
  line(1, `vrrp_mcast_group4 ${g.vrrpMcastGroup4}`);
  line(1, `default_interface ${g.defaultInterface}`);
  line(1, `vrrp_garp_master_delay ${secs(g.vrrpGarpMasterDelayMs)}`);
  line(1, `vrrp_garp_master_repeat ${g.vrrpGarpMasterRepeat}`);
  line(1, `vrrp_garp_master_refresh ${secs(g.vrrpGarpMasterRefreshMs)}`);
  line(1, `vrrp_garp_master_refresh_repeat ${g.vrrpGarpMasterRefreshRepeat}`);
  line(1, `vrrp_garp_lower_prio_delay ${secs(g.vrrpGarpLowerPrioDelayMs)}`);
  line(1, `vrrp_garp_lower_prio_repeat ${g.vrrpGarpLowerPrioRepeat}`);
  if (g.vrrpGarpIntervalMs > 0) line(1, `vrrp_garp_interval ${secs(g.vrrpGarpIntervalMs)}`);
  if (g.vrrpGnaIntervalMs > 0) line(1, `vrrp_gna_interval ${secs(g.vrrpGnaIntervalMs)}`);
  line(1, `vrrp_min_garp ${g.vrrpMinGarp}`);
  line(1, `vrrp_down_timer_adverts ${g.vrrpDownTimerAdverts}`);
  line(1, `vrrp_lower_prio_no_advert ${g.vrrpLowerPrioNoAdvert}`);
  line(1, `vrrp_higher_prio_send_advert ${g.vrrpHigherPrioSendAdvert}`);
  line(1, `vrrp_version ${g.vrrpVersion}`);
  if (g.vrrpCheckUnicastSrc) line(1, 'vrrp_check_unicast_src');
  if (g.vrrpSkipCheckAdvAddr) line(1, 'vrrp_skip_check_adv_addr');
  if (g.vrrpStrict) line(1, 'vrrp_strict');
  if (g.vrrpNotifyFifo) line(1, `vrrp_notify_fifo ${[g.vrrpNotifyFifo.path, g.vrrpNotifyFifo.user, g.vrrpNotifyFifo.group].filter((x) => x !== null).join(' ')}`);
  if (g.vrrpNotifyFifoScript) line(1, `vrrp_notify_fifo_script ${cmd(g.vrrpNotifyFifoScript)}`);
  if (g.notifyFifo) line(1, `notify_fifo ${[g.notifyFifo.path, g.notifyFifo.user, g.notifyFifo.group].filter((x) => x !== null).join(' ')}`);
  if (g.notifyFifoScript) line(1, `notify_fifo_script ${cmd(g.notifyFifoScript)}`);
  line(1, `vrrp_notify_priority_changes ${g.vrrpNotifyPriorityChanges}`);
  if (g.fifoWriteVrrpStatesOnReload) line(1, 'fifo_write_vrrp_states_on_reload');
  if (g.scriptUser !== null) line(1, `script_user ${g.scriptUser}${g.scriptGroup !== null ? ` ${g.scriptGroup}` : ''}`);
  if (g.enableScriptSecurity) line(1, 'enable_script_security');
  if (g.umask !== 0o177) line(1, `umask 0${g.umask.toString(8)}`);
  if (g.dynamicInterfaces) line(1, 'dynamic_interfaces');
  if (g.vrrpStartupDelayMs > 0) line(1, `vrrp_startup_delay ${secs(g.vrrpStartupDelayMs)}`);
  if (g.logUnknownVrids) line(1, 'log_unknown_vrids');
  if (g.startupScript) line(1, `startup_script ${cmd(g.startupScript)}`);
  if (g.shutdownScript) line(1, `shutdown_script ${cmd(g.shutdownScript)}`);
  if (g.reloadCheckConfig) line(1, 'reload_check_config');
  line(1, `smtp_alert ${g.smtpAlert}`);
  line(1, `smtp_alert_vrrp ${g.smtpAlertVrrp}`);
  for (const x of g.ignored) line(1, x);
  line(0, '}');

  for (const t of c.trackFiles) {
    line(0, `track_file ${t.name} {`);
    line(1, `file ${q(t.file)}`);
    line(1, `weight ${t.weight}${t.reverse ? ' reverse' : ''}`);
    if (t.initValue !== null) line(1, `init_file ${t.initValue}${t.initOverwrite ? ' overwrite' : ''}`);
    line(0, '}');
  }
  for (const s of c.scripts) {
    line(0, `vrrp_script ${s.name} {`);
    line(1, `script ${cmd({ argv: s.script.argv, user: null, group: null })}`);
    if (s.script.user !== null) line(1, `user ${s.script.user}${s.script.group !== null ? ` ${s.script.group}` : ''}`);
    line(1, `interval ${secs(s.intervalMs)}`);
    if (s.timeoutMs > 0) line(1, `timeout ${secs(s.timeoutMs)}`);
    line(1, `weight ${s.weight}${s.reverse ? ' reverse' : ''}`);
    line(1, `rise ${s.rise}`);
    line(1, `fall ${s.fall}`);
    if (s.initFail) line(1, 'init_fail');
    line(0, '}');
  }
  const block = (depth: number, name: string, rows: readonly string[]) => {
    if (!rows.length) return;
    line(depth, `${name} {`);
    for (const r of rows) line(depth + 1, r);
    line(depth, '}');
  };
  block(0, 'static_ipaddress', c.staticIpaddress.map(formatAddressLine));
  block(0, 'static_routes', c.staticRoutes.map((r) => r.words.join(' ')));
  block(0, 'static_rules', c.staticRules.map((r) => [...r.words, ...(r.words.includes('preference') ? [] : ['preference', String(r.preference)])].join(' ')));

  for (const i of c.instances) {
    line(0, `vrrp_instance ${i.name} {`);
    if (i.stateConfigured) line(1, `state ${i.state}`);
    if (i.interface !== null) line(1, `interface ${i.interface}`);
    line(1, `virtual_router_id ${i.virtualRouterId}`);
    line(1, `priority ${i.priority}`);
    line(1, `advert_int ${secs(i.advertIntMs)}`);
    line(1, `version ${i.version}`);
    if (i.nopreempt) line(1, 'nopreempt');
    if (i.preemptDelayMs > 0) line(1, `preempt_delay ${secs(i.preemptDelayMs)}`);
    // a password is kept even when the type was refused (`auth_type pass`): print it so it reads back
    if (i.authPass !== null) {
      line(1, 'authentication {');
      if (i.authType !== 'NONE') line(2, `auth_type ${i.authType}`);
      line(2, `auth_pass ${q(i.authPass)}`);
      line(1, '}');
    }
    if (i.unicastSrcIp !== null) line(1, `unicast_src_ip ${i.unicastSrcIp}`);
    if (i.mcastSrcIp !== null) line(1, `mcast_src_ip ${i.mcastSrcIp}`);
    if (i.mcastDstIp !== null) line(1, `mcast_dst_ip ${i.mcastDstIp}`);
    block(1, 'unicast_peer', i.unicastPeers.map((p) => (p.minTtl !== 0 || p.maxTtl !== 255 ? `${p.address} min_ttl ${p.minTtl} max_ttl ${p.maxTtl}` : p.address)));
    if (i.unicastPeers.length) line(1, `unicast_ttl ${i.unicastTtl}`);
    if (i.unicastFaultNoPeer) line(1, 'unicast_fault_no_peer');
    if (i.checkUnicastSrc) line(1, 'check_unicast_src');
    if (i.dontTrackPrimary) line(1, 'dont_track_primary');
    if (i.trackSrcIp) line(1, 'track_src_ip');
    block(1, 'virtual_ipaddress', i.virtualIpaddress.map(formatAddressLine));
    block(1, 'virtual_ipaddress_excluded', i.virtualIpaddressExcluded.map(formatAddressLine));
    block(1, 'virtual_routes', i.virtualRoutes.map((r) => r.words.join(' ')));
    block(1, 'virtual_rules', i.virtualRules.map((r) => [...r.words, ...(r.words.includes('preference') ? [] : ['preference', String(r.preference)])].join(' ')));
    block(1, 'track_interface', i.trackInterfaces.map(track));
    block(1, 'track_script', i.trackScripts.map(track));
    block(1, 'track_file', i.trackFiles.map(track));
    line(1, `garp_master_delay ${secs(i.garpMasterDelayMs)}`);
    line(1, `garp_master_repeat ${i.garpMasterRepeat}`);
    line(1, `garp_master_refresh ${secs(i.garpMasterRefreshMs)}`);
    line(1, `garp_master_refresh_repeat ${i.garpMasterRefreshRepeat}`);
    line(1, `garp_lower_prio_delay ${secs(i.garpLowerPrioDelayMs)}`);
    line(1, `garp_lower_prio_repeat ${i.garpLowerPrioRepeat}`);
    line(1, `down_timer_adverts ${i.downTimerAdverts}`);
    line(1, `lower_prio_no_advert ${i.lowerPrioNoAdvert}`);
    line(1, `higher_prio_send_advert ${i.higherPrioSendAdvert}`);
    if (i.skipCheckAdvAddr) line(1, 'skip_check_adv_addr');
    line(1, `strict_mode ${i.strictMode}`);
    line(1, i.accept ? 'accept' : 'no_accept');
    if (i.promoteSecondaries) line(1, 'promote_secondaries');
    const names: Record<string, string> = { master: 'notify_master', backup: 'notify_backup', fault: 'notify_fault', stop: 'notify_stop', deleted: 'notify_deleted', masterRxLowerPri: 'notify_master_rx_lower_pri', generic: 'notify' };
    for (const [k, v] of Object.entries(i.notify)) if (v) line(1, v.argv.length ? `${names[k]} ${cmd(v)}` : `${names[k]}`);
    line(1, `notify_priority_changes ${i.notifyPriorityChanges}`);
    line(1, `smtp_alert ${i.smtpAlert}`);
    for (const x of i.unsupported) line(1, x);
    line(0, '}');
  }
  for (const sg of c.syncGroups) {
    line(0, `vrrp_sync_group ${sg.name} {`);
    block(1, 'group', sg.members);
    block(1, 'track_interface', sg.trackInterfaces.map(track));
    block(1, 'track_script', sg.trackScripts.map(track));
    block(1, 'track_file', sg.trackFiles.map(track));
    const names: Record<string, string> = { master: 'notify_master', backup: 'notify_backup', fault: 'notify_fault', stop: 'notify_stop', generic: 'notify' };
    for (const [k, v] of Object.entries(sg.notify)) if (v) line(1, `${names[k]} ${cmd(v)}`);
    if (sg.syncGroupTrackingWeight) line(1, 'sync_group_tracking_weight');
    line(1, `notify_priority_changes ${sg.notifyPriorityChanges}`);
    line(1, `smtp_alert ${sg.smtpAlert}`);
    line(0, '}');
  }
  return `${out.join('\n')}\n`;
}
