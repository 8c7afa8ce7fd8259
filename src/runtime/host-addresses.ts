/**
 * Config entries (VIPs, eVIPs, virtual_routes, virtual_rules) as rtnetlink requests, and the one
 * function that sends them. Only an instance's action interpreter calls {@link changeEntry}
 * (through InstanceEnv.setAddress): there is no other path from the daemon to host addresses.
 */
import type { AddressEntry, DeepReadonly, RouteEntry, RuleEntry } from '../config/model.js';
import type { AddressKindEntry } from './entries.js';
import type { AddrSpec, HostNetlink, IoResult, LinkInfo, RouteSpec, RuleSpec } from './ports/index.js';

type R<T> = DeepReadonly<T>;

/**
 * Add (`add`) or remove one entry on the host. A VIP/eVIP without `dev` goes on `defaultIf` (the
 * instance's interface); a missing interface is ENODEV, a route or rule the daemon cannot express
 * is EINVAL: values, never throws.
 */
export async function changeEntry(
  netlink: HostNetlink,
  add: boolean,
  item: AddressKindEntry,
  defaultIf: string | null,
): Promise<IoResult<unknown>> {
  const linkByName = (n: string): LinkInfo | undefined => netlink.links().find((l) => l.ifname === n);
  switch (item.kind) {
    case 'vips':
    case 'evips': {
      const ifname = item.entry.dev ?? defaultIf;
      const link = ifname === null ? undefined : linkByName(ifname);
      if (link === undefined) return noDevice(add, ifname);
      const spec = addrSpec(item.entry, link.ifindex);
      return add ? netlink.addAddress(spec) : netlink.delAddress(spec);
    }
    case 'routes': {
      const spec = routeSpec(item.entry, (n) => linkByName(n)?.ifindex);
      if (!spec.ok) return spec;
      return add ? netlink.addRoute(spec.value) : netlink.delRoute(spec.value);
    }
    case 'rules': {
      const spec = ruleSpec(item.entry);
      if (!spec.ok) return spec;
      return add ? netlink.addRule(spec.value) : netlink.delRule(spec.value);
    }
  }
}

function noDevice(add: boolean, ifname: string | null): IoResult<never> {
  return {
    ok: false,
    error: {
      kind: 'IoError',
      syscall: add ? 'RTM_NEWADDR' : 'RTM_DELADDR',
      errno: 19,
      code: 'ENODEV',
      message: `no interface ${ifname ?? '(none)'}`,
      ifname: ifname ?? undefined,
    },
  };
}

/**
 * A VIP entry as an rtnetlink request (`ip addr add A/P [brd B] [scope S] [label L] [peer P] dev IF`).
 * IPv6 as keepalived adds it: `nodad` unless the entry says `-nodad`, its `preferred_lft` if given
 * (else the port's default: 0 for a /128, forever otherwise), no broadcast or label.
 */
export function addrSpec(e: R<AddressEntry>, ifindex: number): AddrSpec {
  if (e.family === 6) {
    const lft = e.flags.find((f) => f.startsWith('preferred_lft '))?.slice('preferred_lft '.length);
    return {
      ifindex,
      address: e.address,
      prefixLen: e.prefixLength,
      nodad: !e.flags.includes('-nodad'),
      ...(lft !== undefined ? { preferredLft: lft === 'forever' ? ('forever' as const) : Number(lft) } : {}),
      ...(e.peer !== null ? { peer: e.peer } : {}),
    };
  }
  return {
    ifindex,
    address: e.address,
    prefixLen: e.prefixLength,
    ...(e.broadcast !== null ? { broadcast: e.broadcast } : {}),
    scope: e.scope,
    ...(e.label !== null ? { label: e.label } : {}),
    ...(e.peer !== null ? { peer: e.peer } : {}),
  };
}

const TABLES: Record<string, number> = { main: 254, local: 255, default: 253 };

function tableNumber(t: string | null): number | undefined {
  if (t === null) return undefined;
  return TABLES[t] ?? (/^\d+$/.test(t) ? Number(t) : undefined);
}

function prefix(s: string): { address: string; prefixLen: number } {
  if (s === 'default') return { address: '0.0.0.0', prefixLen: 0 };
  const [a, p] = s.split('/');
  return { address: a ?? s, prefixLen: p === undefined ? 32 : Number(p) };
}

/** A virtual_routes entry as an rtnetlink request. */
export function routeSpec(r: R<RouteEntry>, ifindexOf: (ifname: string) => number | undefined): IoResult<RouteSpec> {
  const bad = (message: string): IoResult<never> => ({
    ok: false,
    error: { kind: 'IoError', syscall: 'RTM_NEWROUTE', errno: 22, code: 'EINVAL', message },
  });
  if (r.to === null) return bad(`cannot read route "${r.words.join(' ')}"`);
  const dst = prefix(r.to);
  let ifindex: number | undefined;
  if (r.dev !== null) {
    ifindex = ifindexOf(r.dev);
    if (ifindex === undefined)
      return {
        ok: false,
        error: { kind: 'IoError', syscall: 'RTM_NEWROUTE', errno: 19, code: 'ENODEV', message: `no interface ${r.dev}`, ifname: r.dev },
      };
  }
  return {
    ok: true,
    value: {
      dst: dst.address,
      prefixLen: dst.prefixLen,
      gateway: r.via ?? undefined,
      ifindex,
      src: r.src ?? undefined,
      metric: r.metric ?? undefined,
      table: tableNumber(r.table),
      type: r.blackhole ? 'blackhole' : 'unicast',
    },
  };
}

/** A virtual_rules entry as an rtnetlink request. */
export function ruleSpec(r: R<RuleEntry>): IoResult<RuleSpec> {
  const table = tableNumber(r.table);
  if (table === undefined)
    return {
      ok: false,
      error: {
        kind: 'IoError',
        syscall: 'RTM_NEWRULE',
        errno: 22,
        code: 'EINVAL',
        message: `rule "${r.words.join(' ')}" needs a numeric or main/local/default table`,
      },
    };
  return {
    ok: true,
    value: {
      table,
      ...(r.from !== null ? { from: prefix(r.from) } : {}),
      ...(r.to !== null ? { to: prefix(r.to) } : {}),
      ...(r.preference !== null ? { priority: r.preference } : {}),
    },
  };
}
