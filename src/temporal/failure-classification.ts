import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { CIRCUIT_OPEN_ERROR_TYPE } from './circuit-open-failure';
import { RESULT_STORE_ERROR_TYPE } from './names';

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
