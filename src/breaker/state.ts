import { z } from 'zod';
import type { BreakerConfig } from './config';
import { windowSchema } from './window';

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

/** An incarnation id: letters, digits, `_` and `-` (see src/store/incarnation.ts). */
export const INCARNATION_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** probe id (as a string key) → lease expiry (ms). An object, so that `{}` is the same in JSON and Lua. */
const leasesSchema = z.record(z.string().regex(/^\d+$/), instant);

/** The half-open bookkeeping of every state but half-open: nothing in flight, nothing counted. */
const noHalfOpen = z.object({
  attempts: z.literal(0),
  successes: z.literal(0),
  nextProbeId: z.literal(0),
  leases: z.record(z.string(), z.never()),
});

/** The opening time: only an open circuit (forced or not) has one (the same reasons as the Lua's). */
const openingTime = z.number({ error: 'an open circuit needs its opening time' }).int().nonnegative();
const noOpeningTime = z.null({ error: 'only an open circuit has one' });
/** A window anywhere but in a closed circuit is a corrupt value (the Lua says the same), not a key to drop. */
const noWindow = z.never({ error: 'only a closed circuit has one' }).optional();

/** What every state has, whatever its circuit state. */
const common = {
  v: z.literal(1),
  epoch: count,
  incarnation: z.string().regex(INCARNATION_PATTERN).optional(),
  failureCount: count,
  consecutiveSuccesses: count,
  timeoutSeconds: z.number().int().positive(),
  lastFailureTime: instant.nullable(),
  lastStateChange: instant.nullable(),
  stats: statisticsSchema,
};

/** Calls flow; a rate mode's sliding window lives here and only here (window.ts). Absent: none (the consecutive mode, values written before the rate modes). */
const closedSchema = z.object({ ...common, state: z.literal('closed'), forced: z.literal(false), openedAt: noOpeningTime, halfOpen: noHalfOpen, window: windowSchema.optional() });
/** Calls rejected until openedAt + timeoutSeconds, then the first acquire half-opens it. */
const openSchema = z.object({ ...common, state: z.literal('open'), forced: z.literal(false), openedAt: openingTime, halfOpen: noHalfOpen, window: noWindow });
/** Calls rejected until an operator's forceClose or reset; openedAt is when it last opened. */
const forcedOpenSchema = z.object({ ...common, state: z.literal('open'), forced: z.literal(true), openedAt: openingTime, halfOpen: noHalfOpen, window: noWindow });
/** At most halfOpenMaxCalls probes, each holding a leased slot. */
const halfOpenSchema = z.object({
  ...common,
  state: z.literal('half-open'),
  forced: z.literal(false),
  openedAt: noOpeningTime,
  halfOpen: z.object({ attempts: count, successes: count, nextProbeId: count, leases: leasesSchema }),
  window: noWindow,
});

/**
 * The persisted state of one breaker: the same JSON in the memory store, in Redis
 * (`cb_state:{name}`) and in the Lua script, whose validation mirrors this schema. A
 * discriminated union: closed | open | forced open (`state: 'open', forced: true`, the stored
 * form of every version so far) | half-open, each with only what it can hold, so that no
 * combination the state machine cannot reach (a window while open, probes while closed, an open
 * circuit without its opening time) type-checks or decodes. `epoch` grows on every state
 * change; permits carry it so that late outcomes of older calls move no state. `incarnation`
 * names the history: a store gives one to a state it writes fresh (no value before, or a corrupt
 * one), so that a permit issued before the key was deleted or an older value restored never
 * matches. Values written before incarnations have none and still read; so do values without a window.
 */
export const breakerStateSchema = z.discriminatedUnion('state', [
  closedSchema,
  z.discriminatedUnion('forced', [openSchema, forcedOpenSchema]),
  halfOpenSchema,
]);

/** Every key a stored state can have, in the order the stores write them (the Lua's encoder is checked against it). */
export const BREAKER_STATE_KEYS = Object.keys({ ...closedSchema.shape, ...halfOpenSchema.shape }) as readonly string[];
export const BREAKER_STATISTICS_KEYS = Object.keys(statisticsSchema.shape) as readonly string[];

export type ClosedState = z.infer<typeof closedSchema>;
export type OpenState = z.infer<typeof openSchema>;
export type ForcedOpenState = z.infer<typeof forcedOpenSchema>;
export type HalfOpenState = z.infer<typeof halfOpenSchema>;

export type BreakerState = z.infer<typeof breakerStateSchema> & {
  /**
   * Never stored: set on the state a store reports while it cannot reach the shared state and
   * its policy rejects every call (the status then says so, with the last state it saw).
   */
  storeUnavailable?: { lastSeen: CircuitStateName | null };
};
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

export const emptyHalfOpen = (): ClosedState['halfOpen'] => ({ attempts: 0, successes: 0, nextProbeId: 0, leases: {} });

export function initialState(config: BreakerConfig, stats: BreakerStatistics = emptyStatistics(), incarnation?: string): BreakerState {
  return {
    v: 1,
    state: 'closed',
    forced: false,
    epoch: 0,
    ...(incarnation === undefined ? {} : { incarnation }),
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
  | {
      ok: false;
      reason: string;
      /** Every statistic that could be read, the others replaced (null: not even an object to read them from). */
      stats: BreakerStatistics | null;
      /** The state with its bad statistics replaced, when they were all that was wrong; else null. */
      state: BreakerState | null;
    };

const describeIssues = (issues: readonly z.core.$ZodIssue[]): string =>
  issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');

/** The statistics of `raw`, each one that does not validate replaced by its empty value. */
function salvageStatistics(raw: unknown): BreakerStatistics {
  const out = emptyStatistics();
  if (typeof raw !== 'object' || raw === null) return out;
  const shape = statisticsSchema.shape;
  for (const key of Object.keys(shape) as (keyof BreakerStatistics)[]) {
    const field = shape[key].safeParse((raw as Record<string, unknown>)[key]);
    if (field.success) (out as Record<string, unknown>)[key] = field.data;
  }
  return out;
}

/**
 * Decodes stored JSON, never throwing: a corrupt value reports why, with every statistic that
 * could be read (only the bad ones replaced) and, when only statistics were bad, the state itself.
 */
export function decodeState(raw: string): DecodeResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (e) {
    return { ok: false, reason: `not JSON (${(e as Error).message})`, stats: null, state: null };
  }
  const result = breakerStateSchema.safeParse(parsed);
  if (result.success) return { ok: true, state: result.data };
  const reason = describeIssues(result.error.issues);
  if (typeof parsed !== 'object' || parsed === null) return { ok: false, reason, stats: null, state: null };
  const stats = salvageStatistics((parsed as { stats?: unknown }).stats);
  const onlyStats = result.error.issues.every((i) => i.path[0] === 'stats');
  const kept = onlyStats ? breakerStateSchema.safeParse({ ...parsed, stats }) : null;
  return { ok: false, reason, stats, state: kept?.success ? kept.data : null };
}

export const encodeState = (s: BreakerState): string => JSON.stringify(s);
