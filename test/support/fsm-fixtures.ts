/** Fixtures for state machine tests: a standard instance, adverts, snapshots in each state, action summaries. */
import { initialSnapshot, step } from '../../src/protocol/fsm.js';
import type { FsmAction, FsmEvent, InstanceSnapshot, StepResult } from '../../src/protocol/fsm-types.js';
import { makeInstanceParams, type InstanceParams } from '../../src/protocol/instance-params.js';
import type { Advert } from '../../src/protocol/types.js';

export const ME = '10.0.0.2';
export const LOWER_IP = '10.0.0.1';
export const HIGHER_IP = '10.0.0.3';
export const VIP = '10.0.0.100';
export const EVIP = '10.0.0.200';

/** Instance VI_1, VRID 51, our address 10.0.0.2, one VIP, keepalived defaults otherwise. */
export function params(p: Partial<Parameters<typeof makeInstanceParams>[0]> = {}): InstanceParams {
  return makeInstanceParams({ name: 'VI_1', vrid: 51, srcIp: ME, vips: [VIP], ...p });
}

export function advert(priority: number, p: Partial<Advert> = {}): Advert {
  return {
    version: 2,
    type: 1,
    vrid: 51,
    priority,
    authType: 0,
    adverIntSec: 1,
    vips: [VIP],
    authData: new Uint8Array(8),
    ...p,
  };
}

export function rx(priority: number, srcIp: string, nowMs: number): FsmEvent {
  return { type: 'advert', advert: advert(priority), srcIp, nowMs };
}

/** Run events in order, returning the last result. */
export function run(s: InstanceSnapshot, ...events: FsmEvent[]): StepResult {
  let r: StepResult = { snapshot: s, actions: [] };
  for (const e of events) r = step(r.snapshot, e);
  return r;
}

/** Started at 0: BACKUP with the down timer at 3 s + skew. */
export function inBackup(p: InstanceParams = params()): InstanceSnapshot {
  const r = step(initialSnapshot(p), { type: 'start', nowMs: 0 });
  if (r.snapshot.state !== 'BACKUP') throw new Error(`expected BACKUP, got ${r.snapshot.state}`);
  return r.snapshot;
}

/** BACKUP, then MASTER when the down timer fires (at its deadline). */
export function inMaster(p: InstanceParams = params()): InstanceSnapshot {
  const b = inBackup(p);
  const at = b.timers['master-down'];
  if (at === undefined) throw new Error('no down timer');
  const r = step(b, { type: 'timer', timer: 'master-down', nowMs: at });
  if (r.snapshot.state !== 'MASTER') throw new Error(`expected MASTER, got ${r.snapshot.state}`);
  return r.snapshot;
}

export function inFault(p: InstanceParams = params({ trackInterfaces: [{ name: 'eth0', weight: 0, reverse: false }] })): InstanceSnapshot {
  const r = step(inBackup(p), { type: 'track', update: { kind: 'interface', name: 'eth0', up: false }, nowMs: 100 });
  if (r.snapshot.state !== 'FAULT') throw new Error(`expected FAULT, got ${r.snapshot.state}`);
  return r.snapshot;
}

/** A compact, order-preserving text form of actions (log lines omitted unless `withLogs`). */
export function summary(actions: readonly FsmAction[], withLogs = false): string[] {
  const out: string[] = [];
  for (const a of actions) {
    switch (a.type) {
      case 'transition':
        out.push(`transition ${a.from}->${a.to}${a.init ? ' (init)' : ''}`);
        break;
      case 'set-timer':
        out.push(`set ${a.timer} ${a.atMs}`);
        break;
      case 'cancel-timer':
        out.push(`cancel ${a.timer}`);
        break;
      case 'send-advert':
        out.push(`advert ${a.priority}`);
        break;
      case 'add-addresses':
        out.push(`add ${a.kind}`);
        break;
      case 'remove-addresses':
        out.push(`remove ${a.kind}`);
        break;
      case 'send-garp':
        out.push(`garp ${a.burst} x${a.rounds}`);
        break;
      case 'notify':
        out.push(`notify ${a.kind} ${a.priority}`);
        break;
      case 'priority-changed':
        out.push(`priority ${a.from}->${a.to}`);
        break;
      case 'log':
        if (withLogs) out.push(`log ${a.level} ${a.msg}`);
        break;
    }
  }
  return out;
}

export function logs(actions: readonly FsmAction[]): string[] {
  return actions.flatMap((a) => (a.type === 'log' ? [a.msg] : []));
}
