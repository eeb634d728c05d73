/**
 * `temporal-circuit-breaker/workflows`: workflow code only (bundled into Temporal's sandbox; no
 * Node imports reachable from here). Re-export `circuitBreakerWorkflow` from your own workflows
 * module so the plugin's breaker workflows run on your worker:
 *
 *   export { circuitBreakerWorkflow } from 'temporal-circuit-breaker/workflows';
 */
export {
  circuitBreakerWorkflow,
  forceOpenSignal,
  forceCloseSignal,
  resetSignal,
  transitionSignal,
  statusQuery,
  auditQuery,
  refreshStatusUpdate,
  commandUpdate,
  type AuditEntry,
  type CircuitBreakerWorkflowInput,
  type CommandArgs,
} from '../workflows/circuit-breaker';
export { isCircuitOpen } from './temporal/is-circuit-open';
export {
  BREAKER_STATE_ATTRIBUTE,
  BREAKER_WORKFLOW_TYPE,
  CIRCUIT_OPEN_ERROR_TYPE,
  TRANSITION_SIGNAL,
  breakerWorkflowId,
} from './temporal/names';
export type { BreakerStatus } from './breaker/status';
export type { BreakerCommand } from './breaker/permit';
export type { Transition } from './breaker/transitions';
