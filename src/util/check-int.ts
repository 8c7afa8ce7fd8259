/**
 * Range check for values that come from validated inputs (a failure is a bug, so it throws).
 * Throws RangeError "`what` must be an integer in min..max, got v".
 */
export function checkInt(v: number, min: number, max: number, what: string): void {
  if (!Number.isInteger(v) || v < min || v > max) throw new RangeError(`${what} must be an integer in ${min}..${max}, got ${v}`);
}
