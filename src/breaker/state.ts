import { z } from 'zod';
import type { BreakerConfig } from './config';

export type CircuitStateName = 'closed' | 'open' | 'half-open';

const count = z.number().int().nonnegative();
const instant = z.number().int().nonnegative();

const statisticsSchema = z.object({
  totalFailures: count,
  totalSuccesses: count,
  circuitOpens: count,
  successfulRecoveries: count,
  failedRecoveries: count,
  /** Completed open periods only; the status adds the running one. */
  timeInOpenStateMs: count,
  lastOpenTime: instant.nullable(),
});

/**
 * The persisted state of one breaker: the same JSON in the memory store, in Redis
 * (`cb_state:{name}`) and in the Lua scripts. `epoch` grows on every state change;
 * permits carry it so that late outcomes of older calls move no state.
 */
export const breakerStateSchema = z.object({
  v: z.literal(1),
  state: z.enum(['closed', 'open', 'half-open']),
  forced: z.boolean(),
  epoch: count,
  failureCount: count,
  consecutiveSuccesses: count,
  timeoutSeconds: z.number().int().positive(),
  openedAt: instant.nullable(),
  lastFailureTime: instant.nullable(),
  lastStateChange: instant.nullable(),
  halfOpen: z.object({
    attempts: count,
    successes: count,
    nextProbeId: count,
    /** probe id (as a string key) → lease expiry (ms). An object, so that `{}` is the same in JSON and Lua. */
    leases: z.record(z.string().regex(/^\d+$/), instant),
  }),
  stats: statisticsSchema,
}).refine((s) => s.state !== 'open' || s.openedAt !== null, { error: 'openedAt: an open circuit needs its opening time', path: ['openedAt'] });

export type BreakerState = z.infer<typeof breakerStateSchema>;
export type BreakerStatistics = BreakerState['stats'];

export const emptyStatistics = (): BreakerStatistics => ({
  totalFailures: 0,
  totalSuccesses: 0,
  circuitOpens: 0,
  successfulRecoveries: 0,
  failedRecoveries: 0,
  timeInOpenStateMs: 0,
  lastOpenTime: null,
});

export const emptyHalfOpen = (): BreakerState['halfOpen'] => ({ attempts: 0, successes: 0, nextProbeId: 0, leases: {} });

export function initialState(config: BreakerConfig, stats: BreakerStatistics = emptyStatistics()): BreakerState {
  return {
    v: 1,
    state: 'closed',
    forced: false,
    epoch: 0,
    failureCount: 0,
    consecutiveSuccesses: 0,
    timeoutSeconds: config.timeoutSeconds,
    openedAt: null,
    lastFailureTime: null,
    lastStateChange: null,
    halfOpen: emptyHalfOpen(),
    stats,
  };
}

export type DecodeResult =
  | { ok: true; state: BreakerState }
  | { ok: false; reason: string; stats: BreakerStatistics | null };

/** Decodes stored JSON, never throwing: a corrupt value reports why, with whatever statistics survived. */
export function decodeState(raw: string): DecodeResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (e) {
    return { ok: false, reason: `not JSON (${(e as Error).message})`, stats: null };
  }
  const result = breakerStateSchema.safeParse(parsed);
  if (result.success) return { ok: true, state: result.data };
  const reason = result.error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
  const stats =
    typeof parsed === 'object' && parsed !== null ? statisticsSchema.safeParse((parsed as { stats?: unknown }).stats) : null;
  return { ok: false, reason, stats: stats?.success ? stats.data : null };
}

export const encodeState = (s: BreakerState): string => JSON.stringify(s);
