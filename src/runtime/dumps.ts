/**
 * keepalived's state dumps (docs/keepalived-behaviour.md 4.4), so monitoring built for keepalived keeps working:
 *
 *  - SIGUSR1    -> `$TMPDIR/keepalived.data`  (text: `State = MASTER`, `Priority = 100`, ...)
 *  - SIGUSR2    -> `$TMPDIR/keepalived.stats` (text counters, exactly keepalived 2.2.7's layout)
 *  - SIGRTMIN+2 -> `$TMPDIR/keepalived.json`  (`[{"data":{...},"stats":{...}}]`, `/` escaped)
 *
 * `$TMPDIR` defaults to /tmp as in keepalived. The data dump carries the sections and per-instance
 * lines exporters and scripts read (state, wantstate, priorities, master router, VIPs, scripts),
 * not keepalived's internals (fds, timers, sockpool); the password is never written (keepalived
 * prints it). Files are replaced atomically (mode 0600, as keepalived's umask gives), so a reader
 * polling the file never sees it half-written, through the safe writer (src/util/safe-file.ts):
 * /tmp is world-writable, so a random `O_EXCL|O_NOFOLLOW` temp file and a rename over the name
 * mean a link another user planted at `keepalived.data` (or anywhere else) is replaced, never
 * followed (keepalived's CVE-2018-19044 class).
 *
 * Signals only enqueue work (DESIGN.md style 8; cli/dump-signals.ts listens for them): the text is
 * built from one consistent snapshot on the daemon's queue; the write happens off the queue, so a
 * slow disk never delays adverts. The writer and the user lookup are ports (runtime/ports/files.ts).
 */
import { join } from 'node:path';
import type { DeepReadonly, FrozenConfig, ScriptCommand, AddressEntry, TrackedProcess, VrrpInstance } from '../config/model.js';
import type { Log } from '../log.js';
import type { DaemonStatus } from './daemon-status.js';
import { addressVmacPlan } from './addr-vmac.js';
import { vmacSpec } from './params.js';
import type { FileWriter, IdResolver } from './ports/index.js';

type R<T> = DeepReadonly<T>;
type InstStatus = DaemonStatus['instances'][number];

/** keepalived's numeric states (vrrp.h): JSON `state` / `wantstate`. */
export const STATE_NUMBER: Readonly<Record<string, number>> = { INIT: 0, BACKUP: 1, MASTER: 2, FAULT: 3, DELETED: 97, STOP: 98 };

/** SIGRTMIN+2 with glibc (SIGRTMIN = 34: NPTL keeps 32 and 33); keepalived --signum=JSON says 36. */
export const SIGJSON = 36;

export interface KeepalivedStats {
  advert_rcvd: number;
  advert_sent: number;
  become_master: number;
  release_master: number;
  packet_len_err: number;
  advert_interval_err: number;
  ip_ttl_err: number;
  invalid_type_rcvd: number;
  addr_list_err: number;
  invalid_authtype: number;
  authtype_mismatch: number;
  auth_failure: number;
  pri_zero_rcvd: number;
  pri_zero_sent: number;
}

/** vrrpd's counters and drop reasons in keepalived's stats names. */
export function keepalivedStats(s: Pick<InstStatus, 'counters' | 'drops'>): KeepalivedStats {
  const c = (k: string): number => s.counters[k] ?? 0;
  const d = (...ks: string[]): number => ks.reduce((n, k) => n + (s.drops[k] ?? 0), 0);
  return {
    // keepalived counts an advert as received before its VIP list / unicast peer checks.
    advert_rcvd: c('advertRcvd') + d('vip-missing', 'not-a-peer', 'ttl-range'),
    advert_sent: c('advertSent'),
    become_master: c('becomeMaster'),
    release_master: c('releaseMaster'),
    packet_len_err: d('too-short', 'too-long', 'ip-length', 'truncated'),
    advert_interval_err: d('interval-mismatch'),
    ip_ttl_err: d('ttl'),
    invalid_type_rcvd: d('type'),
    addr_list_err: d('vip-count', 'vip-missing'),
    invalid_authtype: d('auth-type-invalid'),
    authtype_mismatch: d('auth-type-mismatch'),
    auth_failure: d('auth-password'),
    pri_zero_rcvd: c('priZeroRcvd'),
    pri_zero_sent: c('priZeroSent'),
  };
}

