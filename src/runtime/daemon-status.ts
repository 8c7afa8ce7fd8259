/**
 * The daemon's status: one JSON-safe snapshot of everything (control socket, dumps, tests),
 * built on the work queue so it is consistent.
 */
import { DROP_REASONS } from '../protocol/drop-reasons.js';
import type { InstanceStatus } from './instance.js';
import type { InterfaceRecord } from './interfaces.js';
import type { InstanceSpec } from './params.js';
import type { HookRun, SocketStats } from './ports/index.js';

/**
 * An instance's own VMAC (`use_vmac`, docs/vmac.md) as keepalived's data dump shows it ("Use VMAC,
 * i/f name vrrp.51, is_up = true, xmit_base = false"); null without `use_vmac`.
 */
export interface VmacStatus {
  readonly ifname: string;
  /** The configured `interface` the VMAC is made on. */
  readonly parent: string | null;
  /** Made and brought up by this daemon, and not deleted since (keepalived's VRRP_VMAC_UP_BIT). */
  readonly up: boolean;
  /** `vmac_xmit_base` (set, too, for a unicast instance). */
  readonly xmitBase: boolean;
}

/** The VMAC part of an instance's status; `up` tells whether this daemon made the VMAC and it is up. */
export function vmacStatus(spec: Pick<InstanceSpec, 'vmac' | 'interface'>, up: (ifname: string) => boolean): VmacStatus | null {
  const v = spec.vmac;
  return v === null ? null : { ifname: v.ifname, parent: spec.interface, up: up(v.ifname), xmitBase: v.xmitBase };
}

export interface DaemonStatus {
  readonly pid: number;
  readonly configFile: string;
  /** Wall-clock ms since the epoch. */
  readonly startedAtMs: number;
  readonly reloads: number;
  readonly instances: readonly (InstanceStatus & { readonly lastHooks: readonly HookRun[]; readonly vmac?: VmacStatus | null })[];
  readonly interfaces: Readonly<Record<string, Readonly<InterfaceRecord>>>;
  readonly syncGroups: readonly { readonly name: string; readonly members: readonly string[] }[];
  /** The VRRP receive sockets: packets read and the kernel's drops, read when the status is built. */
  readonly sockets: readonly SocketStats[];
  readonly eventLoop: { readonly maxLagMs: number; readonly lateTimers: number };
}

/** An instance's status with every drop reason listed (zeros included), its last hook runs and its VMAC. */
export function instanceStatus(
  s: InstanceStatus,
  lastHooks: readonly HookRun[],
  vmac: VmacStatus | null = null,
): DaemonStatus['instances'][number] {
  const drops: Record<string, number> = {};
  for (const r of DROP_REASONS) drops[r] = s.drops[r] ?? 0;
  return { ...s, drops, lastHooks, vmac };
}
