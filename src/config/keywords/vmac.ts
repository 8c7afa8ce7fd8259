/**
 * The `vrrp_instance` keywords `use_vmac` and `vmac_xmit_base` (docs/vmac.md). Pure.
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
  return [useVmac, xmitBase];
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
