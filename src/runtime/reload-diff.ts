/**
 * Reload matching (docs/keepalived-behaviour.md 6, step 3; keepalived `vrrp_exist()`): old and new instances are
 * the same virtual router when VRID, family, configured interface, unicast-or-multicast and the
 * unicast source / multicast group agree -- not by name, so a renamed instance keeps its state and
 * a changed VRID or interface is a delete plus a create. And what a kept MASTER's address
 * entries need (docs/keepalived-behaviour.md 6 step 5), as actions for its interpreter. Pure.
 */
import { addressEntryKey, type AddressKindEntry } from './entries.js';
import type { RuntimeAction } from './instance-actions.js';
import type { SendGarpAction } from '../protocol/garp-schedule.js';
import { routeKey, ruleKey, type InstanceSpec } from './params.js';

export interface ReloadPlan<A, B> {
  /** Same virtual router: keep the state, apply the new settings. */
  readonly kept: readonly (readonly [A, B])[];
  /** Gone from the new config: stop like SIGTERM. */
  readonly removed: readonly A[];
  /** New in the config: start like at startup. */
  readonly added: readonly B[];
}

export function planReload<A extends { readonly matchKey: string }, B extends { readonly matchKey: string }>(
  oldOnes: readonly A[],
  newOnes: readonly B[],
): ReloadPlan<A, B> {
  const kept: (readonly [A, B])[] = [];
  const added: B[] = [];
  const left = new Map<string, A>();
  for (const a of oldOnes) left.set(a.matchKey, a);
  for (const b of newOnes) {
    const a = left.get(b.matchKey);
    if (a === undefined) added.push(b);
    else {
      kept.push([a, b]);
      left.delete(b.matchKey);
    }
  }
  return { kept, removed: [...left.values()], added };
}

/** Items of `before` missing from `after`, and the other way round (address lists on reload). */
export function listDiff<T>(before: readonly T[], after: readonly T[], key: (x: T) => string): { gone: T[]; added: T[] } {
  const bk = new Set(before.map(key));
  const ak = new Set(after.map(key));
  return { gone: before.filter((x) => !ak.has(key(x))), added: after.filter((x) => !bk.has(key(x))) };
}

/** What a reload's diff is made of. */
export type ReloadAction = Extract<RuntimeAction, { type: 'reload-remove' | 'reload-add' }> | SendGarpAction;

/**
 * A kept MASTER's host changes on reload (docs/keepalived-behaviour.md 6 step 5), in keepalived's order: rules,
 * routes, VIPs and eVIPs that left the config are removed ("ip address ..., no longer exist");
 * new VIPs, eVIPs, routes and rules are added; then, when an address was added, one
 * garp_master_repeat burst announces all the instance's VIPs and eVIPs (keepalived 2.2.7 sends it
 * for every address, not only the new ones: watched in a namespace, 2026-12-03). `ifname` is the instance's interface now; a VIP without `dev` that left the
 * config is removed from the interface the old config named. Nothing for an unchanged list.
 */
export function reloadAddressActions(old: InstanceSpec, next: InstanceSpec, ifname: string | null): ReloadAction[] {
  const v = listDiff(old.vipEntries, next.vipEntries, addressEntryKey);
  const ev = listDiff(old.evipEntries, next.evipEntries, addressEntryKey);
  const rt = listDiff(old.routes, next.routes, routeKey);
  const ru = listDiff(old.rules, next.rules, ruleKey);
  const out: ReloadAction[] = [];
  const remove = (item: AddressKindEntry, defaultIf: string | null): void => void out.push({ type: 'reload-remove', item, defaultIf });
  const add = (item: AddressKindEntry): void => void out.push({ type: 'reload-add', item, defaultIf: ifname });
  for (const entry of ru.gone) remove({ kind: 'rules', entry }, ifname);
  for (const entry of rt.gone) remove({ kind: 'routes', entry }, ifname);
  for (const entry of v.gone) remove({ kind: 'vips', entry }, old.interface ?? ifname);
  for (const entry of ev.gone) remove({ kind: 'evips', entry }, old.interface ?? ifname);
  for (const entry of v.added) add({ kind: 'vips', entry });
  for (const entry of ev.added) add({ kind: 'evips', entry });
  for (const entry of rt.added) add({ kind: 'routes', entry });
  for (const entry of ru.added) add({ kind: 'rules', entry });
  // keepalived announces every address of the instance, not only the new ones, once any was added.
  const all = [...next.vipEntries, ...next.evipEntries].map((e) => e.address);
  const g = next.params.garp;
  if (v.added.length + ev.added.length > 0)
    out.push({ type: 'send-garp', burst: 'master', rounds: Math.max(1, g.masterRepeat), addresses: all, intervalMs: g.intervalMs });
  return out;
}
