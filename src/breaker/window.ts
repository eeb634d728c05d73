import { z } from 'zod';
import { MAX_COUNT_WINDOW_CALLS, MAX_FAILING_WORKERS, MAX_TIME_WINDOW_SECONDS, type BreakerConfig } from './config';

/**
 * The sliding window of a rate mode, kept in the breaker's state (only while it is closed: every
 * change of state drops it). Its size is bounded whatever the call rate: a count window holds one
 * byte per call of its last `size` calls, a time window at most TIME_BUCKETS buckets of three
 * counts, and either remembers at most MAX_FAILING_WORKERS workers. Lua mirrors every rule here
 * (src/store/lua/breaker.lua).
 */

/** One call in a count window's ring: o = ok, s = slow success, f = failure, x = slow failure. */
export type RingChar = 'o' | 's' | 'f' | 'x';

/** A time window keeps at most this many buckets: bucketMs = size × 1000 / min(size, 20). */
export const TIME_BUCKETS = 20;

/** A worker's key in a window: 8 hex digits (see workerKey). */
export const WORKER_KEY_PATTERN = /^[0-9a-f]{8}$/;

const count = z.number().int().nonnegative();

const workersSchema = z
  .record(z.string().regex(WORKER_KEY_PATTERN), count)
  .refine((w) => Object.keys(w).length <= MAX_FAILING_WORKERS, { error: `at most ${MAX_FAILING_WORKERS} workers` });

export const countWindowSchema = z.object({
  kind: z.literal('count'),
  size: z.number().int().min(1).max(MAX_COUNT_WINDOW_CALLS),
  /** Calls recorded into this window since it started (a worker's entry is the seq of its last bad call). */
  seq: count,
  /** failing (or slow) worker key → seq of its last bad call. */
  workers: workersSchema,
  /** The last `size` calls, oldest first. */
  ring: z.string().regex(new RegExp(`^[ofsx]{0,${MAX_COUNT_WINDOW_CALLS}}$`)),
});

export const timeWindowSchema = z.object({
  kind: z.literal('time'),
  /** Seconds. */
  size: z.number().int().min(1).max(MAX_TIME_WINDOW_SECONDS),
  /** Index (floor(now / bucketMs)) of the newest bucket, buckets[0]. */
  head: count,
  /** failing (or slow) worker key → bucket index of its last bad call. */
  workers: workersSchema,
  /** [calls, failures, slow calls] per bucket, newest first: buckets[i] is bucket head - i. Never ends with an empty bucket but the head. */
  buckets: z.array(z.tuple([count, count, count])).min(1).max(TIME_BUCKETS),
});

export const windowSchema = z.discriminatedUnion('kind', [countWindowSchema, timeWindowSchema]);

export type CountWindow = z.infer<typeof countWindowSchema>;
export type TimeWindow = z.infer<typeof timeWindowSchema>;
export type SlidingWindow = CountWindow | TimeWindow;

export const timeBuckets = (sizeSeconds: number): number => Math.min(sizeSeconds, TIME_BUCKETS);
export const bucketMs = (sizeSeconds: number): number => (sizeSeconds * 1000) / timeBuckets(sizeSeconds);

/** Whether a call of `durationMs` is slow under `cfg` (no duration: not slow). */
export const isSlow = (cfg: BreakerConfig, durationMs: number | undefined): boolean =>
  durationMs !== undefined && Number.isFinite(durationMs) && durationMs >= cfg.slowCallDurationMs;

/**
 * A worker identity's key in a window: djb2 over its UTF-8 bytes, mod 2^32, as 8 hex digits, so
 * that a window's memory of workers stays small and bounded whatever the identities look like.
 * No identity is one anonymous worker (the key of '').
 */
export function workerKey(worker: string | undefined): string {
  let h = 5381;
  const bytes = utf8(worker ?? '');
  for (let i = 0; i < bytes.length; i++) h = (h * 33 + bytes[i]) % 4294967296;
  return h.toString(16).padStart(8, '0');
}

/** UTF-8 bytes without TextEncoder (this module also runs in workflow code). */
function utf8(s: string): number[] {
  const out: number[] = [];
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return out;
}

/** What a window holds, as the status reports it and as the opening decision reads it. */
export interface WindowFigures {
  calls: number;
  failures: number;
  slow: number;
  /** Distinct workers with a failing or slow call in the window (as far as the window remembers them). */
  failingWorkers: number;
}

/** The rates (percent) of a window's figures; 0 with no calls. */
export const failureRate = (f: WindowFigures): number => (f.calls === 0 ? 0 : (100 * f.failures) / f.calls);
export const slowCallRate = (f: WindowFigures): number => (f.calls === 0 ? 0 : (100 * f.slow) / f.calls);

/**
 * The rule every rate mode shares: once the window holds minimumNumberOfCalls, a failure rate or
 * a slow-call rate at its threshold opens the circuit, if the quorum of failing workers is met.
 * Integer-exact comparisons (count × 100 ≥ threshold × calls), the same in Lua.
 */
export const ratesOpen = (cfg: BreakerConfig, f: WindowFigures): boolean =>
  f.calls >= cfg.minimumNumberOfCalls &&
  (f.failures * 100 >= cfg.failureRateThreshold * f.calls || f.slow * 100 >= cfg.slowCallRateThreshold * f.calls) &&
  (cfg.minFailingWorkers <= 1 || f.failingWorkers >= cfg.minFailingWorkers);

/**
 * The quorum's memory: the workers whose last bad call is after `oldest` (exclusive), `key` noted
 * at `at`, and at most `limit` kept, the ones with the latest bad calls (ties: the smaller key
 * goes). Keeping the `limit` latest is exact for the question the quorum asks (are there at least
 * `limit` distinct workers in the window?).
 */
export function noteWorker(workers: Readonly<Record<string, number>>, key: string, at: number, oldest: number, limit: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(workers)) if (v > oldest) out[k] = v;
  out[key] = Math.max(out[key] ?? at, at);
  let keys = Object.keys(out);
  while (keys.length > limit) {
    let victim = keys[0];
    for (const k of keys) if (out[k] < out[victim] || (out[k] === out[victim] && k < victim)) victim = k;
    delete out[victim];
    keys = Object.keys(out);
  }
  return out;
}

export const workersAfter = (workers: Readonly<Record<string, number>>, oldest: number): number =>
  Object.values(workers).filter((v) => v > oldest).length;
