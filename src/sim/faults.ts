/** The fault-injection settings of one provider, validated with zod (an error names the field). */
import { z } from 'zod';

export const MAX_LATENCY_MS = 600_000;

export const faultsSchema = z.strictObject({
  /** Every call answers 503. */
  outage: z.boolean({ error: 'must be true or false' }).optional(),
  /** Fraction of calls (0..1) answering 500, drawn from the provider's seeded stream. */
  errorRate: z
    .number({ error: 'must be a number between 0 and 1' })
    .min(0, { error: 'must be between 0 and 1' })
    .max(1, { error: 'must be between 0 and 1' })
    .optional(),
  /** Delay added before each answer. */
  latencyMs: z
    .number({ error: 'must be a number of milliseconds' })
    .int({ error: 'must be a whole number of milliseconds' })
    .min(0, { error: 'must be ≥ 0' })
    .max(MAX_LATENCY_MS, { error: `must be ≤ ${MAX_LATENCY_MS}` })
    .optional(),
  /** Answers 200 with a body that fails the provider's schema. */
  malformed: z.boolean({ error: 'must be true or false' }).optional(),
  /** Never answers: the request hangs until the client gives up. */
  timeout: z.boolean({ error: 'must be true or false' }).optional(),
  /** Answers 429 with `Retry-After: 1`. */
  rateLimited: z.boolean({ error: 'must be true or false' }).optional(),
});

export type FaultsInput = z.input<typeof faultsSchema>;

/** A provider's current faults (every field present). */
export interface Faults {
  outage: boolean;
  errorRate: number;
  latencyMs: number;
  malformed: boolean;
  timeout: boolean;
  rateLimited: boolean;
}

export const NO_FAULTS: Readonly<Faults> = Object.freeze({
  outage: false,
  errorRate: 0,
  latencyMs: 0,
  malformed: false,
  timeout: false,
  rateLimited: false,
});

export const resetSchema = z
  .strictObject({
    seed: z
      .number({ error: 'must be an integer' })
      .int({ error: 'must be an integer' })
      .optional(),
  })
  .optional();

export type ResetInput = z.input<typeof resetSchema>;

/** A validation failure whose message names every offending field. */
export class InvalidControlInputError extends Error {
  override readonly name = 'InvalidControlInputError';
  constructor(
    readonly what: string,
    readonly issues: readonly { field: string; message: string }[],
  ) {
    super(`invalid ${what}: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`);
  }
}

/** zod issues → `{ field, message }`, with unknown keys named as the field. */
export function describeIssues(error: z.ZodError): { field: string; message: string }[] {
  return error.issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ field: [...issue.path, key].join('.'), message: `unknown field "${key}"` }));
    }
    return [{ field: issue.path.join('.') || '(body)', message: issue.message }];
  });
}

export function parseFaults(input: unknown): FaultsInput {
  const r = faultsSchema.safeParse(input);
  if (!r.success) throw new InvalidControlInputError('faults', describeIssues(r.error));
  return r.data;
}

export function parseReset(input: unknown): ResetInput {
  const r = resetSchema.safeParse(input);
  if (!r.success) throw new InvalidControlInputError('reset', describeIssues(r.error));
  return r.data;
}
