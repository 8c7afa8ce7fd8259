/**
 * Vocabulary of the VRRP state machine: its snapshot, the events it consumes and the actions it
 * emits. Pure data; see fsm.ts for the rules.
 */
import type { Advert, AdvertV3, VrrpState } from './types.js';
import type { InstanceParams } from './instance-params.js';
import type { TrackingState, TrackUpdate } from './tracking.js';
import type { SendGarpAction } from './garp-schedule.js';

/**
 * Timers the state machine arms. The runtime keeps at most one per name and instance: a
 * `set-timer` replaces the pending one. It must not deliver a timer event before `atMs`; early or
 * stale timer events (the snapshot no longer holds that deadline) are ignored by `step()`.
 */
export type TimerName =
  /** MASTER: send the next advert (RFC 3768 6.4.3 Adver_Timer). */
  | 'adver'
  /** BACKUP: Master_Down_Timer (RFC 3768 6.4.2). */
  | 'master-down'
  /** MASTER: the second GARP burst, `garp_master_delay` after becoming MASTER. */
  | 'garp-delay'
  /** MASTER: the second lower-priority GARP burst, `garp_lower_prio_delay` after the first. */
  | 'garp-lower-prio';

export const TIMER_NAMES: readonly TimerName[] = ['adver', 'master-down', 'garp-delay', 'garp-lower-prio'];

/** Instance-level notify kinds (docs/keepalived-behaviour.md 4.1/4.2). */
export type NotifyKind = 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP' | 'MASTER_RX_LOWER_PRI';

/** Per-instance counters for `vrrpd status` (keepalived's stats dump names in comments). */
export interface InstanceCounters {
  /** Advertisements Received (valid ones handed to the state machine). */
  readonly advertRcvd: number;
  /** Became master. */
  readonly becomeMaster: number;
  /** Released master. */
  readonly releaseMaster: number;
  /** Priority zero received. */
  readonly priZeroRcvd: number;
  /** Priority zero sent. */
  readonly priZeroSent: number;
  /** Lower-priority adverts discarded while BACKUP (preempting). */
  readonly lowerPrioDiscarded: number;
}

/** Everything the state machine remembers about one instance. Immutable; `step()` returns a new one. */
export interface InstanceSnapshot {
  readonly params: InstanceParams;
  readonly state: VrrpState;
  /** The last transition's reason (for status). */
  readonly reason: string;
  /** Whether `start` has been processed (track events before it are only recorded). */
  readonly started: boolean;
  readonly tracking: TrackingState;
  /** Current faults from tracking (empty = none). */
  readonly faults: readonly string[];
  /** Unweighted scripts without a first result (instance held in INIT). */
  readonly pendingScripts: readonly string[];
  /** Priority used in adverts and comparisons: tracking, owner conflict and override applied. */
  readonly effectivePriority: number;
  /** Manual override (priority-override event), or null. */
  readonly priorityOverride: number | null;
  /** Two owners met: keepalived lowers the local owner to 254 ("CONFIGURATION ERROR"). */
  readonly ownerConflict: boolean;
  /** Pending timer deadlines (monotonic ms), by name. */
  readonly timers: Readonly<Partial<Record<TimerName, number>>>;
  /** End of a running preempt delay (ms), or null when none has been started since entering BACKUP. */
  readonly preemptUntilMs: number | null;
  /**
   * v3: the Master_Adver_Interval (ms) learned from the master's adverts (RFC 5798 6.4.2), which
   * the Master_Down_Interval and Skew_Time use; null = our own advert_int (always null for v2).
   */
  readonly masterAdverIntMs: number | null;
  /** The last accepted master (source IP and priority), for status and skip_check_adv_addr. */
  readonly master: { readonly ip: string; readonly priority: number } | null;
  /** When the next GARP refresh is due (MASTER with garp_master_refresh), else null. */
  readonly garpRefreshDueMs: number | null;
  /** keepalived `wantstate`: what this instance would like to be (used by sync groups). */
  readonly wantState: 'MASTER' | 'BACKUP' | null;
  /** In FAULT because its sync group is, not (only) because of its own tracking. */
  readonly syncFault: boolean;
  readonly counters: InstanceCounters;
}

/**
 * Events. `nowMs` is the monotonic time in ms at which the event happens (an advert's receive
 * time). The runtime passes a microsecond fraction; the state machine only adds and compares, so
 * deadlines keep it (integer-ms callers and tables work unchanged).
 */
