/**
 * Reload matching (KEEPALIVED.md 6, step 3; keepalived `vrrp_exist()`): old and new instances are
 * the same virtual router when VRID, family, configured interface, unicast-or-multicast and the
 * unicast source / multicast group agree -- not by name, so a renamed instance keeps its state and
 * a changed VRID or interface is a delete plus a create. Pure.
 */
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
