/**
 * The `vrrp_instance` keywords `use_vmac`, `vmac_xmit_base` and `use_vmac_addr` (docs/vmac.md). Pure.
 */
import type { Keyword, KeywordCtx } from '../dispatch.js';
import type { VrrpInstance } from '../model.js';
import type { InstanceExtras } from './parse-state.js';

/**
 * `use_vmac [IFNAME] [MAC]` (docs/vmac.md): the interface name, checked as keepalived's
 * dev_name_valid() does; a MAC argument is left to its support.ts row (refused).
 */
export function vmacKeywords(on: (name: string, fn: (i: VrrpInstance, ctx: KeywordCtx) => void) => Keyword): Keyword[] {
  const useVmac = on('use_vmac', (i, ctx) => {
    i.useVmac = true;
    for (const w of ctx.words.slice(1, 3)) {
      if (w.includes(':')) continue;
      if (i.vmacIfname !== null) ctx.diags.error(ctx.stmt, 'VMAC interface name already specified', 'use_vmac');
      else if (!validIfname(w))
        ctx.diags.error(ctx.stmt, `VMAC interface name '${w}' too long or invalid characters - ignoring`, 'use_vmac');
      else i.vmacIfname = w;
    }
  });
  // `vmac_xmit_base`: adverts on the parent (docs/vmac.md); words after it are not read (keepalived).
  const xmitBase = on('vmac_xmit_base', (i) => {
    i.vmacXmitBase = true;
  });
  // `use_vmac_addr`: VMACs of their own for the VIPs/eVIPs on other interfaces (docs/vmac.md).
  const vmacAddr = on('use_vmac_addr', (i) => {
    i.useVmacAddr = true;
  });
  return [useVmac, xmitBase, vmacAddr];
}

/** A Linux interface name: 1..15 bytes, not `.` or `..`, no `/`, `:` or white space. */
function validIfname(name: string): boolean {
  return new TextEncoder().encode(name).length < 16 && name !== '.' && name !== '..' && !/[/:\s]/.test(name) && name.length > 0;
}

/**
 * At the end of the `vrrp_instance` block, as keepalived 2.2.7 (docs/vmac.md): `use_vmac` with a
 * unicast keyword sends from the parent, so `vmac_xmit_base` is set ("unicast with use_vmac requires
 * vmac_xmit_base - setting"), or, without an interface, `use_vmac` is cleared. Both counted errors
 * (test/fixtures/config-cases/vmac-unicast.conf, vmac-unicast-noif.conf).
 */
export function vmacUnicastAtEnd(i: VrrpInstance, ex: InstanceExtras, error: (msg: string, keyword: string) => void): void {
  if (!ex.unicastKeyword || !i.useVmac) return;
  if (i.interface === null) {
    error(`(${i.name}): Cannot use VMAC/ipvlan with unicast and no interface - clearing use_vmac`, 'use_vmac');
    i.useVmac = false;
    i.vmacIfname = null;
  } else if (!i.vmacXmitBase) {
    error(`(${i.name}) unicast with use_vmac requires vmac_xmit_base - setting`, 'use_vmac');
    i.vmacXmitBase = true;
  }
}

/**
 * The VIPs/eVIPs that get a VMAC of their own (keepalived 2.2.7's `vrrp_complete_instance`, watched
 * in docs/vmac.md "use_vmac_addr"): with `use_vmac_addr`, each on another interface (`dev`) than
 * the instance's, or of the other family; with `use_vmac` on its line, also one on the instance's
 * interface when the instance has no VMAC of the family. The flag is an error (dropped) where the
 * instance's VMAC already carries the address, or where `use_vmac_addr` gives it its VMAC anyway
 * (test/fixtures/config-cases/vmac-vip-flag.conf).
 */
export function completeAddressVmacs(i: VrrpInstance, error: (msg: string, keyword: string) => void): void {
  for (const a of [...i.virtualIpaddress, ...i.virtualIpaddressExcluded]) {
    const onInstanceIf = a.dev === null || a.dev === i.interface;
    const sameFamily = a.family === i.family;
    let flag = a.flags.includes('use_vmac');
    if (flag && onInstanceIf && i.useVmac && sameFamily) {
      error(`(${i.name}) use_vmac specified for VIP/eVIP ${a.address}/${a.prefixLength} and vrrp instance`, 'use_vmac');
      flag = false;
    } else if (flag && (!onInstanceIf || !sameFamily) && i.useVmacAddr) {
      error(`(${i.name}) use_vmac_addr specified and use_vmac specified for VIP/eVIP ${a.address}/${a.prefixLength}`, 'use_vmac');
      flag = false;
    }
    if (!flag) a.flags = a.flags.filter((f) => f !== 'use_vmac');
    const own = onInstanceIf ? !(i.useVmac && sameFamily) && (flag || (i.useVmacAddr && !sameFamily)) : flag || i.useVmacAddr;
    if (own) a.ownVmac = true;
  }
}
