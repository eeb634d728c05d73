import type { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { CIRCUIT_OPEN_ERROR_TYPE, RESULT_STORE_ERROR_TYPE } from './names';

/** How an activity's error counts toward its breaker. */
export type ErrorVerdict = 'failure' | 'ignored';

/**
 * Default: the caller's own faults do not count — non-retryable application failures (bad
 * request, auth), cancellations, a CircuitOpenError raised by a nested breaker, and a collector's
 * result store being unreachable (ResultStoreUnavailable: the worker's own Redis, not the
 * provider). Timeouts and every other error count as failures.
 */
export function defaultClassifyError(error: unknown): ErrorVerdict {
  if (error instanceof CancelledFailure) return 'ignored';
  if (error instanceof ApplicationFailure) {
    if (error.type === CIRCUIT_OPEN_ERROR_TYPE || error.type === RESULT_STORE_ERROR_TYPE) return 'ignored';
    if (error.nonRetryable) return 'ignored';
  }
  return 'failure';
}

/**
 * An activity that Temporal paused, reset or cancelled, or whose worker is shutting down, ended
 * for a reason of Temporal's: whatever the error it threw, it says nothing about the upstream.
 * (A heartbeat timeout is different: it counts, as every timeout does.)
 */
export function endedByTemporal(ctx: Pick<Context, 'cancellationDetails'>): boolean {
  const d = ctx.cancellationDetails;
  return d !== undefined && (d.paused || d.reset || d.cancelRequested || d.workerShutdown || d.notFound);
}

/** The user's (or the default) classification, after the reasons that never count. */
export function classifyWithContext(classify: (error: unknown) => ErrorVerdict, error: unknown, ctx: Pick<Context, 'cancellationDetails'>): ErrorVerdict {
  return endedByTemporal(ctx) ? 'ignored' : classify(error);
}
