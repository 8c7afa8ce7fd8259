/** vrrp_sync_group coordination (docs/keepalived-behaviour.md 2.5). */
import t from 'tap';
import { stepSyncGroup, type SyncGroupSnapshot } from '../../src/protocol/sync-group.js';
import { initialSnapshot } from '../../src/protocol/fsm.js';
import { HIGHER_IP, params, rx, summary } from '../support/fsm-fixtures.js';
import type { FsmEvent } from '../../src/protocol/fsm-types.js';

const eth0 = [{ name: 'eth0', weight: 0, reverse: false }];

function group(): SyncGroupSnapshot {
  return {
    name: 'VG_1',
    members: {
      VI_1: initialSnapshot(params({ name: 'VI_1', vrid: 51, trackInterfaces: eth0 })),
      VI_2: initialSnapshot(params({ name: 'VI_2', vrid: 52, vips: ['10.0.1.100'] })),
    },
  };
}

function apply(g: SyncGroupSnapshot, member: string, e: FsmEvent): SyncGroupSnapshot {
  return stepSyncGroup(g, member, e).group;
}

/** An advert for VI_2 (VRID 52). */
function rx52(priority: number, nowMs: number): FsmEvent {
  const e = rx(priority, HIGHER_IP, nowMs);
  if (e.type !== 'advert') throw new Error('fixture');
  return { ...e, advert: { ...e.advert, vrid: 52, vips: ['10.0.1.100'] } };
}

const states = (g: SyncGroupSnapshot) => Object.fromEntries(Object.entries(g.members).map(([k, v]) => [k, v.state]));

function started(): SyncGroupSnapshot {
  let g = group();
  g = apply(g, 'VI_1', { type: 'start', nowMs: 0 });
  g = apply(g, 'VI_2', { type: 'start', nowMs: 100 });
  return g;
}

t.test('a member whose timer expires waits (wantstate MASTER) until every member wants MASTER', async (t) => {
  let g = started();
  g = apply(g, 'VI_2', rx52(150, 1000)); // VI_2 hears a master: wants BACKUP
  const r = stepSyncGroup(g, 'VI_1', { type: 'timer', timer: 'master-down', nowMs: 3609 });
  t.same(states(r.group), { VI_1: 'BACKUP', VI_2: 'BACKUP' });
  t.equal(r.group.members['VI_1']?.wantState, 'MASTER');
  t.same(summary(r.actions[0]?.actions ?? []), ['set master-down 7218'], 'the timer is re-armed');
  t.equal(r.groupNotify, null);
});

t.test('when the last member wants MASTER the whole group goes MASTER together', async (t) => {
  let g = started();
  g = apply(g, 'VI_1', { type: 'timer', timer: 'master-down', nowMs: 3609 });
  t.same(states(g), { VI_1: 'BACKUP', VI_2: 'BACKUP' });
  const r = stepSyncGroup(g, 'VI_2', { type: 'timer', timer: 'master-down', nowMs: 3709 });
  t.same(states(r.group), { VI_1: 'MASTER', VI_2: 'MASTER' });
  t.same(
    r.actions.map((x) => x.member),
    ['VI_2', 'VI_1'],
  );
  t.equal(r.groupNotify, 'MASTER');
});

t.test('a member going BACKUP forces the other masters to BACKUP', async (t) => {
  let g = started();
  g = apply(g, 'VI_1', { type: 'timer', timer: 'master-down', nowMs: 3609 });
  g = apply(g, 'VI_2', { type: 'timer', timer: 'master-down', nowMs: 3709 });
  const r2 = stepSyncGroup(g, 'VI_2', rx52(200, 5000));
  t.same(states(r2.group), { VI_1: 'BACKUP', VI_2: 'BACKUP' });
  t.equal(r2.groupNotify, 'BACKUP');
});

t.test('a member fault puts the whole group in FAULT; it recovers when no member has a fault', async (t) => {
  let g = started();
  g = apply(g, 'VI_1', { type: 'timer', timer: 'master-down', nowMs: 3609 });
  g = apply(g, 'VI_2', { type: 'timer', timer: 'master-down', nowMs: 3709 });
  const r = stepSyncGroup(g, 'VI_1', { type: 'track', update: { kind: 'interface', name: 'eth0', up: false }, nowMs: 6000 });
  t.same(states(r.group), { VI_1: 'FAULT', VI_2: 'FAULT' });
  t.equal(r.groupNotify, 'FAULT');
  const vi2 = r.actions.find((x) => x.member === 'VI_2');
  t.same(
    vi2 && summary(vi2.actions).filter((x) => x === 'advert 0'),
    ['advert 0'],
    'the synced master leaves with one priority-0 advert (vrrp_sync_fault), the faulty one with two',
  );
  t.equal(summary(r.actions.find((x) => x.member === 'VI_1')?.actions ?? []).filter((x) => x === 'advert 0').length, 2);
  t.same([r.group.members.VI_1?.counters.priZeroSent, r.group.members.VI_2?.counters.priZeroSent], [1, 0], 'counted as keepalived');
  const back = stepSyncGroup(r.group, 'VI_1', { type: 'track', update: { kind: 'interface', name: 'eth0', up: true }, nowMs: 7000 });
  t.same(states(back.group), { VI_1: 'BACKUP', VI_2: 'BACKUP' });
});

t.test('a member whose own fault clears stays in FAULT while another member is faulty', async (t) => {
  const g0: SyncGroupSnapshot = {
    name: 'VG_1',
    members: {
      VI_1: initialSnapshot(params({ name: 'VI_1', vrid: 51, trackInterfaces: eth0 })),
      VI_2: initialSnapshot(params({ name: 'VI_2', vrid: 52, trackInterfaces: [{ name: 'eth1', weight: 0, reverse: false }] })),
    },
  };
  let g = apply(g0, 'VI_1', { type: 'start', nowMs: 0 });
  g = apply(g, 'VI_2', { type: 'start', nowMs: 0 });
  g = apply(g, 'VI_1', { type: 'track', update: { kind: 'interface', name: 'eth0', up: false }, nowMs: 100 });
  g = apply(g, 'VI_2', { type: 'track', update: { kind: 'interface', name: 'eth1', up: false }, nowMs: 200 });
  g = apply(g, 'VI_1', { type: 'track', update: { kind: 'interface', name: 'eth0', up: true }, nowMs: 300 });
  t.same(states(g), { VI_1: 'FAULT', VI_2: 'FAULT' });
  g = apply(g, 'VI_2', { type: 'track', update: { kind: 'interface', name: 'eth1', up: true }, nowMs: 400 });
  t.same(states(g), { VI_1: 'BACKUP', VI_2: 'BACKUP' });
});
