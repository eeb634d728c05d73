/** Names shared by the worker side and the workflows (kept free of Node imports). */
export const BREAKER_WORKFLOW_TYPE = 'circuitBreakerWorkflow';
export const breakerWorkflowId = (name: string): string => `circuit-breaker:${name}`;
export const TRANSITION_SIGNAL = 'transition';
export const BREAKER_STATE_ATTRIBUTE = 'BreakerState';
export const CIRCUIT_OPEN_ERROR_TYPE = 'CircuitOpenError';
/**
 * A collector could not read or write its result store (the worker's own Redis): retryable, and
 * not the provider's fault, so no breaker counts it.
 */
export const RESULT_STORE_ERROR_TYPE = 'ResultStoreUnavailable';
