/**
 * What an instance's action interpreter (instance.ts `apply`) performs, in order: the state
 * machine's actions, plus the runtime's own host changes that are not a state-machine step but take
 * the same one path to the host, so exactly one code path adds and removes VIPs, eVIPs, routes and
 * rules and sends GARPs:
 *  - `restore-address`: self-healing (README; vrrpd's alternative to docs/keepalived-behaviour.md 3.8's BACKUP
 *    and priority 0): a VIP/eVIP someone else deleted from a MASTER is re-added and announced;
 *  - `reload-remove` / `reload-add`: a reload's diff for a kept MASTER (docs/keepalived-behaviour.md 6 step 5:
 *    entries gone from the config removed, new ones added; reload-diff.ts builds the list);
 *  - `vmac-create` / `vmac-delete`: the instance's VMACs (`use_vmac`, `use_vmac_addr`, docs/vmac.md, vmac.ts), made
 *    before its first state (start, or a reload adding it) and removed after its stop (daemon stop,
 *    or a reload removing it).
 */
import type { FsmAction, InstanceSnapshot } from '../protocol/fsm-types.js';
import type { VmacLink } from './addr-vmac.js';
import type { AddressKindEntry, VipEntry } from './entries.js';

export type RuntimeAction =
  /** Re-add a VIP/eVIP deleted by `by` (words for the log), then a garp_master_repeat burst for it. */
  | { readonly type: 'restore-address'; readonly item: VipEntry; readonly by: string }
  /** Remove an entry the reloaded config no longer has; `defaultIf` for an entry without `dev`. */
  | { readonly type: 'reload-remove'; readonly item: AddressKindEntry; readonly defaultIf: string | null }
  /** Add an entry the reloaded config adds to a MASTER. */
  | { readonly type: 'reload-add'; readonly item: AddressKindEntry; readonly defaultIf: string | null }
  /**
   * Make or remove the instance's VMACs (a no-op without any), or only `links` (a reload keeping
   * the instance whose address VMACs changed: reload.ts).
   */
  | { readonly type: 'vmac-create' | 'vmac-delete'; readonly links?: readonly VmacLink[] };

export type InstanceAction = FsmAction | RuntimeAction;

/** A snapshot to take and the actions to perform (a state-machine `StepResult` is one). */
export interface InstanceStep {
  readonly snapshot: InstanceSnapshot;
  readonly actions: readonly InstanceAction[];
}
