/**
 * The `vrrp_instance` block (docs/keepalived-behaviour.md 2.2): its root keyword (name, defaults, the checks made
 * when it closes) and its sub-keywords, one function per area (identity and auth, timers and
 * preemption, addresses, unicast, tracking, notify, unsupported). Pure.
 */
import type { KeywordCtx, Keyword } from '../dispatch.js';
import { defaultInstance, type NotifyKind, type VrrpInstance } from '../model.js';
import { parseAddressLine, parseRouteLine, parseRuleLine } from '../address-lines.js';
import { isIpv4Multicast } from '../../protocol/ipv4-address.js';
import { ipFamily, isIpv6LinkLocalMulticast, readBool, readInt, readSeconds, readUnsigned } from '../values.js';
import type { InstanceExtras, ParseState } from './parse-state.js';
import { readTrackProcessRefs } from './track-process.js';
import { vmacKeywords, vmacUnicastAtEnd } from './vmac.js';
import { notRunKeywords } from './not-run.js';
import {
  assignPreference,
  blockName,
  interfaceExistsFn,
  interfaceFacts,
  loc,
  readScriptCommand,
  trackedInterface,
  trackWeight,
} from './shared.js';

/** The root keyword `vrrp_instance NAME { ... }`. */
export function instanceBlock(st: ParseState): Keyword {
  const cfg = st.config;
  const diags = st.diags;
  let instance: VrrpInstance | undefined;
  return {
    name: 'vrrp_instance',
    handler: (ctx) => {
      instance = undefined;
      const n = blockName(
        ctx,
        'vrrp_instance must have a name',
        (x) => cfg.instances.some((i) => i.name === x),
        (x) => `vrrp instance ${x} already defined`,
      );
      if (n === undefined) return;
      const i = defaultInstance(n, cfg.global, loc(ctx));
      st.instanceExtras.set(i, {
        set: new Set(),
        unicastKeyword: false,
        missingInterface: false,
        rejectedInterface: false,
        family: null,
        version: null,
        advertIntRawMs: null,
        open: loc(ctx),
      });
      cfg.instances.push(i);
      instance = i;
    },
    sub: instanceKeywords(st, () => instance),
    close: (at) => {
      const i = instance;
      instance = undefined;
      if (!i) return;
      vmacUnicastAtEnd(i, st.instanceExtras.get(i)!, (msg, kw) => diags.error(at, msg, kw));
      if (i.unicastPeers.length === 0 && st.instanceExtras.get(i)!.set.has('unicast_ttl')) {
        diags.error(at, `(${i.name}): Cannot use unicast_ttl without unicast peers - resetting`, 'unicast_ttl');
        i.unicastTtl = 255;
      }
    },
  };
}

/** The handler makers every area uses. */
function instanceKit(st: ParseState, cur: () => VrrpInstance | undefined) {
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
  const boolKw = (
    name: string,
    field: 'lowerPrioNoAdvert' | 'higherPrioSendAdvert' | 'notifyPriorityChanges' | 'smtpAlert' | 'strictMode',
  ) =>
    on(name, (i, ctx) => {
      const v = readBool(ctx);
      if (v !== undefined) i[field] = v;
    });
  return { st, ex, on, boolKw };
}

type InstanceKit = ReturnType<typeof instanceKit>;

/** The `vrrp_instance` sub-keywords. */
function instanceKeywords(st: ParseState, cur: () => VrrpInstance | undefined): Keyword[] {
  const k = instanceKit(st, cur);
  return [
    ...identityKeywords(k),
    ...versionKeywords(k),
    ...timerKeywords(k),
    ...addressKeywords(k),
    ...sourceKeywords(k),
    ...unicastKeywords(k),
    ...trackingKeywords(k),
    ...notifyKeywords(k),
    ...vmacKeywords(k.on),
    ...notRunKeywords(k.on),
  ];
}

