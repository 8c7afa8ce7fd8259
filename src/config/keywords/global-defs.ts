/**
 * The `global_defs` block (docs/keepalived-behaviour.md 2.1): keepalived's global settings that a VRRP-only daemon
 * uses, the ones it reads and keeps as ignored (LVS, checker, BFD, SNMP...), and `umask`. Each
 * function below returns one part of the table. Pure.
 */
import type { KeywordCtx, Keyword } from '../dispatch.js';
import type { Config, GlobalDefs } from '../model.js';
import { isIpv4Multicast } from '../../protocol/ipv4-address.js';
import { ipFamily, isIpv6LinkLocalMulticast, isIpv6Multicast, readBool, readInt, readSeconds, readUnsigned } from '../values.js';
import { NOT_RUN } from '../support.js';
import type { ParseState } from './parse-state.js';
import { loc, readFifo, readScriptCommand } from './shared.js';

/** The handler makers shared by the parts of the table; explicit keywords are recorded in `globalSet`. */
function globalKit(st: ParseState) {
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
  const count =
    (field: 'vrrpGarpMasterRepeat' | 'vrrpGarpMasterRefreshRepeat' | 'vrrpGarpLowerPrioRepeat', zeroToOne: boolean) =>
    (ctx: KeywordCtx) => {
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
  const flag =
    (
      field:
        | 'vrrpCheckUnicastSrc'
        | 'vrrpSkipCheckAdvAddr'
        | 'vrrpStrict'
        | 'enableScriptSecurity'
        | 'logUnknownVrids'
        | 'fifoWriteVrrpStatesOnReload',
    ) =>
    (ctx: KeywordCtx) => {
      g[field] = true;
      mark(ctx);
    };
  const bool =
    (
      field:
        'vrrpLowerPrioNoAdvert' | 'vrrpHigherPrioSendAdvert' | 'vrrpNotifyPriorityChanges' | 'vrrpMinGarp' | 'smtpAlert' | 'smtpAlertVrrp',
    ) =>
    (ctx: KeywordCtx) => {
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
  return { st, g, secs, count, flag, bool, interval, ignore };
}

type GlobalKit = ReturnType<typeof globalKit>;

/** The `global_defs` sub-keywords. */
export function globalKeywords(st: ParseState): Keyword[] {
  const k = globalKit(st);
  const read = [...identityKeywords(k), ...vrrpDefaultKeywords(k), ...garpKeywords(k), ...notifyKeywords(k), ...scriptKeywords(k)];
  const named = new Set(read.map((x) => x.name));
  // Every other global_defs keyword of src/config/support.ts (other keepalived processes', tuning,
  // SNMP...) is read and kept as written in `ignored`: that table is the list, and says what each is.
  return [...read, ...NOT_RUN.filter((r) => r.block === 'global_defs' && !named.has(r.keyword)).map((r) => k.ignore(r.keyword))];
}

/** router_id and the e-mail settings. */
function identityKeywords({ g, bool }: GlobalKit): Keyword[] {
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
    // keepalived 2.2.7: smtp_helo_name without a value is ignored; no_email_faults takes none
    { name: 'smtp_helo_name', handler: (ctx) => void (ctx.words.length >= 2 ? (g.smtpHeloName = ctx.words[1]!) : undefined) },
    { name: 'no_email_faults', handler: () => void (g.noEmailFaults = true) },
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
  ];
}

/** Defaults and switches for every vrrp_instance. */
function vrrpDefaultKeywords({ g, flag, bool }: GlobalKit): Keyword[] {
  return [
    { name: 'vrrp_mcast_group4', handler: (ctx) => mcastGroup(ctx, g, 4) },
    { name: 'vrrp_mcast_group6', handler: (ctx) => mcastGroup(ctx, g, 6) },
    { name: 'default_interface', handler: (ctx) => void (g.defaultInterface = ctx.word(1)) },
    {
      name: 'vrrp_version',
      handler: (ctx) => {
        const v = readInt(ctx, ctx.word(1), 2, 3);
        if (v === 2 || v === 3) g.vrrpVersion = v;
        else ctx.diags.error(ctx.stmt, 'VRRP Error: Version must be either 2 or 3', ctx.words[0]);
      },
    },
    { name: 'vrrp_check_unicast_src', handler: flag('vrrpCheckUnicastSrc') },
    { name: 'vrrp_skip_check_adv_addr', handler: flag('vrrpSkipCheckAdvAddr') },
    { name: 'vrrp_strict', handler: flag('vrrpStrict') },
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
      name: 'vrrp_startup_delay',
      handler: (ctx) => {
        const v = readSeconds(ctx, ctx.word(1), 0.001, 4294.967295);
        if (v !== undefined) g.vrrpStartupDelayMs = v;
      },
    },
    { name: 'log_unknown_vrids', handler: flag('logUnknownVrids') },
    { name: 'dynamic_interfaces', handler: () => void (g.dynamicInterfaces = true) },
  ];
}

