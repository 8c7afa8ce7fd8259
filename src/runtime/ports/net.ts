/**
 * Links, addresses, routes and rules as the runtime sees them through rtnetlink: the cache of the
 * host's links and IPv4 addresses, its change events, and the commands that add and remove VIPs,
 * virtual_routes and virtual_rules. src/io (netlink-*.ts) implements {@link HostNetlink}.
 */
import type { IoResult } from './results.js';

/** A network interface as rtnetlink reports it (RTM_NEWLINK). */
export interface LinkInfo {
  readonly ifindex: number;
  readonly ifname: string;
  /** IFF_UP: administratively up (`ip link set up`). */
  readonly up: boolean;
  /** IFF_RUNNING: operationally up (RFC 2863 OPER_UP); false on NO-CARRIER. */
  readonly running: boolean;
  /** IFF_LOWER_UP: carrier. */
  readonly lowerUp: boolean;
  /** IFF_NOARP: never send gratuitous ARP on it (docs/keepalived-behaviour.md 3.7). */
  readonly noarp: boolean;
  readonly loopback: boolean;
  /** Hardware address "aa:bb:cc:dd:ee:ff", when the link has a 6-byte one. */
  readonly mac: string | undefined;
  readonly mtu: number | undefined;
  /** Master (bridge/bond) ifindex, if enslaved. */
  readonly master: number | undefined;
  /** IFLA_INFO_KIND (`macvlan`, `veth`, `bridge`...), absent for a plain device. */
  readonly kind?: string | undefined;
  /** IFLA_LINK: the ifindex of the link this one sits on (a macvlan's parent). */
  readonly parent?: number | undefined;
}

/** RT_SCOPE_* names `ip addr` prints (global / site / link / host / nowhere). */
export type ScopeName = 'global' | 'site' | 'link' | 'host' | 'nowhere';

/**
 * An address on an interface (RTM_NEWADDR): IPv4, or IPv6 when `family` is 6 (the netlink adapter
 * reports IPv6 addresses only when asked to: `NetlinkWatcher`'s `ipv6` option). The IPv6-only fields
 * are absent on IPv4 addresses.
 */
export interface AddrInfo {
  /** 6 for an IPv6 address; absent for IPv4. */
  readonly family?: 6;
  readonly ifindex: number;
  /** IFA_LOCAL (the interface's own address; IFA_ADDRESS when there is no IFA_LOCAL). */
  readonly address: string;
  readonly prefixLen: number;
  /** IFA_ADDRESS when it differs from IFA_LOCAL (point-to-point peer). */
  readonly peer: string | undefined;
  readonly broadcast: string | undefined;
  /** RT_SCOPE_* number: 0 global, 253 link, 254 host ... */
  readonly scope: number;
  /** IFA_LABEL, e.g. `eth0` or `eth0:havip`. */
  readonly label: string | undefined;
  /** IFA_F_SECONDARY: another address of the same subnet was there first. */
  readonly secondary: boolean;
  /** IPv6: IFA_F_NODAD (added without duplicate address detection, as keepalived adds VIPs). */
  readonly nodad?: boolean;
  /** IPv6: IFA_F_DEPRECATED (preferred lifetime 0: not chosen as a source address). */
  readonly deprecated?: boolean;
  /** IPv6: IFA_F_TENTATIVE (duplicate address detection still running: not usable yet). */
  readonly tentative?: boolean;
  /** IPv6: IFA_F_DADFAILED (another node holds it). */
  readonly dadFailed?: boolean;
  /** IPv6: IFA_CACHEINFO preferred lifetime in seconds; 0xffffffff is forever. */
  readonly preferredLft?: number;
  /** IPv6: IFA_CACHEINFO valid lifetime in seconds; 0xffffffff is forever. */
  readonly validLft?: number;
}

/**
 * What to add or remove. Equivalent to `ip addr add ADDRESS/PREFIX [brd B] [scope S] [label L] [peer P] dev IF`.
 * An IPv6 `address` is added as keepalived adds an IPv6 VIP (`ip addr add ADDRESS/PREFIX dev IF nodad
 * [preferred_lft N]`): broadcast and label do not apply to it, and the scope is the kernel's.
 */
export interface AddrSpec {
  readonly ifindex: number;
  readonly address: string;
  readonly prefixLen: number;
  /** Broadcast address; `'+'` computes it from address/prefix like `ip addr add ... brd +`. */
  readonly broadcast?: string | undefined;
  readonly scope?: number | ScopeName | undefined;
  /** Must start with the interface name (`eth0:havip`); at most 15 bytes. */
  readonly label?: string | undefined;
  readonly peer?: string | undefined;
  /** IPv6 only: IFA_F_NODAD; default true (keepalived's default; false is its `-nodad`). */
  readonly nodad?: boolean | undefined;
  /**
   * IPv6 only: preferred lifetime in seconds (`preferred_lft`), or `'forever'`. Default as keepalived:
   * 0 for a /128 (deprecated: never picked as a source address), forever otherwise.
   */
  readonly preferredLft?: number | 'forever' | undefined;
}