/** `/tmp/keepalived.stats`, keepalived 2.2.7's layout. */
export function formatStats(st: DaemonStatus): string {
  const out: string[] = [];
  for (const s of st.instances) {
    const k = keepalivedStats(s);
    out.push(
      `VRRP Instance: ${s.name}`,
      '  Advertisements:',
      `    Received: ${k.advert_rcvd}`,
      `    Sent: ${k.advert_sent}`,
      `  Became master: ${k.become_master}`,
      `  Released master: ${k.release_master}`,
      '  Packet Errors:',
      `    Length: ${k.packet_len_err}`,
      `    TTL: ${k.ip_ttl_err}`,
      `    Invalid Type: ${k.invalid_type_rcvd}`,
      `    Advertisement Interval: ${k.advert_interval_err}`,
      `    Address List: ${k.addr_list_err}`,
      '  Authentication Errors:',
      `    Invalid Type: ${k.invalid_authtype}`,
      `    Type Mismatch: ${k.authtype_mismatch}`,
      `    Failure: ${k.auth_failure}`,
      '  Priority Zero:',
      `    Received: ${k.pri_zero_rcvd}`,
      `    Sent: ${k.pri_zero_sent}`,
    );
  }
  return out.length > 0 ? `${out.join('\n')}\n` : '';
}

/** keepalived's quoted command: `'/x.sh' 'arg 1'`. */
export function quotedCommand(c: R<ScriptCommand>): string {
  return c.argv.map((a) => `'${a}'`).join(' ');
}

/**
 * keepalived's VIP line: `10.0.0.100/24 dev eth0 scope global label eth0:1 set`; an address on a
 * VMAC of its own (`ownDev`, `vrrp.51@eth1`) says ` use_vmac` after it when its line has that flag.
 */
export function vipLine(e: R<AddressEntry>, ifname: string | null, set: boolean, ownDev?: string): string {
  const scope =
    ({ 0: 'global', 200: 'site', 253: 'link', 254: 'host', 255: 'nowhere' } as Record<number, string>)[e.scope] ?? String(e.scope);
  const l = [e.prefixLength === (e.family === 4 ? 32 : 128) ? e.address : `${e.address}/${e.prefixLength}`];
  if (e.broadcast !== null) l.push('brd', e.broadcast);
  l.push('dev', ownDev ?? e.dev ?? ifname ?? '?');
  if (e.flags.includes('use_vmac')) l.push('use_vmac');
  l.push('scope', scope);
  if (e.label !== null) l.push('label', e.label);
  if (e.peer !== null) l.push('peer', e.peer);
  if (set) l.push('set');
  return l.join(' ');
}

/** `Tue Nov 24 02:25:04.988147 2026`-style time and seconds, keepalived's `Last transition` form. */
function timeText(ms: number): string {
  const d = new Date(ms);
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number): string => String(n).padStart(2, '0');
  const us = String(Math.round((ms % 1000) * 1000)).padStart(6, '0');
  return `${(ms / 1000).toFixed(6)} (${days[d.getDay()]} ${months[d.getMonth()]} ${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${us} ${d.getFullYear()})`;
}

const SCRIPT_LABEL: ReadonlyArray<[string, string]> = [
  ['backup', 'Backup'],
  ['master', 'Master'],
  ['fault', 'Fault'],
  ['stop', 'Stop'],
  ['deleted', 'Deleted'],
  ['generic', 'Generic'],
  ['masterRxLowerPri', 'Master rx lower pri'],
];

const yes = (b: boolean): string => (b ? 'true' : 'false');

/** `'/x.sh' 'a', uid:gid 0:0` (the user the hook runs as). */
function scriptWithIds(c: R<ScriptCommand>, cfg: FrozenConfig | undefined, idsOf: IdResolver): string {
  const ids = idsOf(c.user ?? cfg?.global.scriptUser ?? null, c.group ?? cfg?.global.scriptGroup ?? null);
  return `${quotedCommand(c)}, uid:gid ${ids.uid}:${ids.gid}`;
}

