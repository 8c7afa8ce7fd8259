/**
 * `vrrp_sync_group` coordinator (docs/keepalived-behaviour.md 2.5, keepalived/vrrp/vrrp_sync.c): a pure step over
 * the snapshots of a group's members. Members move together:
 *  - any member entering FAULT pulls every other member into FAULT; they leave FAULT only when no
 *    member has a fault of its own;
 *  - a member whose down timer expires goes MASTER only if every other member is or wants to be
 *    MASTER (`vrrp_sync_can_goto_master()`); when one goes MASTER the others follow;
 *  - a member leaving MASTER for BACKUP forces the other masters to BACKUP.
 */
import type { FsmAction, FsmEvent, InstanceSnapshot, SyncContext } from './fsm-types.js';
import { step } from './fsm.js';

export interface SyncGroupSnapshot {
  /** `vrrp_sync_group NAME`. */
  readonly name: string;
  /** Member instance snapshots by instance name. */
  readonly members: Readonly<Record<string, InstanceSnapshot>>;
}

export interface SyncGroupStepResult {
  readonly group: SyncGroupSnapshot;
  /** Actions per member, in the order they must be performed (the event's member first). */
  readonly actions: readonly { readonly member: string; readonly actions: readonly FsmAction[] }[];
  /** Group notify to run ("VRRP_Group(NAME) Syncing instances to X state"), if the group moved. */
  readonly groupNotify: 'MASTER' | 'BACKUP' | 'FAULT' | null;
}

function contextFor(g: SyncGroupSnapshot, member: string): SyncContext {
  const others = Object.entries(g.members)
    .filter(([n]) => n !== member)
    .map(([, s]) => s);
  return {
    blocksMaster: others.some((o) => o.state !== 'MASTER' && o.wantState !== 'MASTER'),
    holdsFault: others.some((o) => o.faults.length > 0),
  };
}

/** Step one member with an event and propagate its transition to the rest of the group. */
export function stepSyncGroup(g: SyncGroupSnapshot, member: string, e: FsmEvent): SyncGroupStepResult {
  const before = g.members[member];
  if (before === undefined) throw new Error(`bug: ${member} is not a member of sync group ${g.name}`);
  const r = step(before, e, contextFor(g, member));
  let members: Record<string, InstanceSnapshot> = { ...g.members, [member]: r.snapshot };
  const out: { member: string; actions: readonly FsmAction[] }[] = [{ member, actions: r.actions }];
  const from = before.state;
  const to = r.snapshot.state;

  let target: 'MASTER' | 'BACKUP' | 'FAULT' | 'FAULT-CLEARED' | null = null;
  if (to !== from) {
    if (to === 'FAULT') target = 'FAULT';
    else if (from === 'FAULT' && to !== 'STOP') target = 'FAULT-CLEARED';
    else if (to === 'MASTER') target = 'MASTER';
    else if (from === 'MASTER' && to === 'BACKUP') target = 'BACKUP';
  }
  let groupNotify: SyncGroupStepResult['groupNotify'] = null;
  if (target !== null) {
    for (const [name, snap] of Object.entries(members)) {
      if (name === member) continue;
      const ctx = contextFor({ name: g.name, members }, name);
      const rr = step(snap, { type: 'sync', group: g.name, to: target, nowMs: e.nowMs }, ctx);
      members = { ...members, [name]: rr.snapshot };
      if (rr.actions.length > 0) out.push({ member: name, actions: rr.actions });
    }
    groupNotify = target === 'FAULT-CLEARED' ? 'BACKUP' : target;
  }
  return { group: { name: g.name, members }, actions: out, groupNotify };
}
