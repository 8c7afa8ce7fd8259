/**
 * VRRPv2 timer arithmetic (RFC 3768 6.1, docs/keepalived-behaviour.md 3.4). Pure; every duration is integer ms.
 *
 * Rounding: keepalived computes in microseconds, `(256 - prio) * 1000000 / 256` with integer
 * division (priority 100 -> 609375 us). We keep the DESIGN's single unit (integer ms) and round the
 * skew DOWN to whole ms (609.375 -> 609 ms), so priority 100 with a 1 s interval gives 3609 ms.
 * The error is below 1 ms, and because one priority step is 3.90625 ms the rounded skew stays
 * strictly decreasing in the priority: the node keepalived would let expire first still does.
 */
import { ADVER_INT_MAX_CS, PRIORITY_MAX, PRIORITY_STOP } from './constants.js';

/** keepalived `vrrp_down_timer_adverts` default: Master_Down_Interval = 3 x interval + skew. */
export const DEFAULT_DOWN_TIMER_ADVERTS = 3;

function checkPriority(priority: number): void {
  if (!Number.isInteger(priority) || priority < 0 || priority > PRIORITY_MAX) {
    throw new RangeError(`priority must be an integer 0..${PRIORITY_MAX}, got ${priority}`);
  }
}

/**
 * RFC 3768 6.1 Skew_Time = (256 - Priority) / 256 seconds, in whole ms (rounded down; see the
 * file comment). VRRPv2 skew does not scale with the advert interval (docs/keepalived-behaviour.md 3.4).
 * @param priority effective priority 0..255
 */
export function skewTimeMs(priority: number): number {
  checkPriority(priority);
  return Math.floor(((256 - priority) * 1000) / 256);
}

/** The exact skew in microseconds, as keepalived computes it (integer division). For logs/tests. */
export function skewTimeUs(priority: number): number {
  checkPriority(priority);
  return Math.floor(((256 - priority) * 1_000_000) / 256);
}

/**
 * RFC 3768 6.1 Master_Down_Interval = (3 * Advertisement_Interval) + Skew_time, with keepalived's
 * `down_timer_adverts` in place of 3.
 * @param adverIntMs advertisement interval in ms (a whole number of seconds for v2)
 * @param priority effective priority 0..255
 * @param downTimerAdverts keepalived `down_timer_adverts` (1..100, default 3)
 */
export function masterDownIntervalMs(adverIntMs: number, priority: number, downTimerAdverts: number = DEFAULT_DOWN_TIMER_ADVERTS): number {
  if (!Number.isInteger(adverIntMs) || adverIntMs <= 0) {
    throw new RangeError(`adverIntMs must be a positive integer, got ${adverIntMs}`);
  }
  if (!Number.isInteger(downTimerAdverts) || downTimerAdverts < 1) {
    throw new RangeError(`downTimerAdverts must be a positive integer, got ${downTimerAdverts}`);
  }
  return downTimerAdverts * adverIntMs + skewTimeMs(priority);
}

// ---------------------------------------------------------------------------------------------
// VRRPv3 (RFC 5798 6.1), in centiseconds on the wire and keepalived's microseconds inside.

/** keepalived's TIMER_CENTI_HZ: microseconds per centisecond. */
export const US_PER_CS = 10_000;

function checkIntervalCs(cs: number, what: string): void {
  // 0 is allowed: keepalived adopts a received Max Adver Int of 0 (it has no v3 interval check)
  if (!Number.isInteger(cs) || cs < 0 || cs > ADVER_INT_MAX_CS)
    throw new RangeError(`${what} must be an integer in 0..${ADVER_INT_MAX_CS}, got ${cs}`);
}

/**
 * RFC 5798 6.1 Skew_Time = ((256 - Priority) * Master_Adver_Interval) / 256, in microseconds as
 * keepalived 2.2.7 computes it (`VRRP_TIMER_SKEW_CALC`, whose 625/16 is TIMER_CENTI_HZ / 256):
 * `(256 - priority) * cs * 625 / 16` with integer division at the end. Priority 100 at 10 cs gives
 * 60937 us. Unlike v2 (skewTimeMs) it scales with the interval the backup learned from the master.
 * @param priority effective priority 0..255
 * @param masterAdverIntCs Master_Adver_Interval, centiseconds 0..4095
 */
export function skewTimeV3Us(priority: number, masterAdverIntCs: number): number {
  checkPriority(priority);
  checkIntervalCs(masterAdverIntCs, 'masterAdverIntCs');
  return Math.floor(((256 - priority) * masterAdverIntCs * 625) / 16);
}