/**
 * keepalived 2.2.7's VMAC lines and the interface line after them (vrrp_data.c dump_vrrp(), as the
 * running keepalived prints them):
 *   `Use VMAC, i/f name vrrp.51, is_up = true, xmit_base = false`
 *   `Use VMAC for VIPs on other interfaces` (use_vmac_addr, with or without use_vmac)
 *   `Interface = vrrp.51, vmac on eth0[, xmit base i/f]` (else `Interface = eth0`).
 */
function vmacLines(s: InstStatus, useVmacAddr: boolean): string[] {
  const v = s.vmac ?? null;
  const o: string[] = [];
  if (v !== null) o.push(`   Use VMAC, i/f name ${v.ifname}, is_up = ${yes(v.up)}, xmit_base = ${yes(v.xmitBase)}`);
  if (useVmacAddr) o.push('   Use VMAC for VIPs on other interfaces');
  if (v === null) o.push(`   Interface = ${s.interface ?? '(none)'}`);
  else o.push(`   Interface = ${v.ifname}, vmac on ${v.parent ?? '(unknown)'}${v.xmitBase ? ', xmit base i/f' : ''}`);
  return o;
}

/** The `dev` of a VIP line without one: the instance's interface, keepalived's `vrrp.51@eth0` for its VMAC. */
function vipIfname(s: InstStatus): string | null {
  const v = s.vmac ?? null;
  return v === null || v.parent === null ? s.interface : `${v.ifname}@${v.parent}`;
}

/**
 * The VIP lines of `entries` (data and JSON dumps): those given a VMAC of their own (`use_vmac_addr`,
 * `use_vmac` on the line: addr-vmac.ts) on `vrrp.51@eth1`, as keepalived 2.2.7 writes them.
 */
function vipLines(entries: readonly R<AddressEntry>[], s: InstStatus, c: R<VrrpInstance>, cfg: FrozenConfig): string[] {
  const ifname = vipIfname(s);
  const own = addressVmacPlan(cfg, c).devOf;
  return entries.map((e) => {
    const vmac = own.get(e);
    return vipLine(e, ifname, s.state === 'MASTER', vmac === undefined ? undefined : `${vmac}@${e.dev ?? c.interface ?? '?'}`);
  });
}

