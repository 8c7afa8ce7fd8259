/**
 * VMACs (`use_vmac`, docs/vmac.md): the macvlan `vrrp.<VRID>` (or the configured name) on the
 * instance's interface with MAC 00:00:5e:00:01:<VRID>, and the sysctls keepalived 2.2.7 sets for it.
 * The instance's interpreter performs `vmac-create` / `vmac-delete` (instance-actions.ts) through
 * this module, which talks to the host only through the LinkCommands, HostNetlink and Sysctls ports.
 *
 * Sysctls, as keepalived (vrrp_if_config.c):
 *  - on the VMAC: arp_ignore=1, accept_local=1, rp_filter=0, promote_secondaries=1, and IPv6 off
 *    (net.ipv6.conf.VMAC.disable_ipv6=1);
 *  - on the parent, once however many VMACs it carries: arp_ignore=1, arp_filter=1; put back to the
 *    values found when its last VMAC goes (keepalived means to and does not: docs/vmac.md);
 *  - once, with the first VMAC, when net.ipv4.conf.all.rp_filter is N > 0: default and every
 *    interface below N raised to N, then all=0 (nothing changes behaviour, and the VMAC's 0 takes
 *    effect); each value put back at stop if it still holds what was set.
 */
import type { Log } from '../log.js';
import type { Instance } from './instance.js';
import { vmacLinks, type VmacLink } from './addr-vmac.js';
import type { HostNetlink, IoError, LinkCommands, LinkInfo, Sysctls } from './ports/index.js';

/** Make or remove an instance's VMACs (or only `links`) through its interpreter (nothing without any). */
export function vmacStep(inst: Instance, type: 'vmac-create' | 'vmac-delete', links?: readonly VmacLink[]): Promise<void> {
  if ((links ?? vmacLinks(inst.spec)).length === 0) return Promise.resolve();
  return inst.apply({ snapshot: inst.snapshot, actions: [links === undefined ? { type } : { type, links }] });
}

export interface VmacDeps {
  readonly links: LinkCommands | undefined;
  readonly sysctls: Sysctls | undefined;
  readonly netlink: Pick<HostNetlink, 'links'>;
  readonly log: Log;
}

/** The rp_filter values changed with the first VMAC, to put back at stop. */
interface RpFilterChange {
  readonly all: number;
  defaultWas: number | null;
  /** Interface name -> its value before. */
  readonly raised: Map<string, number>;
}

const conf = (ifname: string, key: string): string => `net/ipv4/conf/${ifname}/${key}`;

const VMAC_SYSCTLS: ReadonlyArray<[string, number]> = [
  ['arp_ignore', 1],
  ['accept_local', 1],
  ['rp_filter', 0],
  ['promote_secondaries', 1],
];

function ioText(e: IoError): string {
  return `${e.code ?? e.errno ?? '?'}: ${e.message}`;
}

export class Vmacs {
  readonly #d: VmacDeps;
  /** Parent name -> VMACs of ours on it and the arp_ignore/arp_filter found (null: left alone). */
  readonly #parents = new Map<string, { count: number; saved: [number, number] | null }>();
  /** VMAC name -> its parent, for the VMACs this daemon made (removed at stop). */
  readonly #ours = new Map<string, string>();
  /** Those of them set up and brought up: the only ones an instance uses. */
  readonly #ready = new Set<string>();
  /**
   * VMAC name -> its parent, for the VMACs of ours someone else deleted (`lost`), until made again:
   * the parent keeps its count and sysctls meanwhile.
   */
  readonly #lost = new Map<string, string>();
  /** VMAC name -> the ifindex of the link we made. */
  readonly #ifindex = new Map<string, number>();
  #rp: RpFilterChange | null = null;

  constructor(d: VmacDeps) {
    this.#d = d;
  }

  /** The ifindex of the VMAC `name` this daemon made and brought up (undefined: none). */
  madeIfindex(name: string): number | undefined {
    return this.#ready.has(name) ? this.#ifindex.get(name) : undefined;
  }

  /** Did this daemon make the VMAC `name` and bring it up (not yet removed)? */
  has(name: string): boolean {
    return this.#ready.has(name);
  }

