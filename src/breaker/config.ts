import { z } from 'zod';
import { BreakerConfigError } from './errors';

export const BREAKER_NAME_PATTERN = /^[A-Za-z0-9_.-]+$/;

/**
 * The longest breaker name: `circuit-breaker:{name}` must stay far inside Temporal's workflow-id
 * limit (1000 bytes by default), and the Redis key, logs and metrics carry it too.
 */
export const MAX_BREAKER_NAME_LENGTH = 200;

/**
 * What is wrong with a breaker name, or null when it is a valid one. `__proto__` is refused: a
 * plain object (a config file, a `breakers` option) cannot hold it as an own key, so it would
 * vanish silently or be looked up through the prototype.
 */
export function breakerNameProblem(name: unknown, what = 'breaker names'): string | null {
  if (typeof name !== 'string') return `${what} must be strings`;
  if (name.length > MAX_BREAKER_NAME_LENGTH) return `${what} must be at most ${MAX_BREAKER_NAME_LENGTH} characters (got ${name.length})`;
  if (!BREAKER_NAME_PATTERN.test(name)) return `${what} must match [A-Za-z0-9_.-]+`;
  if (name === '__proto__') return `${what} must not be __proto__ (never an own property of a plain object)`;
  return null;
}

const positiveInt = (what: string) =>
  z
    .number({ error: `${what} must be a number` })
    .int({ error: `${what} must be a whole number` })
    .positive({ error: `${what} must be greater than 0` });

/**
 * The longest open period (30 days): past it a value is a typo, and every instant the breaker
 * computes from it (open_until) must stay a date JavaScript can render.
 */
export const MAX_OPEN_PERIOD_SECONDS = 30 * 86_400;

const openPeriod = (what: string) =>
  positiveInt(what).max(MAX_OPEN_PERIOD_SECONDS, { error: `${what} must be at most ${MAX_OPEN_PERIOD_SECONDS} (30 days)` });

export const OPENING_MODES = ['consecutive', 'count-window', 'time-window'] as const;
export type OpeningMode = (typeof OPENING_MODES)[number];
/** The largest count window (calls): its stored ring holds one byte per call. */
export const MAX_COUNT_WINDOW_CALLS = 1000;
export const MAX_TIME_WINDOW_SECONDS = 3600;
/** The largest quorum: the state remembers at most this many failing workers. */
export const MAX_FAILING_WORKERS = 16;

const percent = (what: string) =>
  z
    .number({ error: `${what} must be a number` })
    .gt(0, { error: `${what} must be greater than 0 (a percentage)` })
    .max(100, { error: `${what} must be at most 100 (a percentage)` });