export type FsmEvent =
  /** Daemon start: leave INIT (docs/keepalived-behaviour.md 3.5 Startup). */
  | { readonly type: 'start'; readonly nowMs: number }
  | { readonly type: 'timer'; readonly timer: TimerName; readonly nowMs: number }
  /**
   * A received advert that passed every codec check (docs/keepalived-behaviour.md 3.3), with its IP source.
   * Packets that failed a check never reach the state machine (so they never reset a timer).
   */
  | { readonly type: 'advert'; readonly advert: Advert | AdvertV3; readonly srcIp: string; readonly nowMs: number }
  | { readonly type: 'track'; readonly update: TrackUpdate; readonly nowMs: number }
  /** Netlink reported one of our addresses deleted by someone else (docs/keepalived-behaviour.md 3.8). */
  | { readonly type: 'vip-deleted-externally'; readonly address: string; readonly nowMs: number }
  /** SIGTERM/SIGINT (docs/keepalived-behaviour.md 3.5 STOP). */
  | { readonly type: 'stop'; readonly nowMs: number }
  /** Manual priority (1..255), or null to return to the tracked priority. */
  | { readonly type: 'priority-override'; readonly priority: number | null; readonly nowMs: number }
  /**
   * Manual promotion (`vrrpd promote`): a BACKUP becomes MASTER now, as if its Master_Down_Timer
   * had fired. Sent after a `priority-override` above the current master's, so the master yields.
   */
  | { readonly type: 'take-over'; readonly reason: string; readonly nowMs: number }
  /**
   * Manual hand-over (`vrrpd switchover`, maintenance): a MASTER sends priority 0 and becomes
   * BACKUP, so the best backup takes over after its skew time (RFC 3768 6.4.2).
   */
  | { readonly type: 'hand-over'; readonly reason: string; readonly nowMs: number }
  /** From the sync-group coordinator (docs/keepalived-behaviour.md 2.5): follow the group. */
  | {
      readonly type: 'sync';
      readonly group: string;
      readonly to: 'MASTER' | 'BACKUP' | 'FAULT' | 'FAULT-CLEARED';
      readonly nowMs: number;
    };

export type FsmEventType = FsmEvent['type'];

/** Address-like things set while MASTER, in keepalived's order: VIPs, eVIPs, routes, rules. */
export type AddressKind = 'vips' | 'evips' | 'routes' | 'rules';

/** Actions, in the order the runtime must perform them. */
export type FsmAction =
  /** The single state change of a step: log line "(NAME) Entering <to> STATE[ (init)]", counters, status. */
  | {
      readonly type: 'transition';
      readonly from: VrrpState;
      readonly to: VrrpState;
      readonly reason: string;
      /** keepalived's "(init)" suffix: the first state after start-up. */
      readonly init: boolean;
      readonly priority: number;
    }
  | { readonly type: 'set-timer'; readonly timer: TimerName; readonly atMs: number }
  | { readonly type: 'cancel-timer'; readonly timer: TimerName }
  /** Send one advertisement with this priority (0 = leaving) and the instance's VIPs. */
  | { readonly type: 'send-advert'; readonly priority: number }
  /** Add addresses/routes/rules (config order). */
  | { readonly type: 'add-addresses'; readonly kind: AddressKind; readonly items: readonly string[] }
  /** Remove addresses/routes/rules; missing ones are not an error. */
  | { readonly type: 'remove-addresses'; readonly kind: AddressKind; readonly items: readonly string[] }
  | SendGarpAction
  /** Run the instance notifies for this kind (script, `notify`, FIFO), with the effective priority. */
  | { readonly type: 'notify'; readonly kind: NotifyKind; readonly priority: number }
  /** "(NAME) Changing effective priority from X to Y" (+ FIFO MASTER_PRIORITY/BACKUP_PRIORITY). */
  | { readonly type: 'priority-changed'; readonly from: number; readonly to: number }
  /** A keepalived-style log line without the "(NAME) " prefix. `debug` = keepalived's -D lines. */
  | { readonly type: 'log'; readonly level: 'debug' | 'info' | 'warn' | 'error'; readonly msg: string };

export type FsmActionType = FsmAction['type'];

export interface StepResult {
  readonly snapshot: InstanceSnapshot;
  readonly actions: readonly FsmAction[];
}

/** What a sync-group coordinator tells `step()` about the other members. */
export interface SyncContext {
  /** Some other member neither is nor wants to be MASTER: a down-timer expiry must not go MASTER. */
  readonly blocksMaster: boolean;
  /** Some other member has its own fault: this member must stay in FAULT. */
  readonly holdsFault: boolean;
}