  /**
   * The link `name` was deleted: if it was a VMAC of ours (not one this module removed), it is
   * forgotten as made, to be made again (keepalived 2.2.7 re-creates it: docs/vmac.md "Deleted
   * behind the daemon's back"). True when it was ours.
   */
  lost(name: string, ifindex: number): boolean {
    const parent = this.#ours.get(name);
    // A link of that name with another ifindex is not ours: the stale one deleted before ours was made.
    if (parent === undefined || this.#ifindex.get(name) !== ifindex) return false;
    this.#ours.delete(name);
    this.#ready.delete(name);
    this.#lost.set(name, parent);
    return true;
  }

  /** Is `name` a VMAC of ours that was deleted and is not made again yet? */
  isLost(name: string): boolean {
    return this.#lost.has(name);
  }

  /**
   * Make a VMAC of an instance and set it up; null when done, undefined when it is there already
   * (nothing done), else why not (the caller logs it and the instance stays without that
   * interface: FAULT).
   */
  async create(v: VmacLink): Promise<string | null | undefined> {
    if (this.#ready.has(v.ifname)) return undefined;
    if (this.#ours.has(v.ifname)) return `${v.ifname} was made but could not be brought up`;
    const { links: cmds, sysctls } = this.#d;
    if (cmds === undefined || sysctls === undefined) return 'no link or sysctl port';
    const all = this.#d.netlink.links();
    const parent = all.find((l) => l.ifname === v.parent);
    if (parent === undefined) return `interface ${v.parent} does not exist`;
    const existing = all.find((l) => l.ifname === v.ifname);
    if (existing !== undefined) {
      const gone = await this.#removeStale(existing, v);
      if (gone !== null) return gone;
    }
    const made = await cmds.addMacvlan({ name: v.ifname, parentIfindex: parent.ifindex, mac: v.mac });
    if (!made.ok) return ioText(made.error);
    // Made again after a deletion: the parent already counts it (and has its sysctls).
    const again = this.#lost.get(v.ifname) === parent.ifname;
    if (this.#lost.has(v.ifname) && !again) this.#releaseParent(this.#lost.get(v.ifname)!);
    this.#lost.delete(v.ifname);
    this.#ours.set(v.ifname, parent.ifname);
    this.#ifindex.set(v.ifname, made.value.ifindex);
    this.#setSysctls(v.ifname, parent.ifname, sysctls, again);
    const up = await cmds.linkUp(made.value.ifindex);
    if (!up.ok) return `bringing it up: ${ioText(up.error)}`;
    this.#ready.add(v.ifname);
    return null;
  }

  /**
   * A link of the VMAC's name already there (left by a daemon that was killed): a macvlan is
   * deleted to be made again with our settings; anything else is not ours to touch.
   */
  async #removeStale(l: LinkInfo, v: VmacLink): Promise<string | null> {
    if (l.kind !== 'macvlan') return `VMAC ${v.ifname} conflicts with existing interface (${l.kind ?? 'device'})`;
    this.#d.log.info({ ifname: v.ifname }, `Removing old VMAC interface ${v.ifname} to create it again`);
    const r = await this.#d.links!.delLink(l.ifindex);
    return r.ok ? null : `removing the old ${v.ifname}: ${ioText(r.error)}`;
  }

  /** `again`: the same VMAC made again on the same parent, which already counts it. */
  #setSysctls(vmac: string, parent: string, s: Sysctls, again: boolean): void {
    if (this.#rp === null) this.#clearRpFilter(s);
    for (const [k, val] of VMAC_SYSCTLS) this.#set(s, conf(vmac, k), val);
    this.#set(s, `net/ipv6/conf/${vmac}/disable_ipv6`, 1);
    const p = this.#parents.get(parent);
    if (p !== undefined) {
      if (!again) p.count++;
      return;
    }
    const ign = s.get(conf(parent, 'arp_ignore'));
    const filt = s.get(conf(parent, 'arp_filter'));
    const saved: [number, number] | null = ign.ok && filt.ok && (ign.value !== 1 || filt.value !== 1) ? [ign.value, filt.value] : null;
    if (saved !== null) {
      this.#set(s, conf(parent, 'arp_ignore'), 1);
      this.#set(s, conf(parent, 'arp_filter'), 1);
    }
    this.#parents.set(parent, { count: 1, saved });
  }

  #set(s: Sysctls, path: string, value: number): boolean {
    const r = s.set(path, value);
    if (!r.ok) this.#d.log.warn({ path }, `Unable to set sysctl ${path.replaceAll('/', '.')} to ${value} (${ioText(r.error)})`);
    return r.ok;
  }

  /** keepalived's clear_rp_filter(): see the module comment. */
  #clearRpFilter(s: Sysctls): void {
    const all = s.get(conf('all', 'rp_filter'));
    if (!all.ok) {
      this.#d.log.warn({}, 'Unable to read sysctl net.ipv4.conf.all.rp_filter');
      return;
    }
    this.#rp = { all: all.value, defaultWas: null, raised: new Map() };
    if (all.value === 0) return;
    const n = all.value;
    const def = s.get(conf('default', 'rp_filter'));
    if (def.ok && def.value < n) {
      this.#d.log.info({}, `NOTICE: setting sysctl net.ipv4.conf.default.rp_filter from ${def.value} to ${n}`);
      if (this.#set(s, conf('default', 'rp_filter'), n)) this.#rp.defaultWas = def.value;
    }
    for (const l of this.#d.netlink.links()) {
      if (l.loopback || this.#ours.has(l.ifname)) continue;
      const v = s.get(conf(l.ifname, 'rp_filter'));
      if (v.ok && v.value < n && this.#set(s, conf(l.ifname, 'rp_filter'), n)) this.#rp.raised.set(l.ifname, v.value);
    }
    this.#d.log.info({}, `NOTICE: setting sysctl net.ipv4.conf.all.rp_filter from ${n} to 0`);
    this.#set(s, conf('all', 'rp_filter'), 0);
  }

  /**
   * Remove a VMAC of an instance (if ours), the parent's sysctls put back with its last VMAC; null
   * when done (or nothing of ours to remove), else why not.
   */
  async remove(v: VmacLink): Promise<string | null> {
    const gone = this.#lost.get(v.ifname);
    if (gone !== undefined) {
      // Deleted by someone else and not made again: nothing to delete, the parent let go.
      this.#lost.delete(v.ifname);
      this.#releaseParent(gone);
      return null;
    }
    const parent = this.#ours.get(v.ifname);
    if (parent === undefined) return null;
    this.#ours.delete(v.ifname);
    this.#ready.delete(v.ifname);
    this.#releaseParent(parent);
    const l = this.#d.netlink.links().find((x) => x.ifname === v.ifname);
    if (l === undefined || this.#d.links === undefined) return null;
    const r = await this.#d.links.delLink(l.ifindex);
    return r.ok ? null : ioText(r.error);
  }

  #releaseParent(parent: string): void {
    const p = this.#parents.get(parent);
    const s = this.#d.sysctls;
    if (p === undefined || --p.count > 0) return;
    this.#parents.delete(parent);
    if (p.saved === null || s === undefined) return;
    this.#set(s, conf(parent, 'arp_ignore'), p.saved[0]);
    this.#set(s, conf(parent, 'arp_filter'), p.saved[1]);
  }

  /** keepalived's restore_rp_filter() at stop: each value back if it still holds what we set. */
  restoreRpFilter(): void {
    const rp = this.#rp;
    const s = this.#d.sysctls;
    this.#rp = null;
    if (rp === null || rp.all === 0 || s === undefined) return;
    const now = s.get(conf('all', 'rp_filter'));
    if (now.ok && now.value === 0) {
      this.#d.log.info({}, `NOTICE: resetting sysctl net.ipv4.conf.all.rp_filter to ${rp.all}`);
      this.#set(s, conf('all', 'rp_filter'), rp.all);
    }
    if (rp.defaultWas !== null) {
      const d = s.get(conf('default', 'rp_filter'));
      if (d.ok && d.value === rp.all) {
        this.#d.log.info({}, `NOTICE: resetting sysctl net.ipv4.conf.default.rp_filter to ${rp.defaultWas}`);
        this.#set(s, conf('default', 'rp_filter'), rp.defaultWas);
      }
    }
    for (const [ifname, was] of rp.raised) {
      const v = s.get(conf(ifname, 'rp_filter'));
      if (v.ok && v.value === rp.all) this.#set(s, conf(ifname, 'rp_filter'), was);
    }
  }
}
