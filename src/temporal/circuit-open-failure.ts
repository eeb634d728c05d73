import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import type { BreakerStatus } from '../breaker/status';

import { CIRCUIT_OPEN_ERROR_TYPE } from './names';

export { CIRCUIT_OPEN_ERROR_TYPE };

/**
 * The failure an activity fails with while its circuit rejects calls. It is retryable, and its
 * `nextRetryDelay` makes Temporal's retry wait durably until a probe may be admitted. It is
 * BENIGN: the worker logs it at DEBUG and counts no failed activity in its metrics, so an outage
 * does not flood the logs with one error per short-circuited call.
 */
export function circuitOpenFailure(status: BreakerStatus, retryAfterMs: number): ApplicationFailure {
  const what = status.forced ? 'forced open' : status.state;
  return ApplicationFailure.create({
    type: CIRCUIT_OPEN_ERROR_TYPE,
    message: `circuit '${status.collector_name}' is ${what}; next attempt in ${Math.ceil(retryAfterMs / 1000)} s`,
    details: [status],
    nonRetryable: false,
    nextRetryDelay: retryAfterMs,
    category: ApplicationFailureCategory.BENIGN,
  });
}