/** The breaker's fields and defaults, without the cross-field rules. */
export const breakerConfigObject = z
  .object({
    collectorName: z
      .string({ error: 'collectorName must be a string' })
      .regex(BREAKER_NAME_PATTERN, { error: 'collectorName must match [A-Za-z0-9_.-]+' })
      .max(MAX_BREAKER_NAME_LENGTH, { error: `collectorName must be at most ${MAX_BREAKER_NAME_LENGTH} characters` })
      .refine((n) => n !== '__proto__', { error: 'collectorName must not be __proto__ (never an own property of a plain object)' }),
    failureThreshold: positiveInt('failureThreshold').default(5),
    timeoutSeconds: openPeriod('timeoutSeconds').default(300),
    halfOpenMaxCalls: positiveInt('halfOpenMaxCalls').default(3),
    halfOpenSuccessThreshold: positiveInt('halfOpenSuccessThreshold').default(2),
    backoffMultiplier: z
      .number({ error: 'backoffMultiplier must be a number' })
      .min(1, { error: 'backoffMultiplier must be at least 1' })
      .max(100, { error: 'backoffMultiplier must be at most 100' })
      .default(1.5),
    maxTimeoutSeconds: openPeriod('maxTimeoutSeconds').default(3600),
    /**
     * When to open (see opening-rule.ts): `consecutive` (the seed's: failureThreshold failures in a
     * row), `count-window` (rates over the last windowSize calls) or `time-window` (rates over the
     * last windowSize seconds, in at most 20 buckets).
     */
    mode: z.enum(OPENING_MODES, { error: `mode must be one of ${OPENING_MODES.join(', ')}` }).default('consecutive'),
    /** Rate modes: calls (count-window, at most 1000) or seconds (time-window, at most 3600) in the window. */
    windowSize: positiveInt('windowSize').max(MAX_TIME_WINDOW_SECONDS, { error: `windowSize must be at most ${MAX_TIME_WINDOW_SECONDS}` }).default(100),
    /** Rate modes: the least calls the window must hold before a rate can open the circuit. */
    minimumNumberOfCalls: positiveInt('minimumNumberOfCalls').default(100),
    /** Rate modes: the failure rate (percent of the window's calls) that opens the circuit. */
    failureRateThreshold: percent('failureRateThreshold').default(50),
    /** Rate modes: a call that lasts at least this long (ms) is slow, whether it succeeded or failed. */
    slowCallDurationMs: positiveInt('slowCallDurationMs').max(MAX_OPEN_PERIOD_SECONDS * 1000, { error: 'slowCallDurationMs must be at most 30 days' }).default(60_000),
    /** Rate modes: the slow-call rate (percent of the window's calls) that opens the circuit. */
    slowCallRateThreshold: percent('slowCallRateThreshold').default(100),
    /**
     * Quorum (rate modes): the circuit opens only when the window's failing (or slow) calls come
     * from at least this many distinct workers. 1: off.
     */
    minFailingWorkers: positiveInt('minFailingWorkers').max(MAX_FAILING_WORKERS, { error: `minFailingWorkers must be at most ${MAX_FAILING_WORKERS}` }).default(1),
  })
  .strict();

/** The breaker's configuration, with the seed's defaults and cross-field rules. */
export const breakerConfigSchema = breakerConfigObject.superRefine((c, ctx) => {
    if (c.halfOpenSuccessThreshold > c.halfOpenMaxCalls) {
      ctx.addIssue({
        code: 'custom',
        path: ['halfOpenSuccessThreshold'],
        message: `halfOpenSuccessThreshold (${c.halfOpenSuccessThreshold}) must be ≤ halfOpenMaxCalls (${c.halfOpenMaxCalls})`,
      });
    }
    if (c.maxTimeoutSeconds < c.timeoutSeconds) {
      ctx.addIssue({
        code: 'custom',
        path: ['maxTimeoutSeconds'],
        message: `maxTimeoutSeconds (${c.maxTimeoutSeconds}) must be ≥ timeoutSeconds (${c.timeoutSeconds})`,
      });
    }
    if (c.mode === 'count-window' && c.windowSize > MAX_COUNT_WINDOW_CALLS) {
      ctx.addIssue({
        code: 'custom',
        path: ['windowSize'],
        message: `windowSize (${c.windowSize}) must be at most ${MAX_COUNT_WINDOW_CALLS} calls in count-window mode`,
      });
    }
    if (c.mode === 'count-window' && c.minimumNumberOfCalls > c.windowSize) {
      ctx.addIssue({
        code: 'custom',
        path: ['minimumNumberOfCalls'],
        message: `minimumNumberOfCalls (${c.minimumNumberOfCalls}) must be ≤ windowSize (${c.windowSize}): a count window never holds more calls`,
      });
    }
    if (c.mode === 'consecutive' && c.minFailingWorkers > 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['minFailingWorkers'],
        message: `minFailingWorkers (${c.minFailingWorkers}) needs a window: set mode to count-window or time-window`,
      });
    }
  });

export type BreakerConfigInput = z.input<typeof breakerConfigSchema>;
export type BreakerConfig = Readonly<z.output<typeof breakerConfigSchema>>;

/** Validates a configuration; the error names every offending field and its rule. */
export function parseBreakerConfig(input: unknown): BreakerConfig {
  const result = breakerConfigSchema.safeParse(input);
  if (result.success) return Object.freeze(result.data);
  const name =
    typeof input === 'object' && input !== null && typeof (input as { collectorName?: unknown }).collectorName === 'string'
      ? (input as { collectorName: string }).collectorName
      : undefined;
  throw new BreakerConfigError(
    result.error.issues.map((i) => ({ field: i.path.join('.') || '(root)', message: i.message })),
    name,
  );
}
