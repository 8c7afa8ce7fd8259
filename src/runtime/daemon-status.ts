/**
 * The daemon's status: one JSON-safe snapshot of everything (control socket, dumps, tests),
 * built on the work queue so it is consistent.
 */
import { DROP_REASONS } from '../protocol/drop-reasons.js';
import type { InstanceStatus } from './instance.js';
import type { InterfaceRecord } from './interfaces.js';
import type { HookRun } from './ports/index.js';

export interface DaemonStatus {
  readonly pid: number;
  readonly configFile: string;
  /** Wall-clock ms since the epoch. */
  readonly startedAtMs: number;
  readonly reloads: number;
  readonly instances: readonly (InstanceStatus & { readonly lastHooks: readonly HookRun[] })[];
  readonly interfaces: Readonly<Record<string, Readonly<InterfaceRecord>>>;
  readonly syncGroups: readonly { readonly name: string; readonly members: readonly string[] }[];
  readonly eventLoop: { readonly maxLagMs: number; readonly lateTimers: number };
}

/** An instance's status with every drop reason listed (zeros included) and its last hook runs. */
export function instanceStatus(s: InstanceStatus, lastHooks: readonly HookRun[]): DaemonStatus['instances'][number] {
  const drops: Record<string, number> = {};
  for (const r of DROP_REASONS) drops[r] = s.drops[r] ?? 0;
  return { ...s, drops, lastHooks };
}
