/**
 * An instance's address-like config entries (VIPs, eVIPs, virtual_routes, virtual_rules) as the
 * action interpreter changes them on the host, and how actions name them. Pure.
 */
import type { AddressEntry, DeepReadonly, RouteEntry, RuleEntry } from '../config/model.js';
import type { AddressKind } from '../protocol/fsm-types.js';
import { assertNever } from '../util/assert-never.js';
import { routeKey, ruleKey, type InstanceSpec } from './params.js';

type R<T> = DeepReadonly<T>;

/** One entry with its kind: what a host address change adds or removes. */
export type AddressKindEntry =
  { kind: 'vips' | 'evips'; entry: R<AddressEntry> } | { kind: 'routes'; entry: R<RouteEntry> } | { kind: 'rules'; entry: R<RuleEntry> };

/** A VIP or eVIP entry. */
export type VipEntry = Extract<AddressKindEntry, { kind: 'vips' | 'evips' }>;

/** The VIP/eVIP entry of `spec` with this address (undefined: not one of its VIPs or eVIPs). */
export function addressItem(spec: InstanceSpec, address: string): VipEntry | undefined {
  const v = spec.vipEntries.find((e) => e.address === address);
  if (v) return { kind: 'vips', entry: v };
  const e = spec.evipEntries.find((x) => x.address === address);
  return e ? { kind: 'evips', entry: e } : undefined;
}

/** The entry a state-machine address action names by `text` (an address, or a route/rule key). */
export function entryByKey(spec: InstanceSpec, kind: AddressKind, text: string): AddressKindEntry | undefined {
  switch (kind) {
    case 'vips': {
      const entry = spec.vipEntries.find((e) => e.address === text);
      return entry && { kind, entry };
    }
    case 'evips': {
      const entry = spec.evipEntries.find((e) => e.address === text);
      return entry && { kind, entry };
    }
    case 'routes': {
      const entry = spec.routes.find((e) => routeKey(e) === text);
      return entry && { kind, entry };
    }
    case 'rules': {
      const entry = spec.rules.find((e) => ruleKey(e) === text);
      return entry && { kind, entry };
    }
    default:
      return assertNever(kind, 'address kind');
  }
}

/** A VIP/eVIP entry's identity across a reload: address, prefix, device and label. */
export function addressEntryKey(e: R<AddressEntry>): string {
  return `${e.address}/${e.prefixLength}/${e.dev ?? ''}/${e.label ?? ''}`;
}

/** How log lines and state-machine actions name an entry: its address, or the route/rule words. */
export function entryText(item: AddressKindEntry): string {
  switch (item.kind) {
    case 'vips':
    case 'evips':
      return item.entry.address;
    case 'routes':
      return routeKey(item.entry);
    case 'rules':
      return ruleKey(item.entry);
    default:
      return assertNever(item, 'address kind');
  }
}
