/**
 * How a collector fails. Every failure is a Temporal ApplicationFailure whose first detail is
 * an UpstreamErrorDetails (provider, HTTP status, ...):
 * - the caller's own fault (4xx except 408/429, invalid input, missing config): non-retryable,
 *   so neither Temporal's retry nor the breaker counts it against the provider;
 * - the provider's fault (5xx, 408, 429, timeout, connection refused, malformed payload): retryable.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { z } from 'zod';
import { RESULT_STORE_ERROR_TYPE } from '../../src/worker';
import type { ProviderName } from './providers';

export const UPSTREAM_ERROR_TYPES = {
  clientError: 'UpstreamClientError',
  serverError: 'UpstreamServerError',
  rateLimited: 'UpstreamRateLimited',
  timeout: 'UpstreamTimeout',
  connection: 'UpstreamConnectionError',
  malformed: 'MalformedPayload',
  invalidInput: 'InvalidCollectorInput',
  notConfigured: 'CollectorNotConfigured',
} as const;
export type UpstreamErrorType = (typeof UPSTREAM_ERROR_TYPES)[keyof typeof UPSTREAM_ERROR_TYPES];

/** Error types a collector throws as non-retryable (the caller's own fault). */
export const NON_RETRYABLE_UPSTREAM_ERROR_TYPES: readonly UpstreamErrorType[] = [
  UPSTREAM_ERROR_TYPES.clientError,
  UPSTREAM_ERROR_TYPES.invalidInput,
  UPSTREAM_ERROR_TYPES.notConfigured,
];

export interface FieldIssue {
  field: string;
  message: string;
}

export interface UpstreamErrorDetails {
  provider: ProviderName;
  /** Method and URL of the call (no credentials: keys travel in headers). */
  request?: string;
  /** HTTP status, when the provider answered. */
  status?: number;
  /** From a Retry-After header, when present. */
  retryAfterMs?: number;
  /** Start of the provider's error body. */
  body?: string;
  /** The first offending field (malformed payload, invalid input, bad config). */
  field?: string;
  issues?: FieldIssue[];
  timeoutMs?: number;
}

function failure(type: UpstreamErrorType, nonRetryable: boolean, message: string, details: UpstreamErrorDetails, cause?: Error): ApplicationFailure {
  return ApplicationFailure.create({ message, type, nonRetryable, details: [details], cause });
}

/** `['data', 0, 'id']` → `data[0].id`; `[]` → `(root)`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out || '(root)';
}

export function zodIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((k) => ({ field: formatPath([...issue.path, k]), message: `unknown field "${k}"` }))
      : [{ field: formatPath(issue.path), message: issue.message }],
  );
}

function summarize(issues: FieldIssue[]): string {
  const shown = issues.slice(0, 3).map((i) => `${i.field}: ${i.message}`);
  return shown.join('; ') + (issues.length > 3 ? ` (+${issues.length - 3} more)` : '');
}

export function statusError(provider: ProviderName, status: number, details: Omit<UpstreamErrorDetails, 'provider' | 'status'>): ApplicationFailure {
  const why = details.body ? `: ${details.body}` : '';
  const base = `${provider}: HTTP ${status} from ${details.request ?? 'upstream'}${why}`;
  const d = { provider, status, ...details };
  if (status === 408) return failure(UPSTREAM_ERROR_TYPES.timeout, false, base, d);
  if (status === 429) return failure(UPSTREAM_ERROR_TYPES.rateLimited, false, base, d);
  if (status >= 400 && status < 500) return failure(UPSTREAM_ERROR_TYPES.clientError, true, base, d);
  return failure(UPSTREAM_ERROR_TYPES.serverError, false, base, d);
}

export function timeoutError(provider: ProviderName, request: string, timeoutMs: number, cause?: Error): ApplicationFailure {
  return failure(UPSTREAM_ERROR_TYPES.timeout, false, `${provider}: no answer within ${timeoutMs} ms from ${request}`, { provider, request, timeoutMs }, cause);
}

export function connectionError(provider: ProviderName, request: string, cause: Error): ApplicationFailure {
  const reason = (cause.cause as Error | undefined)?.message ?? cause.message;
  return failure(UPSTREAM_ERROR_TYPES.connection, false, `${provider}: cannot reach ${request}: ${reason}`, { provider, request }, cause);
}

export function malformedError(provider: ProviderName, request: string, issues: FieldIssue[]): ApplicationFailure {
  return failure(
    UPSTREAM_ERROR_TYPES.malformed,
    false,
    `${provider}: malformed payload from ${request}: ${summarize(issues)}`,
    { provider, request, field: issues[0]?.field, issues },
  );
}

export function invalidInputError(provider: ProviderName, issues: FieldIssue[]): ApplicationFailure {
  return failure(UPSTREAM_ERROR_TYPES.invalidInput, true, `${provider}: invalid collector input: ${summarize(issues)}`, {
    provider,
    field: issues[0]?.field,
    issues,
  });
}

export function notConfiguredError(provider: ProviderName): ApplicationFailure {
  return failure(UPSTREAM_ERROR_TYPES.notConfigured, true, `${provider}: no endpoint configured (providers.${provider})`, {
    provider,
    field: `providers.${provider}`,
  });
}

/**
 * The result store (the worker's Redis) could not be read or written: retryable, and not the
 * provider's fault (the default failure classification does not count it against the breaker).
 */
export function resultStoreError(provider: ProviderName, op: 'read' | 'write', cause: unknown): ApplicationFailure {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return ApplicationFailure.create({
    type: RESULT_STORE_ERROR_TYPE,
    nonRetryable: false,
    message: `${provider}: cannot ${op} the result store: ${reason}`,
    details: [{ provider }],
    cause: cause instanceof Error ? cause : undefined,
  });
}

/** The UpstreamErrorDetails a collector failure carries (also after a round trip through Temporal). */
export function upstreamErrorDetails(err: unknown): UpstreamErrorDetails | undefined {
  if (!(err instanceof ApplicationFailure)) return undefined;
  const d = err.details?.[0];
  return typeof d === 'object' && d !== null && typeof (d as { provider?: unknown }).provider === 'string'
    ? (d as UpstreamErrorDetails)
    : undefined;
}

/** The HTTP status a collector failure carries, if the provider answered. */
export function httpStatusOf(err: unknown): number | undefined {
  return upstreamErrorDetails(err)?.status;
}
