/**
 * `temporal-circuit-breaker/worker`: what a Temporal worker needs. `CircuitBreakerPlugin` is the
 * one-line setup (`Worker.create({ plugins: [plugin] })`); `createBreakerInterceptors` and
 * `createBreakerControlActivities` are the same pieces for a worker wired by hand.
 */
export { CircuitBreakerPlugin, CIRCUIT_BREAKER_PLUGIN_NAME, type CircuitBreakerPluginOptions } from './temporal/plugin';
export { createBreakerInterceptors, type BreakerInterceptorOptions } from './temporal/activity-interceptor';
export type { ActivityBreakersOption, BreakerSettings, BreakersOption } from './temporal/breaker-registry';
export {
  createBreakerControlActivities,
  type BreakerControlActivities,
  type BreakerControlDeps,
  type BreakerSnapshot,
  type ProbeResult,
} from '../activities/breaker-control';
export { defaultClassifyError, endedByTemporal, type ErrorVerdict } from './temporal/failure-classification';
export { defaultClassifyResult, type ResultVerdict } from './temporal/result-classification';
export { circuitOpenFailure } from './temporal/circuit-open-failure';
export { isCircuitOpen } from './temporal/is-circuit-open';
export { ensureBreakerWorkflows, registerSearchAttributes } from './temporal/breaker-workflows';
export { signalingReporter, noReporter, type TransitionReporter } from './temporal/transition-reporter';
export { temporalClock } from './temporal/time';
export { BREAKER_METRICS, breakerMetrics, type BreakerMetrics } from './temporal/metrics';
export {
  BREAKER_STATE_ATTRIBUTE,
  BREAKER_WORKFLOW_TYPE,
  CIRCUIT_OPEN_ERROR_TYPE,
  RESULT_STORE_ERROR_TYPE,
  breakerWorkflowId,
} from './temporal/names';
