/**
 * The VMACs of their own that keepalived 2.2.7 gives VIPs/eVIPs (`use_vmac_addr`, or `use_vmac` on
 * a VIP line; the config's completion marks them `ownVmac`): one macvlan per interface the instance
 * has such addresses on, mode private, MAC 00:00:5e:00:01:<VRID>, made at start with the
 * instance's own VMAC (same sysctls) and removed with it (docs/vmac.md "use_vmac_addr").
 *
 * Names, as keepalived was watched to give them: `vrrp.<VRID>` if no instance's VMAC has that name,
 * else `vrrp1.<VRID>`, `vrrp2.<VRID>`... (the instance's own `vrrp.51` on eth0 and a VIP on eth1:
 * `vrrp1.51@eth1`). keepalived also skips a name an interface of the host has; vrrpd names them
 * from the configuration alone (a macvlan of that name is made again, anything else conflicts:
 * vmac.ts). Pure.
 */
import type { AddressEntry, DeepReadonly, FrozenConfig, VrrpInstance } from '../config/model.js';

type R<T> = DeepReadonly<T>;

/** One VMAC of an instance: its name, its parent and its MAC. */
export interface VmacLink {
  readonly ifname: string;
  readonly parent: string;
  readonly mac: string;
}

/** An instance's address VMACs, and the interface each of its entries goes on. */
export interface AddressVmacPlan {
  readonly links: readonly VmacLink[];
  /** A config entry given a VMAC of its own -> that VMAC's name. */
  readonly devOf: ReadonlyMap<R<AddressEntry>, string>;
}

/**
 * Every VMAC of an instance, in keepalived's order: its own (`use_vmac`, on `interface`), then
 * those of its VIPs/eVIPs.
 */
export function vmacLinks(spec: {
  readonly interface: string | null;
  readonly vmac: { readonly ifname: string; readonly mac: string } | null;
  readonly addrVmacs: readonly VmacLink[];
}): VmacLink[] {
  const own =
    spec.vmac !== null && spec.interface !== null ? [{ ifname: spec.vmac.ifname, parent: spec.interface, mac: spec.vmac.mac }] : [];
  return [...own, ...spec.addrVmacs];
}

const NONE: AddressVmacPlan = { links: [], devOf: new Map() };

const plans = new WeakMap<FrozenConfig, Map<R<VrrpInstance>, AddressVmacPlan>>();

/** The MAC of VRID `vrid`'s VMACs for `family` (RFC 3768 7.3, RFC 5798 7.3). */
export function vmacMac(vrid: number, family: 4 | 6): string {
  return `00:00:5e:00:0${family === 6 ? 2 : 1}:${vrid.toString(16).padStart(2, '0')}`;
}

/** The instance's own VMAC name (`use_vmac [IFNAME]`), or null without one. */
export function instanceVmacName(inst: R<VrrpInstance>): string | null {
  return inst.useVmac ? (inst.vmacIfname ?? `vrrp.${inst.virtualRouterId}`) : null;
}

/** The plan of `inst` (computed once per config: the names depend on every instance). */
export function addressVmacPlan(cfg: FrozenConfig, inst: R<VrrpInstance>): AddressVmacPlan {
  let all = plans.get(cfg);
  if (all === undefined) {
    all = planAll(cfg.instances);
    plans.set(cfg, all);
  }
  return all.get(inst) ?? NONE;
}

function planAll(instances: readonly R<VrrpInstance>[]): Map<R<VrrpInstance>, AddressVmacPlan> {
  const used = new Set(instances.map(instanceVmacName).filter((n): n is string => n !== null));
  const out = new Map<R<VrrpInstance>, AddressVmacPlan>();
  for (const inst of instances) {
    const entries = [...inst.virtualIpaddress, ...inst.virtualIpaddressExcluded].filter((a) => a.ownVmac === true && a.family === 4);
    if (entries.length === 0) continue;
    const links: VmacLink[] = [];
    const devOf = new Map<R<AddressEntry>, string>();
    for (const e of entries) {
      const parent = e.dev ?? inst.interface;
      if (parent === null) continue; // refused (config/runtime-support.ts)
      let link = links.find((l) => l.parent === parent);
      if (link === undefined) {
        link = { ifname: freeName(used, inst.virtualRouterId), parent, mac: vmacMac(inst.virtualRouterId, 4) };
        used.add(link.ifname);
        links.push(link);
      }
      devOf.set(e, link.ifname);
    }
    out.set(inst, { links, devOf });
  }
  return out;
}

function freeName(used: ReadonlySet<string>, vrid: number): string {
  let name = `vrrp.${vrid}`;
  for (let n = 1; used.has(name); n++) name = `vrrp${n}.${vrid}`;
  return name;
}
