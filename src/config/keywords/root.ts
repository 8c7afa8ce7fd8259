/**
 * The root of keepalived.conf as vrrpd reads it (docs/keepalived-behaviour.md 2; static blocks 2.7): one keyword
 * per block (each block's own file builds it), the static_* blocks, the root keywords of other
 * subsystems (read and ignored, or skipped silently with their block), and the root as keepalived's
 * other parsing passes see it. Pure.
 */
import type { Keyword } from '../dispatch.js';
import type { AddressEntry, RouteEntry } from '../model.js';
import { parseAddressLine, parseRouteLine, parseRuleLine } from '../address-lines.js';
import { globalKeywords } from './global-defs.js';
import { instanceBlock } from './instance.js';
import type { ParseState } from './parse-state.js';
import { scriptBlock } from './script.js';
import { assignPreference, interfaceExistsFn } from './shared.js';
import { syncGroupBlock } from './sync-group.js';
import { trackFileBlock } from './track-file.js';
import { trackProcessBlock } from './track-process.js';

/** Root keywords of other subsystems whose blocks other keepalived processes parse: skipped silently. */
export const INACTIVE_ROOT = [
  'virtual_server',
  'virtual_server_group',
  'SSL',
  'bfd_instance',
  'garp_group',
  'track_group',
  'linkbeat_interfaces',
  'interface_up_down_delays',
];

/** Root keywords without a block that vrrpd reads and keeps in `global.ignored`. */
export const MISC_ROOT = [
  'net_namespace',
  'net_namespace_ipvs',
  'namespace_with_ipsets',
  'use_pid_dir',
  'instance',
  'child_wait_time',
  'linkbeat_use_polling',
];

/** The blocks this (VRRP) pass reads. */
const VRRP_BLOCKS = [
  'global_defs',
  'vrrp_instance',
  'vrrp_script',
  'vrrp_sync_group',
  'track_file',
  'vrrp_track_file',
  'vrrp_track_process',
  'static_ipaddress',
  'static_routes',
  'static_rules',
];

/** The root keywords as vrrpd's (keepalived's VRRP process's) pass reads them. */
export function rootKeywords(st: ParseState): Keyword[] {
  const cfg = st.config;
  return [
    { name: 'global_defs', sub: globalKeywords(st) },
    instanceBlock(st),
    scriptBlock(st),
    syncGroupBlock(st),
    trackFileBlock(st, 'track_file'),
    trackFileBlock(st, 'vrrp_track_file'),
    trackProcessBlock(st),
    ...staticKeywords(st),
    ...MISC_ROOT.map((name): Keyword => ({ name, handler: (ctx) => void cfg.global.ignored.push(ctx.words.join(' ')) })),
    ...INACTIVE_ROOT.map((name): Keyword => ({ name, inactive: true })),
  ];
}

/** static_ipaddress, static_routes and static_rules: address lines outside any instance. */
function staticKeywords(st: ParseState): Keyword[] {
  const cfg = st.config;
  return [
    {
      name: 'static_ipaddress',
      handler: (ctx) => {
        for (const l of ctx.readValueBlock()) {
          const e: AddressEntry | undefined = parseAddressLine(l.words, l.stmt, ctx.diags, {
            allowTrackGroup: true,
            interfaceExists: interfaceExistsFn(st),
          });
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
  ];
}

/**
 * The root keywords as keepalived's other parsing passes (parent, checker, bfd) see them: every
 * VRRP block is inactive there and skipped by brace counting, so stray braces and unknown root
 * keywords are reported from a different point of view (docs/keepalived-behaviour.md 1.7, config-cases README).
 */
export function otherPassRootKeywords(): Keyword[] {
  return [
    ...[...VRRP_BLOCKS, ...INACTIVE_ROOT].map((name): Keyword => ({ name, inactive: true })),
    ...MISC_ROOT.map((name): Keyword => ({ name })),
  ];
}
