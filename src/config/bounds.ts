import { z } from 'zod';

/**
 * Upper bounds of the configuration's durations. Each is far above any sane setting and below
 * what its use can take: Node arms no timer past 2^31−1 ms (it fires after 1 ms instead, again
 * and again), the store waits up to 5 × `redis.timeoutMs` for a command, and a retry delay or a
 * lease must stay a date.
 */
export const BOUNDS = {
  redisTimeoutMs: 60_000,
  redisSnapshotMaxAgeMs: 60_000,
  providerTimeoutMs: 600_000,
  forcedOpenRecheckSeconds: 86_400,
  halfOpenRecheckSeconds: 3_600,
  defaultProbeLeaseSeconds: 30 * 86_400,
} as const;

/** A whole number (> 0, or ≥ 0 with `zero`) at most `max`; the error names the field. */
export const boundedInt = (field: string, max: number, zero: 'zero allowed' | 'positive' = 'positive') => {
  const int = z.number().int();
  return (zero === 'positive' ? int.positive() : int.nonnegative()).max(max, { error: `${field} must be at most ${max}` });
};
