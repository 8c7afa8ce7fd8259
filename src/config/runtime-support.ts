/**
 * What a keepalived.conf can say that vrrpd's runtime does not run, as diagnostics the loader adds
 * when asked (`runtimeSupport`: `vrrpd check` and `vrrpd run`, never the oracle's comparison):
 *  - the keywords of src/config/support.ts, at their first use with file and line: refused or
 *    ignored, each with what to do instead (`notRunDiagnostics`);
 *  - `use_vmac` on an IPv6 instance, or with unicast peers and without
 *    `vmac_xmit_base` (keepalived forces it with unicast, but strict mode resets it: unicast
 *    adverts from the VMAC, which vrrpd does not run; docs/vmac.md);
 *  - a VIP/eVIP given a VMAC of its own (`use_vmac_addr`, `use_vmac` on its line) that is IPv6 or
 *    has no interface, and two instances with VMACs on one interface with one MAC (docs/vmac.md);
 *  - an instance with `unicast_fault_no_peer` and no unicast peer, which keepalived holds in FAULT
 *    for good (vrrpd has no such permanent fault yet; running it would take the VIP).
 * One diagnostic per such instance, bare (line 0, the place is in its text, as for the script
 * notices of completion.ts).
 * keepalived prints no such line, so these diagnostics are vrrpd's own and not counted in
 * keepalived's exit code (exitClass `none`): `keepalived -t`'s lines and code stay comparable. A
 * refusal is `fatal`, so the config is refused: `vrrpd run` does not start, a reload keeps the
 * running config, and `vrrpd check` prints it and exits 1. Pure.
 *
 * When the runtime supports a reason, delete it here or its row in support.ts (and its test in
 * test/config/runtime-support.test.ts or test/config/support.test.ts).
 *
 * And what vrrpd runs as keepalived does but is most likely not what was meant, as warnings with the
 * instance's file and line (`runtimeWarnings`, same occasions, uncounted too): an IPv6 unicast
 * instance without `unicast_src_ip` with a peer that is not link-local ({@link V6_UNICAST_GLOBAL_PEER}).
 */
import type { Diagnostic } from './diagnostics.js';
import type { AddressEntry, DeepReadonly, Origin, VrrpInstance } from './model.js';
import { notRunMessage, type NotRunUse } from './support.js';
import { isIpv6LinkLocalBytes, parseIpv6 } from '../protocol/ipv6-address.js';

/** The words every such diagnostic starts with. */
export const NOT_SUPPORTED_YET = 'not supported by vrrpd yet';

/** Why the runtime cannot run this instance as keepalived would; empty when it can. */
export function unsupportedReasons(i: DeepReadonly<VrrpInstance>): string[] {
  const out: string[] = [];
  if (i.useVmac && i.family === 6) out.push('use_vmac on an IPv6 instance (vrrpd makes IPv4 VMACs only)');
  // (without an interface: keepalived clears use_vmac on a unicast instance, keywords/vmac.ts, and
  // refuses a multicast one, "Unknown interface!")
  if (i.useVmac && i.unicastPeers.length > 0 && !i.vmacXmitBase)
    out.push('use_vmac with unicast peers in strict mode (keepalived then sends unicast from the VMAC, which vrrpd does not run)');
  if (i.unicastFaultNoPeer && i.unicastPeers.length === 0)
    out.push('unicast_fault_no_peer without unicast peers (keepalived holds such an instance in FAULT)');
  out.push(...addressVmacReasons(i));
  return out;
}

/** The VIPs/eVIPs given a VMAC of their own (`use_vmac_addr`, `use_vmac` on a VIP line: docs/vmac.md). */
function ownVmacEntries(i: DeepReadonly<VrrpInstance>): DeepReadonly<AddressEntry>[] {
  return [...i.virtualIpaddress, ...i.virtualIpaddressExcluded].filter((a) => a.ownVmac === true);
}

/** What vrrpd does not run of the VMACs of their own (docs/vmac.md "use_vmac_addr"). */
function addressVmacReasons(i: DeepReadonly<VrrpInstance>): string[] {
  const out: string[] = [];
  for (const a of ownVmacEntries(i)) {
    if (a.family === 6)
      out.push(`a VMAC of its own for the IPv6 address ${a.address} (use_vmac_addr or use_vmac on its line: vrrpd makes IPv4 VMACs only)`);
    else if (a.dev === null && i.interface === null)
      out.push(`a VMAC of its own for ${a.address} without an interface (use_vmac on its line and no interface to put it on)`);
  }
  return out;
}

