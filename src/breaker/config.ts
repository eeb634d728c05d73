import { z } from 'zod';
import { BreakerConfigError } from './errors';

export const BREAKER_NAME_PATTERN = /^[A-Za-z0-9_.-]+$/;

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

/** The breaker's fields and defaults, without the cross-field rules. */
export const breakerConfigObject = z
  .object({
    collectorName: z
      .string({ error: 'collectorName must be a string' })
      .regex(BREAKER_NAME_PATTERN, { error: 'collectorName must match [A-Za-z0-9_.-]+' }),
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