/**
 * RFC 5798 6.1 Master_Down_Interval = (3 * Master_Adver_Interval) + Skew_time, in microseconds as
 * keepalived computes it (`VRRP_MS_DOWN_TIMER`), with its `down_timer_adverts` in place of 3.
 * Priority 100 at advert_int 0.1 s: 3 * 100000 + 60937 = 360937 us (the "about 361 ms").
 * @param masterAdverIntCs Master_Adver_Interval, centiseconds 0..4095
 * @param priority effective priority 0..255
 * @param downTimerAdverts keepalived `down_timer_adverts` (1..100, default 3)
 */
export function masterDownIntervalV3Us(
  masterAdverIntCs: number,
  priority: number,
  downTimerAdverts: number = DEFAULT_DOWN_TIMER_ADVERTS,
): number {
  if (!Number.isInteger(downTimerAdverts) || downTimerAdverts < 1) {
    throw new RangeError(`downTimerAdverts must be a positive integer, got ${downTimerAdverts}`);
  }
  return downTimerAdverts * masterAdverIntCs * US_PER_CS + skewTimeV3Us(priority, masterAdverIntCs);
}

/**
 * The same in milliseconds for the state machine: keepalived's microseconds / 1000, NOT rounded
 * (360.937 ms). At 1 cs one priority step is 39 us, so rounding to whole ms would tie priorities
 * keepalived tells apart; the caller's clock takes fractional ms.
 */
export function masterDownIntervalV3Ms(
  masterAdverIntCs: number,
  priority: number,
  downTimerAdverts: number = DEFAULT_DOWN_TIMER_ADVERTS,
): number {
  return masterDownIntervalV3Us(masterAdverIntCs, priority, downTimerAdverts) / 1000;
}

/** Skew_Time in milliseconds (keepalived's microseconds / 1000, not rounded): the wait after a priority-0 advert. */
export function skewTimeV3Ms(priority: number, masterAdverIntCs: number): number {
  return skewTimeV3Us(priority, masterAdverIntCs) / 1000;
}

/** What a v3 instance is doing when an advert passes the receive checks (advert-v3-checks.ts). */
export interface V3AdvertContext {
  state: 'BACKUP' | 'MASTER';
  /** The advert's priority and Max Adver Int (centiseconds). */
  priority: number;
  maxAdverIntCs: number;
  /** Our effective priority. */
  effectivePriority: number;
  /** `nopreempt`. */
  nopreempt: boolean;
  /** BACKUP: a `preempt_delay` is configured and has not yet run out (keepalived then treats the sender as master). */
  preemptDelayPending: boolean;
  /** MASTER: the sender wins a tie on priority (its address is higher than ours). */
  senderWinsTie: boolean;
}

/**
 * The Master_Adver_Interval (centiseconds) an instance uses after an accepted v3 advert, or
 * undefined when keepalived leaves it unchanged. RFC 5798 6.4.2 / 6.4.3: a backup that accepts the
 * advert as from the master sets Master_Adver_Interval to its Max Adver Int. keepalived 2.2.7
 * (`vrrp_state_backup()`, `vrrp_state_master_rx()`):
 * - BACKUP: any non-zero priority it does not preempt (nopreempt, priority >= ours, or a pending
 *   preempt delay) updates it, whatever the interval, 0 included. A priority-0 advert does not
 *   (the wait is then Skew_Time at the interval already learned). A lower-priority advert it will
 *   preempt does not.
 * - MASTER: only an advert that makes it step down (higher priority, or equal and a higher address).
 * The configured advert_int comes back when the instance (re)enters BACKUP from INIT or FAULT
 * (`vrrp_state_leave_fault()`, `vrrp_init_instance_sands` callers); a MASTER keeps sending at its
 * configured advert_int whatever it learned.
 */
export function learnMasterAdverIntCs(c: V3AdvertContext): number | undefined {
  checkIntervalCs(c.maxAdverIntCs, 'maxAdverIntCs');
  if (c.priority === PRIORITY_STOP) return undefined;
  if (c.state === 'BACKUP') {
    const accepted = c.nopreempt || c.priority >= c.effectivePriority || c.preemptDelayPending;
    return accepted ? c.maxAdverIntCs : undefined;
  }
  const stepsDown = c.priority > c.effectivePriority || (c.priority === c.effectivePriority && c.senderWinsTie);
  return stepsDown ? c.maxAdverIntCs : undefined;
}