/** One instance's lines of the data dump (`VRRP Instance = ...` and what follows). */
function instanceData(s: InstStatus, cfg: FrozenConfig | undefined, ids: IdResolver): string[] {
  const c: R<VrrpInstance> | undefined = cfg?.instances.find((i) => i.name === s.name);
  const g = cfg?.global;
  const o: string[] = [];
  o.push(` VRRP Instance = ${s.name}`, `   VRRP Version = ${s.version}`);
  if (s.syncGroup !== null) o.push(`   Sync group = ${s.syncGroup}`);
  if (s.family === 6) o.push('   Using Native IPv6');
  o.push(`   State = ${s.state}`);
  const masterAdverMs = s.learnedAdvertIntMs ?? s.advertIntMs;
  if (s.state === 'BACKUP' && s.master !== null) {
    o.push(`   Master router = ${s.master.ip}`, `   Master priority = ${s.master.priority}`);
    if (s.version === 3) o.push(`   Master advert int = ${(masterAdverMs / 1000).toFixed(2)} sec`);
  }
  o.push(`   Wantstate = ${s.wantState ?? s.state}`);
  o.push(`   Number of interface and track script faults = ${s.faults.length}`);
  if (s.lastTransitionMs !== null) o.push(`   Last transition = ${timeText(s.lastTransitionMs)}`);
  o.push(...vmacLines(s, c?.useVmacAddr === true));
  if (s.srcIp !== null) o.push(`   Using src_ip = ${s.srcIp}`);
  if (c && !s.unicast) o.push(`   Multicast address ${c.mcastDstIp ?? g?.vrrpMcastGroup4 ?? '224.0.0.18'}`);
  if (c) {
    if (c.unicastPeers.length > 0) o.push('   Unicast Peer :', ...c.unicastPeers.map((p) => `     ${p.address}`));
    o.push(
      `   Gratuitous ARP delay = ${Math.round(c.garpMasterDelayMs / 1000)}`,
      `   Gratuitous ARP repeat = ${c.garpMasterRepeat}`,
      `   Gratuitous ARP refresh = ${Math.round(c.garpMasterRefreshMs / 1000)}`,
      `   Gratuitous ARP refresh repeat = ${c.garpMasterRefreshRepeat}`,
    );
  }
  o.push(
    `   Virtual Router ID = ${s.vrid}`,
    `   Priority = ${s.basePriority}`,
    `   Effective priority = ${s.effectivePriority}`,
    `   Total priority = ${s.effectivePriority}`,
  );
  if (c) {
    // keepalived: whole seconds under v2, ms under v3 (vrrp_data.c dump_vrrp()).
    o.push(`   Advert interval = ${s.version === 2 ? `${Math.floor(s.advertIntMs / 1000)} sec` : `${s.advertIntMs} milli-sec`}`);
    if (s.state === 'BACKUP' && s.version === 3) o.push(`   Master advert interval = ${masterAdverMs} milli-sec`);
    o.push(`   Accept = ${c.accept ? 'enabled' : 'disabled'}`, `   Preempt = ${c.nopreempt ? 'disabled' : 'enabled'}`);
    if (c.preemptDelayMs > 0) o.push(`   Preempt delay = ${c.preemptDelayMs / 1000} secs`);
    o.push(`   Authentication type = ${c.authType === 'PASS' ? 'SIMPLE_PASSWORD' : c.authType === 'AH' ? 'IPSEC_AH' : 'none'}`);
    if (c.virtualIpaddress.length > 0)
      o.push(`   Virtual IP (${c.virtualIpaddress.length}):`, ...vipLines(c.virtualIpaddress, s, c, cfg!).map((l) => `     ${l}`));
    if (c.virtualIpaddressExcluded.length > 0)
      o.push(
        `   Virtual IP Excluded (${c.virtualIpaddressExcluded.length}):`,
        ...vipLines(c.virtualIpaddressExcluded, s, c, cfg!).map((l) => `     ${l}`),
      );
    if (c.trackScripts.length > 0)
      o.push(
        '   Tracked scripts :',
        ...c.trackScripts.map((t) => `     ${t.name} weight ${t.weight ?? cfg?.scripts.find((x) => x.name === t.name)?.weight ?? 0}`),
      );
    if (c.trackFiles.length > 0)
      o.push(
        '   Tracked files :',
        ...c.trackFiles.map((t) => `     ${t.name}, weight ${t.weight ?? cfg?.trackFiles.find((x) => x.name === t.name)?.weight ?? 0}`),
      );
    if (c.trackProcesses.length > 0) o.push('   Tracked processes :', ...c.trackProcesses.map((t) => `     ${trackedProcessLine(t, cfg)}`));
    o.push(`   Notify deleted = ${c.notify.deleted ? 'Deleted' : 'Fault'}`);
    for (const [k, label] of SCRIPT_LABEL) {
      const cmd = c.notify[k as keyof typeof c.notify];
      if (cmd && cmd.argv.length > 0) o.push(`   ${label} state transition script = ${scriptWithIds(cmd, cfg, ids)}`);
    }
    o.push(`   Notify priority changes = ${yes(c.notifyPriorityChanges)}`);
  }
  return o;
}

/**
 * `/tmp/keepalived.data`: the sections and lines monitoring reads (see the file comment); `ids`
 * gives the `uid:gid` each hook runs as.
 */