/** State, interface, VRID, priority and authentication. */
function identityKeywords({ st, ex, on }: InstanceKit): Keyword[] {
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
      if (v === undefined)
        ctx.diags.error(ctx.stmt, `(${i.name}): VRID '${ctx.words[1]}' not valid - must be between 1 & 255`, 'virtual_router_id');
      else i.virtualRouterId = v;
    }),
    on('priority', (i, ctx) => {
      const v = readUnsigned(ctx, ctx.word(1), 1, 255);
      if (v === undefined) {
        ctx.diags.error(ctx.stmt, `(${i.name}) Priority not valid! must be between 1 & 255. Using default 100`, 'priority');
        i.priority = 100;
      } else i.priority = v;
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
  ];
}

/** The VRRP version, and `native_ipv6` (IPv6, so version 3). */
function versionKeywords({ ex, on }: InstanceKit): Keyword[] {
  return [
    on('version', (i, ctx) => {
      const v = readInt(ctx, ctx.word(1), 2, 3);
      if (v !== 2 && v !== 3) {
        ctx.diags.error(ctx.stmt, `(${i.name}): Version must be either 2 or 3`, 'version');
        return;
      }
      // a second, different version, or version 2 once an IPv6 address fixed the family, is refused;
      // keepalived names the version set so far (0 when only the family was deduced)
      const x = ex(i);
      if ((x.version !== null && x.version !== v) || (v === 2 && x.family === 6)) {
        ctx.diags.error(
          ctx.stmt,
          `(${i.name}) vrrp_version ${v} conflicts with configured or deduced version ${x.version ?? 0}; ignoring.`,
          'version',
        );
        return;
      }
      x.version = v;
      i.version = v;
    }),
    // IPv6 (and so VRRPv3) before any address says so; refused once an IPv4 address fixed the family
    on('native_ipv6', (i, ctx) => {
      const x = ex(i);
      if (x.family === 4) {
        ctx.diags.error(ctx.stmt, `(${i.name}) Cannot specify native_ipv6 with IPv4 addresses`, 'native_ipv6');
        return;
      }
      x.family = 6;
      i.family = 6;
      x.version = 3;
      i.version = 3;
    }),
  ];
}

/** The advert's source and destination addresses (each also fixes the family when first). */
function sourceKeywords({ ex, on }: InstanceKit): Keyword[] {
  return [
    on('unicast_src_ip', (i, ctx) => {
      // the unicast flag is set even when the address is refused (keepalived does it first)
      ex(i).unicastKeyword = true;
      sourceAddress(i, ctx, 'unicastSrcIp', ex(i));
    }),
    on('mcast_src_ip', (i, ctx) => sourceAddress(i, ctx, 'mcastSrcIp', ex(i))),
    on('mcast_dst_ip', (i, ctx) => {
      const v = ctx.word(1);
      const fam = ipFamily(v);
      if (!fam) {
        ctx.diags.error(ctx.stmt, `(${i.name}) malformed mcast dest address ${v}. Skipping...`, 'mcast_dst_ip');
        return;
      }
      i.mcastDstIp = null;
      if (!familyMatches(i, ex(i), fam)) {
        ctx.diags.error(ctx.stmt, `(${i.name}) mcast dest address ${v} MUST match VRRP instance family. Skipping...`, 'mcast_dst_ip');
        return;
      }
      // an IPv6 group must be link-local (ffX2::), as the adverts never leave the link
      if (fam === 4 ? !isIpv4Multicast(v) : !isIpv6LinkLocalMulticast(v)) {
        ctx.diags.error(
          ctx.stmt,
          `(${i.name}) mcast_dst_ip ${v} not${fam === 6 ? ' link-local' : ''} multicast. Skipping...`,
          'mcast_dst_ip',
        );
        return;
      }
      i.mcastDstIp = v;
    }),
  ];
}