/** Gratuitous ARP / NA defaults (docs/keepalived-behaviour.md 3.7). */
function garpKeywords({ g, secs, count, interval, bool }: GlobalKit): Keyword[] {
  return [
    { name: 'vrrp_garp_master_delay', handler: secs('vrrpGarpMasterDelayMs') },
    { name: 'vrrp_garp_master_repeat', handler: count('vrrpGarpMasterRepeat', true) },
    { name: 'vrrp_garp_master_refresh', handler: secs('vrrpGarpMasterRefreshMs') },
    { name: 'vrrp_garp_master_refresh_repeat', handler: count('vrrpGarpMasterRefreshRepeat', true) },
    { name: 'vrrp_garp_lower_prio_delay', handler: secs('vrrpGarpLowerPrioDelayMs') },
    { name: 'vrrp_garp_lower_prio_repeat', handler: count('vrrpGarpLowerPrioRepeat', false) },
    { name: 'vrrp_garp_interval', handler: interval('vrrpGarpIntervalMs') },
    { name: 'vrrp_gna_interval', handler: interval('vrrpGnaIntervalMs') },
    {
      name: 'vrrp_min_garp',
      handler: (ctx) => {
        bool('vrrpMinGarp')(ctx);
        if (ctx.words.length < 2 || g.vrrpMinGarp) minGarp(g);
      },
    },
  ];
}

/**
 * `vrrp_min_garp` (keepalived 2.2.7 global_parser.c, read where it stands): one gratuitous ARP/NA
 * at take-over and no refresh, by moving each of these defaults that still holds its default value
 * (a value set before it to anything else is kept; one set after it wins).
 */
function minGarp(g: Config['global']): void {
  if (g.vrrpGarpMasterRepeat === 5) g.vrrpGarpMasterRepeat = 1;
  if (g.vrrpGarpMasterRefreshRepeat === 1) g.vrrpGarpMasterRefreshRepeat = 0;
  if (g.vrrpGarpMasterDelayMs === 5000) g.vrrpGarpMasterDelayMs = 0;
}

/** Notify FIFOs and their scripts. */
function notifyKeywords({ st, g, bool, flag }: GlobalKit): Keyword[] {
  return [
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
  ];
}

/** Who scripts run as, with which mask, and the start-up/shutdown scripts. */
function scriptKeywords({ st, g, flag }: GlobalKit): Keyword[] {
  return [
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
  ];
}

// ------------------------------------------------------------------------------------------ umask

/** strtol(s, &end, 0) with `*end` required to be '\0': 0x hex, leading-0 octal, else decimal. */
function strtolBase0(s: string): number | undefined {
  const m = /^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(s);
  if (!m) return undefined;
  if (/^0[xX]/.test(s)) return parseInt(s.slice(2), 16);
  if (s.startsWith('0')) return s.length === 1 ? 0 : parseInt(s.slice(1), 8);
  return parseInt(s, 10);
}

const UMASK_BITS: Record<string, number> = {
  IRUSR: 0o400,
  IWUSR: 0o200,
  IXUSR: 0o100,
  IRGRP: 0o040,
  IWGRP: 0o020,
  IXGRP: 0o010,
  IROTH: 0o004,
  IWOTH: 0o002,
  IXOTH: 0o001,
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

/**
 * `vrrp_mcast_group4` / `vrrp_mcast_group6`: the default multicast group of IPv4 / IPv6 instances.
 * A group that is not an address of the family, or not multicast, is skipped; an IPv6 group beyond
 * the link is taken with a warning (the adverts never leave the link).
 */
function mcastGroup(ctx: KeywordCtx, g: GlobalDefs, fam: 4 | 6): void {
  const kw = ctx.words[0];
  const v = ctx.word(1);
  const got = ipFamily(v);
  if (!got) ctx.diags.error(ctx.stmt, `Can't parse ${kw} [${v}]. Skipping`, kw);
  else if (got !== fam) ctx.diags.error(ctx.stmt, `${kw} [${v}] is not IPv${fam}. Skipping`, kw);
  else if (fam === 4 ? !isIpv4Multicast(v) : !isIpv6Multicast(v)) ctx.diags.error(ctx.stmt, `${kw} [${v}] is not multicast. Skipping`, kw);
  else {
    if (fam === 6 && !isIpv6LinkLocalMulticast(v)) ctx.diags.error(ctx.stmt, `${kw} [${v}] should be link-local multicast.`, kw);
    if (fam === 4) g.vrrpMcastGroup4 = v;
    else g.vrrpMcastGroup6 = v;
  }
}