/** Route types `ip route` names. */
export type RouteTypeName = 'unicast' | 'blackhole' | 'unreachable' | 'prohibit';

/** `ip route add DST/LEN [via GW] [dev IF] [src SRC] [metric M] [table T] [scope S] [proto P]`, or a blackhole etc. */
export interface RouteSpec {
  readonly dst: string;
  readonly prefixLen: number;
  readonly gateway?: string | undefined;
  readonly ifindex?: number | undefined;
  readonly src?: string | undefined;
  readonly metric?: number | undefined;
  /** Default 254 (main). */
  readonly table?: number | undefined;
  /** Default: `link` for a unicast route with a device and no gateway (as `ip route`), else global. */
  readonly scope?: number | ScopeName | undefined;
  readonly type?: RouteTypeName | undefined;
  /** Default RTPROT_KEEPALIVED (18). */
  readonly protocol?: number | undefined;
}

/** `ip rule add [from SRC/LEN] [to DST/LEN] [fwmark M] [pref P] table T`. */
export interface RuleSpec {
  readonly from?: { readonly address: string; readonly prefixLen: number } | undefined;
  readonly to?: { readonly address: string; readonly prefixLen: number } | undefined;
  readonly table: number;
  readonly priority?: number | undefined;
  readonly fwmark?: number | undefined;
}

/** Who caused a change: our command socket, another netlink socket (port id), or the kernel. */
export type ChangeOrigin = 'self' | 'other' | 'kernel';

export type NetlinkEvent =
  | {
      readonly kind: 'link';
      readonly op: 'new' | 'del';
      readonly link: LinkInfo;
      /** The cached state before this event (undefined for a link we did not know). */
      readonly previous: LinkInfo | undefined;
      /** True when produced by re-listing after lost notifications rather than by a notification. */
      readonly synthetic: boolean;
    }
  | {
      readonly kind: 'addr';
      readonly op: 'new' | 'del';
      readonly addr: AddrInfo;
      /** Interface name from the link cache (may be undefined if the link is already gone). */
      readonly ifname: string | undefined;
      readonly origin: ChangeOrigin;
      /** nlmsg_pid of the notification (the requester's port id; 0 = kernel). */
      readonly port: number;
      readonly synthetic: boolean;
    };

/** rtnetlink: the link/address cache, events and commands. */
export interface HostNetlink {
  /** Subscribe and fill the cache; events flow afterwards. */
  start(onEvent: (e: NetlinkEvent) => void): Promise<IoResult<true>>;
  links(): LinkInfo[];
  addresses(ifindex?: number): AddrInfo[];
  addAddress(spec: AddrSpec): Promise<IoResult<{ exists: boolean }>>;
  delAddress(spec: AddrSpec): Promise<IoResult<{ absent: boolean }>>;
  addRoute(spec: RouteSpec): Promise<IoResult<{ exists: boolean }>>;
  delRoute(spec: RouteSpec): Promise<IoResult<{ absent: boolean }>>;
  addRule(spec: RuleSpec): Promise<IoResult<{ exists: boolean }>>;
  delRule(spec: RuleSpec): Promise<IoResult<{ absent: boolean }>>;
  stop(): void;
}

/** A macvlan to create (`ip link add link PARENT name NAME address MAC type macvlan mode private`). */
export interface MacvlanSpec {
  readonly name: string;
  readonly parentIfindex: number;
  /** "aa:bb:cc:dd:ee:ff". */
  readonly mac: string;
}

/**
 * Links the daemon creates and removes: the VMACs of `use_vmac` (docs/vmac.md). Implemented in
 * io/netlink-link.ts over the command socket of io/netlink-addr.ts.
 */
export interface LinkCommands {
  /**
   * RTM_NEWLINK with NLM_F_CREATE|NLM_F_EXCL: a private-mode macvlan, left down. Resolves with its
   * ifindex once the HostNetlink cache has it; EEXIST when the name is taken.
   */
  addMacvlan(spec: MacvlanSpec): Promise<IoResult<{ ifindex: number }>>;
  /** IPv6 address generation off (IFLA_INET6_ADDR_GEN_MODE none), then IFF_UP. */
  linkUp(ifindex: number): Promise<IoResult<true>>;
  /** RTM_DELLINK; `absent: true` when it was already gone (ENODEV). */
  delLink(ifindex: number): Promise<IoResult<{ absent: boolean }>>;
}

/**
 * Kernel parameters under /proc/sys, by path (`net/ipv4/conf/eth0/arp_ignore`): integers only.
 * Implemented by `procSysctls()` in host/sysctl.ts.
 */
export interface Sysctls {
  get(path: string): IoResult<number>;
  set(path: string, value: number): IoResult<true>;
}

/**
 * Whether IPv6 forwarding is on for an interface (`net.ipv6.conf.IF.forwarding`): unsolicited
 * neighbour advertisements carry the Router flag when it is, as keepalived's do. Implemented by
 * `readIpv6Forwarding` in io/ipv6-forwarding.ts (keepalived re-reads it when older than 5 s).
 */
export type Ipv6ForwardingReader = (ifname: string) => IoResult<boolean>;
