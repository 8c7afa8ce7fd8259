/**
 * Reload (docs/keepalived-behaviour.md 6): apply a new, already validated config. Instances matched by VRID,
 * family, interface, unicast/multicast and source/group keep their state, timers and VIPs: a kept
 * MASTER gets its address diff (reload-diff.ts) as actions for its own interpreter (new VIPs added
 * with a GARP burst, removed ones dropped) and sends an advert at once; removed instances stop
 * like SIGTERM (notify DELETED); new ones start. Runs on the work queue, as one item.
 */
import type { FrozenConfig } from '../config/model.js';
import type { Log } from '../log.js';
import type { HostState } from './host-state.js';
import type { Instance } from './instance.js';
import { vmacLinks, type VmacLink } from './addr-vmac.js';
import { vmacStep } from './vmac.js';
import { instanceSpecs, type InstanceSpec } from './params.js';
import type { MonotonicClock } from './ports/index.js';
import { planReload } from './reload-diff.js';
import type { Trackers } from './trackers.js';

/** What a reload changes in the daemon (daemon.ts gives it). */
export interface ReloadTarget {
  readonly log: Log;
  readonly clock: MonotonicClock;
  readonly host: HostState;
  readonly trackers: Trackers;
  instances(): readonly Instance[];
  setInstances(list: readonly Instance[]): void;
  newInstance(spec: InstanceSpec): Instance;
  /** Instances being deleted: their STOP notify reads DELETED. */
  readonly deleting: Set<Instance>;
  /** Take the new config (sync groups, notifier): before any kept instance is reconfigured. */
  configure(cfg: FrozenConfig): void;
  /** The instance set changed: indexes, trackers and sockets follow. */
  instancesChanged(): void;
  /** The ifindex of a VMAC the daemon made and brought up (vmac.ts), else undefined. */
  vmacIfindex(ifname: string): number | undefined;
  /** Initial tracking and source address of a new instance, before its start. */
  prepare(inst: Instance): void;
}

export async function applyReload(d: ReloadTarget, cfg: FrozenConfig): Promise<void> {
  d.log.info({}, 'Reloading');
  const plan = planReload(
    d.instances().map((i) => ({ inst: i, matchKey: i.spec.matchKey })),
    instanceSpecs(cfg),
  );
  // Removed first, so their addresses are gone before a new instance could want them.
  for (const { inst } of plan.removed) {
    d.deleting.add(inst);
    await inst.handle({ type: 'stop', nowMs: d.clock.nowMs() });
    inst.dispose();
    await vmacStep(inst, 'vmac-delete');
    d.deleting.delete(inst);
    d.log.info({ instance: inst.name }, `(${inst.name}) removed by reload`);
  }
  const removed = new Set(plan.removed.map((r) => r.inst));
  d.setInstances(d.instances().filter((i) => !removed.has(i)));
  d.configure(cfg);
  for (const [{ inst }, spec] of plan.kept) await reconfigure(d, inst, spec);
  const fresh = plan.added.map((s) => d.newInstance(s));
  for (const inst of fresh) await vmacStep(inst, 'vmac-create');
  d.setInstances([...d.instances(), ...fresh]);
  d.instancesChanged();
  for (const inst of fresh) d.prepare(inst);
  for (const inst of fresh) await inst.handle({ type: 'start', nowMs: d.clock.nowMs() });
  d.log.info({}, 'Reload complete');
}

/** A kept instance: new settings and address diff, tracking re-evaluated, a MASTER advertises. */
async function reconfigure(d: ReloadTarget, inst: Instance, spec: InstanceSpec): Promise<void> {
  const sockIf = inst.advertIfname;
  // Address VMACs (addr-vmac.ts) follow the VIPs: the new ones made before the VIPs go on them,
  // the old ones removed after the VIPs left them (one whose name a new one takes, first).
  const [before, after] = [vmacLinks(inst.spec), vmacLinks(spec)];
  const added = after.filter((l) => !before.some((b) => sameLink(b, l)));
  const gone = before.filter((l) => !after.some((a) => sameLink(a, l)));
  const clash = gone.filter((g) => added.some((a) => a.ifname === g.ifname));
  await vmacStep(inst, 'vmac-delete', clash);
  await vmacStep(inst, 'vmac-create', added);
  for (const l of added) {
    const ifindex = d.vmacIfindex(l.ifname);
    // (on a parent without carrier the macvlan is not running: its events then tell)
    if (ifindex !== undefined && d.host.isUp(l.parent)) d.host.madeUp(l.ifname, ifindex);
  }
  await inst.reconfigure(spec);
  await vmacStep(
    inst,
    'vmac-delete',
    gone.filter((g) => !clash.includes(g)),
  );
  // `vmac_xmit_base` added or dropped moves the socket (VMAC <-> parent): open it before the source
  // check, which wants a socket where the adverts go (source-address.ts).
  if (inst.advertIfname !== sockIf) d.host.syncSockets();
  // Re-evaluate tracking with the new weights and items (a no-op update triggers it).
  await d.host.refreshSource(inst, false);
  await d.trackers.reevaluate(inst);
  // docs/keepalived-behaviour.md 6 step 5 (`reload_master`): a MASTER advertises at once; the cadence is kept.
  if (inst.state === 'MASTER')
    await inst.apply({ snapshot: inst.snapshot, actions: [{ type: 'send-advert', priority: inst.snapshot.effectivePriority }] });
}

function sameLink(a: VmacLink, b: VmacLink): boolean {
  return a.ifname === b.ifname && a.parent === b.parent && a.mac === b.mac;
}
