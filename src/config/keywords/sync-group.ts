/**
 * The `vrrp_sync_group` block (docs/keepalived-behaviour.md 2.5): its root keyword and its sub-keywords (members,
 * group tracking, notify scripts). Pure.
 */
import type { KeywordCtx, Keyword } from '../dispatch.js';
import type { SyncGroup } from '../model.js';
import { readBool } from '../values.js';
import type { ParseState } from './parse-state.js';
import { readTrackProcessRefs } from './track-process.js';
import { blockName, loc, readScriptCommand, trackedInterface, trackWeight } from './shared.js';

/** The root keyword `vrrp_sync_group NAME { ... }`. */
export function syncGroupBlock(st: ParseState): Keyword {
  const cfg = st.config;
  let group: SyncGroup | undefined;
  return {
    name: 'vrrp_sync_group',
    handler: (ctx) => {
      group = undefined;
      const n = blockName(
        ctx,
        'vrrp_sync_group must have a name',
        (x) => cfg.syncGroups.some((g) => g.name === x),
        (x) => `vrrp sync group ${x} already defined`,
      );
      if (n === undefined) return;
      group = {
        name: n,
        members: [],
        trackInterfaces: [],
        trackScripts: [],
        trackFiles: [],
        trackProcesses: [],
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
  };
}

/** The `vrrp_sync_group` sub-keywords. */
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
        if (w) g.trackScripts.push({ name, ...w });
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
        if (w) g.trackFiles.push({ name, ...w });
      }
    }),
    on('track_process', (g, ctx) => readTrackProcessRefs(st, ctx, g.name, g.trackProcesses)),
    on('track_bfd', (_g, ctx) => void ctx.readValueBlock()),
    notify('notify_master', 'master'),
    notify('notify_backup', 'backup'),
    notify('notify_fault', 'fault'),
    notify('notify_stop', 'stop'),
    notify('notify', 'generic'),
    on('smtp_alert', (g, ctx) => {
      const v = readBool(ctx);
      if (v !== undefined) {
        g.smtpAlert = v;
        st.groupSmtpAlertSet.add(g);
      }
    }),
    on('global_tracking', (g, ctx) => {
      ctx.diags.error(
        ctx.stmt,
        `(${g.name}) global_tracking is deprecated. Use track_interface/script/file on the sync group`,
        'global_tracking',
      );
      g.syncGroupTrackingWeight = true;
    }),
    on('sync_group_tracking_weight', (g) => void (g.syncGroupTrackingWeight = true)),
    on('notify_priority_changes', (g, ctx) => {
      const v = readBool(ctx);
      if (v !== undefined) g.notifyPriorityChanges = v;
    }),
  ];
}