export function formatData(st: DaemonStatus, cfg: FrozenConfig | undefined, ids: IdResolver): string {
  const g = cfg?.global;
  const o: string[] = ['------< Global definitions >------'];
  if (g) {
    o.push(` Router ID = ${g.routerId ?? ''}`);
    if (g.notifyFifo) o.push(` Global notify fifo = ${g.notifyFifo.path}`);
    if (g.notifyFifoScript) o.push(` Global notify fifo script = ${quotedCommand(g.notifyFifoScript)}`);
    if (g.vrrpNotifyFifo) o.push(` VRRP notify fifo = ${g.vrrpNotifyFifo.path}`);
    if (g.vrrpNotifyFifoScript) o.push(` VRRP notify fifo script = ${quotedCommand(g.vrrpNotifyFifoScript)}`);
    o.push(
      ` FIFO write vrrp states on reload = ${yes(g.fifoWriteVrrpStatesOnReload)}`,
      ` VRRP notify priority changes = ${yes(g.vrrpNotifyPriorityChanges)}`,
      ` VRRP IPv4 mcast group = ${g.vrrpMcastGroup4}`,
      ` Gratuitous ARP delay = ${Math.round(g.vrrpGarpMasterDelayMs / 1000)}`,
      ` Gratuitous ARP repeat = ${g.vrrpGarpMasterRepeat}`,
      ` VRRP default protocol version = ${g.vrrpVersion}`,
      ` VRRP strict mode = ${yes(g.vrrpStrict)}`,
      ` Script security ${g.enableScriptSecurity ? 'enabled' : 'disabled'}`,
    );
  }
  o.push('------< VRRP Topology >------');
  for (const s of st.instances) o.push(...instanceData(s, cfg, ids));
  if (cfg && cfg.syncGroups.length > 0) {
    o.push('------< VRRP Sync groups >------');
    for (const sg of cfg.syncGroups) {
      const states = st.instances.filter((i) => sg.members.includes(i.name)).map((i) => i.state);
      const state = states.includes('FAULT') ? 'FAULT' : states.every((x) => x === 'MASTER') ? 'MASTER' : 'BACKUP';
      o.push(` VRRP Sync Group = ${sg.name}, ${state}`, '   VRRP member instances :', ...sg.members.map((m) => `     ${m}`));
      for (const [k, label] of SCRIPT_LABEL) {
        const cmd = sg.notify[k as keyof typeof sg.notify];
        if (cmd) o.push(`   ${label} state transition script = ${scriptWithIds(cmd, cfg, ids)}`);
      }
    }
  }
  if (cfg && cfg.scripts.length > 0) {
    o.push('------< VRRP Scripts >------');
    for (const sc of cfg.scripts) {
      o.push(
        ` VRRP Script = ${sc.name}`,
        `   Command = ${quotedCommand(sc.script)}`,
        `   Interval = ${Math.round(sc.intervalMs / 1000)} sec`,
        `   Weight = ${sc.weight}`,
        `   Rise = ${sc.rise}`,
        `   Fall = ${sc.fall}`,
      );
    }
  }
  return `${o.join('\n')}\n`;
}

