/**
 * The largest `now` or lease a store accepts: 2^52 ms (the year 144,683), so that `now + lease`
 * stays a safe integer, every instant is a date, and Redis is never sent `inf` or `nan`.
 */
export const MAX_MS = 2 ** 52;

/** A caller-supplied `now` or lease as whole milliseconds (a fraction floored); anything else is a RangeError naming it. */
export function wholeMs(name: 'now' | 'leaseMs', value: number): number {
  if (typeof value === 'number' && value >= 0 && value <= MAX_MS) return Math.floor(value);
  throw new RangeError(`${name} must be a number of milliseconds from 0 to 2^52, got ${String(value)}`);
}
