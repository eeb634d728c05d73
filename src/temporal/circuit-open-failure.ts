import { ApplicationFailure } from '@temporalio/common';
import type { BreakerStatus } from '../breaker/status';

import { CIRCUIT_OPEN_ERROR_TYPE } from './names';

export { CIRCUIT_OPEN_ERROR_TYPE };

/**
 * The failure an activity fails with while its circuit rejects calls. It is retryable, and its
 * `nextRetryDelay` makes Temporal's retry wait durably until a probe may be admitted.
 */
export function circuitOpenFailure(status: BreakerStatus, retryAfterMs: number): ApplicationFailure {
  const what = status.forced ? 'forced open' : status.state;
  return ApplicationFailure.create({
    type: CIRCUIT_OPEN_ERROR_TYPE,
    message: `circuit '${status.collector_name}' is ${what}; next attempt in ${Math.ceil(retryAfterMs / 1000)} s`,
    details: [status],
    nonRetryable: false,
    nextRetryDelay: retryAfterMs,
  });
}

/** True for a failure (or an ActivityFailure whose cause is one) raised because a circuit was open. */
export function isCircuitOpenFailure(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = (e as Error & { cause?: unknown }).cause) {
    if (e instanceof ApplicationFailure && e.type === CIRCUIT_OPEN_ERROR_TYPE) return true;
  }
  return false;
}
