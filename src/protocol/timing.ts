/**
 * VRRPv2 timer arithmetic (RFC 3768 6.1, KEEPALIVED.md 3.4). Pure; every duration is integer ms.
 *
 * Rounding: keepalived computes in microseconds, `(256 - prio) * 1000000 / 256` with integer
 * division (priority 100 -> 609375 us). We keep the DESIGN's single unit (integer ms) and round the
 * skew DOWN to whole ms (609.375 -> 609 ms), so priority 100 with a 1 s interval gives 3609 ms.
 * The error is below 1 ms, and because one priority step is 3.90625 ms the rounded skew stays
 * strictly decreasing in the priority: the node keepalived would let expire first still does.
 */
import { PRIORITY_MAX } from './constants.js';

/** keepalived `vrrp_down_timer_adverts` default: Master_Down_Interval = 3 x interval + skew. */
export const DEFAULT_DOWN_TIMER_ADVERTS = 3;

function checkPriority(priority: number): void {
  if (!Number.isInteger(priority) || priority < 0 || priority > PRIORITY_MAX) {
    throw new RangeError(`priority must be an integer 0..${PRIORITY_MAX}, got ${priority}`);
  }
}

/**
 * RFC 3768 6.1 Skew_Time = (256 - Priority) / 256 seconds, in whole ms (rounded down; see the
 * file comment). VRRPv2 skew does not scale with the advert interval (KEEPALIVED.md 3.4).
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
