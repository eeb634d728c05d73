/** Names shared by the worker side and the workflows (kept free of Node imports). */
export const BREAKER_WORKFLOW_TYPE = 'circuitBreakerWorkflow';
export const breakerWorkflowId = (name: string): string => `circuit-breaker:${name}`;
export const TRANSITION_SIGNAL = 'transition';
export const BREAKER_STATE_ATTRIBUTE = 'BreakerState';
export const CIRCUIT_OPEN_ERROR_TYPE = 'CircuitOpenError';
