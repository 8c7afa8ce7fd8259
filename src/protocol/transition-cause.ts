/**
 * Why an instance changed state, as one word from a short fixed list: the label of
 * `vrrpd_transitions_total` (a metric label must come from a bounded set, and a transition's
 * reason in words names addresses, scripts and users). The words come from the reasons the state
 * machine gives (fsm.ts, fsm-transitions.ts, fsm-advert.ts, fsm-priority.ts) and the operator's
 * holds (control/manual.ts); a reason none of them matches is `other`, which a test keeps unused.
 */
export const TRANSITION_CAUSES = [
  'init',
  'master_down',
  'preempted',
  'fault',
  'recovered',
  'address_owner',
  'operator',
  'vip_deleted',
  'sync_group',
  'stop',
  'other',
] as const;

export type TransitionCause = (typeof TRANSITION_CAUSES)[number];

const EXACT: Readonly<Record<string, TransitionCause>> = {
  'not started': 'init',
  init: 'init',
  'tracked scripts reported': 'init',
  'master down timer expired': 'master_down',
  'address owner with state MASTER': 'address_owner',
  'tracked items recovered': 'recovered',
  'daemon stopping': 'stop',
};

/** The cause of a transition to `to` given for `reason`. */
export function transitionCause(to: string, reason: string): TransitionCause {
  const exact = EXACT[reason];
  if (exact !== undefined) return exact;
  if (reason.startsWith('sync group ')) return 'sync_group';
  if (/^(higher|equal) priority advert from /.test(reason)) return 'preempted';
  if (/^address \S+ deleted externally$/.test(reason)) return 'vip_deleted';
  if (/^promoted by |^(maintenance|yield|switchover) \(by /.test(reason)) return 'operator';
  // leaveFault with an owner: "<why>; address owner with state MASTER"
  if (reason.endsWith('; address owner with state MASTER')) return 'recovered';
  // every other way into FAULT is the list of what failed (goFault: faults joined)
  if (to === 'FAULT') return 'fault';
  return 'other';
}
