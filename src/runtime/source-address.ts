/**
 * Which interface and source address an instance's adverts use (docs/keepalived-behaviour.md 3.1 "Source
 * address"), from the host's links and addresses as netlink last reported them. Pure: the host
 * state (host-state.ts) feeds it and reports the result as the synthetic SOURCE_TRACKER (params.ts).
 */
import type { InstanceSpec, VmacSpec } from './params.js';
import type { AddrInfo, LinkInfo } from './ports/index.js';

/** The host as the resolution reads it (one consistent view for a whole pass). */
export interface SourceView {
  readonly links: readonly LinkInfo[];
  readonly addrs: readonly AddrInfo[];
  /** Is this address a VIP/eVIP of some instance (never chosen as a source)? */
  isVip(address: string): boolean;
  /** Is a VRRP socket of this family open on this interface (IPv6: the instance's channel)? */
  hasSocket(ifname: string, family: 4 | 6): boolean;
  /** `use_vmac`: did the daemon make this VMAC (absent: no)? */
  ownsVmac?(ifname: string): boolean;
}

/** What the instance uses now: interface and source (null: none) and, when none, why. */
export interface SourceChoice {
  readonly ifname: string | null;
  readonly src: string | null;
  readonly problem: string | null;
}

/**
 * The instance's VMAC (`use_vmac`), else the configured interface, or (unicast without
 * `interface`) the one carrying unicast_src_ip, or `current` when that address is on no interface now.
 */
export function resolveIfname(
  spec: InstanceSpec,
  current: string | null,
  links: readonly LinkInfo[],
  addrs: readonly AddrInfo[],
): string | null {
  if (spec.vmac !== null) return spec.vmac.ifname;
  if (spec.interface !== null) return spec.interface;
  const a = addrs.find((x) => x.address === spec.configuredSrcIp && (x.family ?? 4) === spec.family);
  const l = a && links.find((x) => x.ifindex === a.ifindex);
  return l?.ifname ?? current;
}

/**
 * The interface the instance's adverts are sent and received on (its VRRP socket): with
 * `use_vmac` and `vmac_xmit_base` the VMAC's parent, `interface` (keepalived 2.2.7's socket pool
 * keys such an instance on its configured interface; docs/vmac.md), else `ifname`, the instance's
 * interface from {@link resolveIfname} (the VMAC, which keeps the VIPs and the GARPs).
 */
export function advertIfname(
  spec: Pick<InstanceSpec, 'interface'> & { readonly vmac?: VmacSpec | null },
  ifname: string | null,
): string | null {
  return spec.vmac?.xmitBase === true && spec.interface !== null ? spec.interface : ifname;
}

/**
 * The usable IPv6 link-local address of interface `ifindex` (scope link, neither tentative nor
 * failed DAD): `prefer` while it is one of them (the address in use stays in use), else the first.
 * Both the source choice and the IPv6 unicast channel without `unicast_src_ip` (socket-pool.ts) take
 * it from here, so the adverts leave from the address the channel is bound to.
 */
export function linkLocalOf(ifindex: number, addrs: readonly AddrInfo[], prefer: string | null | undefined): string | undefined {
  let first: string | undefined;
  for (const a of addrs) {
    if (a.family !== 6 || a.ifindex !== ifindex || a.scope !== 253 || a.tentative === true || a.dadFailed === true) continue;
    if (a.address === prefer) return a.address;
    first ??= a.address;
  }
  return first;
}

/**
 * The source address: `unicast_src_ip`/`mcast_src_ip` when it is on the interface, else the
 * interface's primary IPv4 address (a VIP never); for an IPv6 instance its link-local address
 * (RFC 5798 5.1.2.1, as keepalived; {@link linkLocalOf}). An address in use that vanished is kept
 * unless `track_src_ip` (keepalived only notices a vanished source with it), except an IPv6 unicast
 * instance's link-local one: its channel is bound to it, so without it the instance is FAULT until
 * a link-local address appears. `ifname` is the instance's
 * interface from {@link resolveIfname}; `kept` the source it uses now.
 */
export function resolveSource(spec: InstanceSpec, ifname: string | null, kept: string | null, view: SourceView): SourceChoice {
  if (ifname === null) return { ifname, src: null, problem: `unicast_src_ip ${spec.configuredSrcIp ?? '?'} is not on any interface` };
  const own = view.links.find((l) => l.ifname === ifname);
  if (own === undefined) return { ifname, src: null, problem: `${spec.vmac ? 'VMAC' : 'interface'} ${ifname} does not exist` };
  if (spec.vmac !== null && view.ownsVmac?.(ifname) !== true) return { ifname, src: null, problem: `VMAC ${ifname} could not be made` };
  // Our VMAC is always up; down, someone else set it so (keepalived: FAULT, its interface down).
  if (spec.vmac !== null && !own.up) return { ifname, src: null, problem: `VMAC ${ifname} is down` };
  // A VMAC has no address of its own: the source is its parent's (docs/vmac.md).
  const link = spec.vmac === null ? own : view.links.find((l) => l.ifname === spec.interface);
  if (link === undefined) return { ifname, src: null, problem: `interface ${spec.interface ?? '?'} does not exist` };
  let src: string | null = null;
  let problem: string | null = null;
  if (spec.configuredSrcIp !== null) {
    const present = view.addrs.some(
      (a) => a.ifindex === link.ifindex && a.address === spec.configuredSrcIp && (a.family ?? 4) === spec.family,
    );
    if (present || (kept === spec.configuredSrcIp && !spec.trackSrcIp)) src = spec.configuredSrcIp;
    else problem = `${spec.unicast ? 'unicast_src_ip' : 'mcast_src_ip'} ${spec.configuredSrcIp} is not on ${ifname}`;
  } else if (spec.family === 6) {
    const ll = linkLocalOf(link.ifindex, view.addrs, kept);
    if (ll !== undefined) src = ll;
    // Unicast: the channel is bound to the link-local address (socket-pool.ts) and goes with it;
    // keepalived FAULTs the instance when the address it sends from is deleted and no other
    // link-local address is left (docs/keepalived-behaviour.md 3.1 "Source address").
    else if (kept !== null && !spec.trackSrcIp && !spec.unicast) src = kept;
    else problem = `no IPv6 link-local address for interface ${ifname}`;
  } else {
    const primary = view.addrs.find(
      (a) => a.family === undefined && a.ifindex === link.ifindex && !a.secondary && a.scope === 0 && !view.isVip(a.address),
    );
    if (primary) src = kept !== null && !spec.trackSrcIp && view.addrs.some((a) => a.address === kept) ? kept : primary.address;
    else if (kept !== null && !spec.trackSrcIp) src = kept;
    else problem = `no IPv4 address for interface ${ifname}`;
  }
  const sockIf = advertIfname(spec, ifname) ?? ifname;
  if (problem === null && !view.hasSocket(sockIf, spec.family)) problem = `no ${spec.family === 6 ? 'IPv6 ' : ''}VRRP socket on ${sockIf}`;
  return { ifname, src, problem };
}