/** keepalived's JSON escapes `/` (json-c); monitoring compares strings, so do the same. */
function jsonText(v: unknown): string {
  return JSON.stringify(v).replace(/\//g, '\\/');
}

/** `/tmp/keepalived.json`: one `{data, stats}` object per instance (keepalived 2.2.7's keys). */
export function formatJson(st: DaemonStatus, cfg: FrozenConfig | undefined): string {
  const arr = st.instances.map((s) => {
    const c = cfg?.instances.find((i) => i.name === s.name);
    const data: Record<string, unknown> = {
      iname: s.name,
      dont_track_primary: c?.dontTrackPrimary ? 1 : 0,
      skip_check_adv_addr: c?.skipCheckAdvAddr ? 1 : 0,
      strict_mode: c?.strictMode ? 1 : 0,
      vmac_ifname: c ? (vmacSpec(c)?.ifname ?? '') : '',
      ifp_ifname: s.interface ?? '',
      master_priority: s.state === 'BACKUP' && s.master !== null ? s.master.priority : 0,
      last_transition: s.lastTransitionMs !== null ? Number((s.lastTransitionMs / 1000).toFixed(6)) : 0,
      garp_delay: c ? Math.round(c.garpMasterDelayMs / 1000) : 0,
      garp_refresh: c ? Math.round(c.garpMasterRefreshMs / 1000) : 0,
      garp_rep: c?.garpMasterRepeat ?? 0,
      garp_refresh_rep: c?.garpMasterRefreshRepeat ?? 0,
      garp_lower_prio_delay: c ? Math.round(c.garpLowerPrioDelayMs / 1000) : 0,
      garp_lower_prio_rep: c?.garpLowerPrioRepeat ?? 0,
      lower_prio_no_advert: c?.lowerPrioNoAdvert ? 1 : 0,
      higher_prio_send_advert: c?.higherPrioSendAdvert ? 1 : 0,
      vrid: s.vrid,
      base_priority: s.basePriority,
      effective_priority: s.effectivePriority,
      vipset: s.state === 'MASTER',
      promote_secondaries: c?.promoteSecondaries ?? false,
      adver_int: s.advertIntMs / 1000,
      master_adver_int: (s.learnedAdvertIntMs ?? s.advertIntMs) / 1000,
      accept: c?.accept === false ? 0 : 1,
      nopreempt: c?.nopreempt ?? false,
      preempt_delay: c ? Math.round(c.preemptDelayMs / 1000) : 0,
      state: STATE_NUMBER[s.state] ?? 0,
      wantstate: STATE_NUMBER[s.wantState ?? s.state] ?? 0,
      version: s.version,
      smtp_alert: c?.smtpAlert ?? false,
      notify_deleted: c?.notify.deleted !== undefined,
    };
    if (c) {
      const keys: Array<[string, string]> = [
        ['backup', 'script_backup'],
        ['master', 'script_master'],
        ['fault', 'script_fault'],
        ['stop', 'script_stop'],
        ['deleted', 'script_deleted'],
        ['generic', 'script'],
        ['masterRxLowerPri', 'script_master_rx_lower_pri'],
      ];
      for (const [k, key] of keys) {
        const cmd = c.notify[k as keyof typeof c.notify];
        if (cmd && cmd.argv.length > 0) data[key] = quotedCommand(cmd);
      }
      if (c.virtualIpaddress.length > 0) data.vips = vipLines(c.virtualIpaddress, s, c, cfg!);
      if (c.virtualIpaddressExcluded.length > 0) data.evips = vipLines(c.virtualIpaddressExcluded, s, c, cfg!);
      const ts = c.trackScripts.map((t) => cfg?.scripts.find((x) => x.name === t.name)).filter((x) => x !== undefined);
      if (ts.length > 0) data.track_script = ts.map((x) => quotedCommand(x.script));
      data.auth_type = c.authType === 'PASS' ? 1 : c.authType === 'AH' ? 2 : 0;
    }
    return { data, stats: keepalivedStats(s) };
  });
  return `${jsonText(arr)}\n`;
}

export type DumpKind = 'data' | 'stats' | 'json';

export const DUMP_FILE: Readonly<Record<DumpKind, string>> = {
  data: 'keepalived.data',
  stats: 'keepalived.stats',
  json: 'keepalived.json',
};

/** Mode of the dump files (keepalived's 0666 & ~0177). */
export const DUMP_MODE = 0o600;

export interface DumpSource {
  /** A consistent snapshot (called on the daemon's queue). */
  status(): DaemonStatus;
  config(): FrozenConfig | undefined;
  /** Run `fn` on the daemon's serialized path. */
  submit(what: string, fn: () => void): void;
}

/** Where and how dumps are written (the composition root's real ones, or a test's). */
export interface DumpHost {
  readonly writer: FileWriter;
  readonly ids: IdResolver;
  /** The directory ($TMPDIR, default /tmp as in keepalived). */
  readonly dir: string;
}

/** Build a dump on the queue and write it (atomically, off the queue). Resolves with the path. */
export function writeDump(kind: DumpKind, src: DumpSource, host: DumpHost, log: Log): Promise<string> {
  const path = join(host.dir, DUMP_FILE[kind]);
  return new Promise((resolve, reject) => {
    src.submit(`dump ${kind}`, () => {
      const what = { data: 'data', stats: 'stats', json: 'as json' }[kind];
      const st = src.status();
      log.info({ dump: kind }, `Printing VRRP ${what} for process(${st.pid}) on signal`);
      // keepalived writes no JSON file without instances.
      if (kind === 'json' && st.instances.length === 0) {
        resolve(path);
        return;
      }
      const text =
        kind === 'data' ? formatData(st, src.config(), host.ids) : kind === 'stats' ? formatStats(st) : formatJson(st, src.config());
      void host.writer.replace(path, text, DUMP_MODE).then((r) => {
        if (r.ok) return resolve(path);
        log.warn({ dump: kind, code: r.code }, r.error);
        reject(new Error(r.error));
      });
    });
  });
}

/** keepalived's line for a tracked process: `NAME, weight W[ reverse]` (the block's values by default). */
function trackedProcessLine(t: DeepReadonly<TrackedProcess>, cfg: FrozenConfig | undefined): string {
  const def = cfg?.trackProcesses.find((x) => x.name === t.name);
  const reverse = t.reverse ?? def?.reverse ?? false;
  return `${t.name}, weight ${t.weight ?? def?.weight ?? 0}${reverse ? ' reverse' : ''}`;
}