/**
 * VMACs of two instances on one interface with one MAC (same VRID and family): keepalived 2.2.7
 * shares one macvlan between them, which vrrpd does not (docs/vmac.md "use_vmac_addr").
 */
function sharedVmacReasons(instances: DeepReadonly<VrrpInstance[]>): Map<string, string> {
  const owner = new Map<string, string>();
  const out = new Map<string, string>();
  for (const i of instances) {
    const keys = new Set<string>();
    if (i.useVmac && i.interface !== null) keys.add(`${i.interface}|${i.family}|${i.virtualRouterId}`);
    for (const a of ownVmacEntries(i)) keys.add(`${a.dev ?? i.interface ?? ''}|${a.family}|${i.virtualRouterId}`);
    for (const k of keys) {
      const first = owner.get(k);
      if (first === undefined) owner.set(k, i.name);
      else
        out.set(
          i.name,
          `a VMAC on ${k.split('|')[0]} with the MAC of VRID ${i.virtualRouterId} that instance ${first} has too (keepalived shares one macvlan between them, vrrpd does not)`,
        );
    }
  }
  return out;
}

/** One fatal, uncounted diagnostic per instance the runtime cannot run (see the module comment). */
export function runtimeRefusals(instances: DeepReadonly<VrrpInstance[]>): Diagnostic[] {
  const out: Diagnostic[] = [];
  const shared = sharedVmacReasons(instances);
  for (const i of instances) {
    const reasons = unsupportedReasons(i);
    const s = shared.get(i.name);
    if (s !== undefined) reasons.push(s);
    if (reasons.length === 0) continue;
    out.push({
      file: '',
      line: 0,
      severity: 'fatal',
      keyword: 'vrrp_instance',
      message: `${NOT_SUPPORTED_YET}: ${reasons.join(', ')} (instance ${i.name}, ${at(i.origin)}) - the daemon would refuse to start`,
      exitClass: 'none',
    });
  }
  return out;
}

/**
 * The name the warning below starts with: an IPv6 unicast instance without `unicast_src_ip` sends
 * from, and listens on, the interface's link-local address only (keepalived 2.2.7's socket pool,
 * vrrpd's socket-pool.ts). A peer that sends to this node's global address is never heard; with
 * the same config on both nodes (global peers, no unicast_src_ip) both become MASTER, keepalived
 * pairs as vrrpd ones (docs/keepalived-behaviour.md 3.1 "Source address").
 */
export const V6_UNICAST_GLOBAL_PEER = 'IPv6 unicast peer not link-local without unicast_src_ip';

/** One warning per instance the runtime runs as keepalived does, likely not as meant (module comment). */
export function runtimeWarnings(instances: DeepReadonly<VrrpInstance[]>): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const i of instances) {
    if (i.family !== 6 || i.unicastSrcIp !== null || i.unicastPeers.length === 0) continue;
    const global = i.unicastPeers.map((p) => p.address).filter((a) => !isIpv6LinkLocalBytes(parseIpv6(a) ?? Buffer.alloc(16)));
    if (global.length === 0) continue;
    const ifname = i.interface ?? 'its interface';
    out.push({
      file: i.origin.file,
      line: i.origin.line,
      severity: 'warning',
      keyword: 'unicast_peer',
      message:
        `${V6_UNICAST_GLOBAL_PEER}: (${i.name}) unicast_peer ${global.join(', ')}: the adverts go from, and are heard only on, ` +
        `${ifname}'s link-local address (as keepalived 2.2.7): a peer sending to this node's global address is never heard, ` +
        `and if the peer is configured the same way both nodes become MASTER - set unicast_src_ip to this node's global ` +
        `address (the peer's unicast_peer naming it), or list the peers by their link-local addresses`,
      exitClass: 'none',
    });
  }
  return out;
}

/**
 * The keywords vrrpd reads and does not run (support.ts), one diagnostic per keyword at its first
 * use: fatal for the refused ones, a warning for the others; neither counts in keepalived's exit
 * code (exitClass `none`), as above.
 */
export function notRunDiagnostics(uses: readonly NotRunUse[]): Diagnostic[] {
  return uses.map((u) => ({
    file: u.file,
    line: u.line,
    severity: u.row.cls === 'refused' ? 'fatal' : 'warning',
    keyword: u.row.keyword,
    message: notRunMessage(u.row, u.more),
    exitClass: 'none',
  }));
}

function at(o: DeepReadonly<Origin>): string {
  return `${o.file}:${o.line}`;
}