/** Advert interval, preemption, the down timer, GARP timing, lower/higher priority adverts. */
function timerKeywords({ ex, on, boolKw }: InstanceKit): Keyword[] {
  // keepalived 2.2.7 (vrrp_parser.c): the delays are whole seconds up to UINT_MAX / TIMER_HZ
  // (4294), the refresh up to UINT_MAX, which resets it to 0 when invalid; the messages differ too
  const garpSecs = (name: string, field: 'garpMasterDelayMs' | 'garpMasterRefreshMs' | 'garpLowerPrioDelayMs') =>
    on(name, (i, ctx) => {
      const refresh = field === 'garpMasterRefreshMs';
      const v = readUnsigned(ctx, ctx.word(1), 0, refresh ? 4294967295 : Math.floor(4294967295 / 1_000_000));
      if (v !== undefined) i[field] = v * 1000;
      else if (!refresh) ctx.diags.error(ctx.stmt, `(${i.name}): ${name} '${ctx.words[1]}' invalid - ignoring`, name);
      else {
        ctx.diags.error(ctx.stmt, `(${i.name}): Invalid ${name} '${ctx.words[1]}' - ignoring`, name);
        i[field] = 0;
      }
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
  return [
    on('advert_int', (i, ctx) => {
      const v = readSeconds(ctx, ctx.word(1), 0.01, 255, true);
      if (v === undefined)
        ctx.diags.error(ctx.stmt, `(${i.name}) Advert interval (${ctx.words[1]}) not valid! Must be > 0 - ignoring`, 'advert_int');
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
    on('down_timer_adverts', (i, ctx) => {
      const v = readUnsigned(ctx, ctx.word(1), 1, 100);
      if (v === undefined)
        ctx.diags.error(ctx.stmt, `(${i.name}) down_timer_adverts must be between 1 and 100 - ignoring`, 'down_timer_adverts');
      else i.downTimerAdverts = v;
    }),
    garpSecs('garp_master_delay', 'garpMasterDelayMs'),
    garpCount('garp_master_repeat', 'garpMasterRepeat', true),
    garpSecs('garp_master_refresh', 'garpMasterRefreshMs'),
    garpCount('garp_master_refresh_repeat', 'garpMasterRefreshRepeat', true),
    garpSecs('garp_lower_prio_delay', 'garpLowerPrioDelayMs'),
    garpCount('garp_lower_prio_repeat', 'garpLowerPrioRepeat', false),
    boolKw('lower_prio_no_advert', 'lowerPrioNoAdvert'),
    boolKw('higher_prio_send_advert', 'higherPrioSendAdvert'),
  ];
}

/** VIPs, eVIPs, virtual routes and rules, and how the addresses are used. */
function addressKeywords({ st, ex, on }: InstanceKit): Keyword[] {
  const addresses = (name: string, field: 'virtualIpaddress' | 'virtualIpaddressExcluded') =>
    on(name, (i, ctx) => {
      for (const l of ctx.readValueBlock()) {
        const e = parseAddressLine(l.words, l.stmt, ctx.diags, { interfaceExists: interfaceExistsFn(st) });
        if (!e) continue;
        // VIPs (not eVIPs) must be of the instance's family, set by the first address seen
        if (field === 'virtualIpaddress' && !familyMatches(i, ex(i), e.family)) {
          ctx.diags.error(l.stmt, `(${i.name}): address family must match VRRP instance [${l.words[0]}] - ignoring`, name);
          continue;
        }
        i[field].push(e);
      }
    });
  return [
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
    on('accept', (i) => void (i.accept = true)),
    on('no_accept', (i) => void (i.accept = false)),
    on('promote_secondaries', (i) => void (i.promoteSecondaries = true)),
  ];
}

/** Unicast peers, and the receive checks they bring. */
function unicastKeywords({ ex, on, boolKw }: InstanceKit): Keyword[] {
  return [
    on('unicast_peer', (i, ctx) => {
      ex(i).unicastKeyword = true;
      for (const l of ctx.readValueBlock()) {
        const addr = l.words[0]!;
        const fam = ipFamily(addr);
        if (!fam) {
          ctx.diags.error(
            l.stmt,
            `Configuration error: VRRP instance[${i.name}] malformed unicast peer address[${addr}]. Skipping...`,
            'unicast_peer',
          );
          continue;
        }
        if (!familyMatches(i, ex(i), fam)) {
          ctx.diags.error(
            l.stmt,
            `Configuration error: VRRP instance[${i.name}] and unicast peer address[${addr}] MUST be of the same family !!! Skipping...`,
            'unicast_peer',
          );
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
    on('check_unicast_src', (i) => {
      i.checkUnicastSrc = true;
      ex(i).unicastKeyword = true;
    }),
    on('old_unicast_checksum', (i, ctx) => {
      ex(i).unicastKeyword = true;
      const mode = ctx.words[1];
      if (mode === undefined) i.oldUnicastChecksum = 'old';
      else if (mode === 'never') i.oldUnicastChecksum = 'never';
      else ctx.diags.error(ctx.stmt, `(${i.name}) Unknown old_unicast_chksum mode ${mode} - ignoring`, 'old_unicast_checksum');
    }),
    // docs/keepalived-behaviour.md 2.2: in 2.2.7 any value, even `off`, sets it
    on('skip_check_adv_addr', (i) => void (i.skipCheckAdvAddr = true)),
    boolKw('strict_mode', 'strictMode'),
  ];
}

/** Tracked interfaces, scripts and files. */
function trackingKeywords({ st, on }: InstanceKit): Keyword[] {
  return [
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
    on('track_process', (i, ctx) => readTrackProcessRefs(st, ctx, i.name, i.trackProcesses)),
  ];
}

/** Notify scripts and alerts. */
function notifyKeywords({ st, on, boolKw }: InstanceKit): Keyword[] {
  const notify = (name: string, kind: NotifyKind): Keyword =>
    on(name, (i, ctx) => {
      if (i.notify[kind]) {
        ctx.diags.error(
          ctx.stmt,
          `(${i.name}) ${name} script already specified - ignoring ${ctx.stmt.text.slice(name.length).trim()}`,
          name,
        );
        return;
      }
      const cmd = readScriptCommand(ctx);
      if (cmd && st.identities.acceptNotify(cmd, 'notify', loc(ctx))) i.notify[kind] = cmd;
    });
  return [
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
  ];
}

/**
 * The first VIP, unicast peer, source or destination address (or `native_ipv6`) fixes the
 * instance's family; later ones must match (keepalived checks at parse time). False: refused.
 */
function familyMatches(i: VrrpInstance, x: InstanceExtras, fam: 4 | 6): boolean {
  if (x.family === null) {
    x.family = fam;
    i.family = fam;
    return true;
  }
  return x.family === fam;
}

/**
 * `unicast_src_ip` / `mcast_src_ip`: keepalived keeps one source address for both, so an address
 * of the wrong family clears whichever was set before.
 */
function sourceAddress(i: VrrpInstance, ctx: KeywordCtx, field: 'unicastSrcIp' | 'mcastSrcIp', x: InstanceExtras): void {
  const v = ctx.word(1);
  const fam = ipFamily(v);
  if (!fam) {
    ctx.diags.error(ctx.stmt, `Configuration error: VRRP instance[${i.name}] malformed src address[${v}]. Skipping...`, ctx.words[0]);
    return;
  }
  if (!familyMatches(i, x, fam)) {
    ctx.diags.error(
      ctx.stmt,
      `Configuration error: VRRP instance[${i.name}] and src address[${v}] MUST be of the same family !!! Skipping...`,
      ctx.words[0],
    );
    i.unicastSrcIp = null;
    i.mcastSrcIp = null;
    return;
  }
  i[field] = v;
}
