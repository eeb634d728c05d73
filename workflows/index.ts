/**
 * The single entry of the workflow bundle (scripts/bundle-workflows.ts, Worker `workflowsPath`).
 * Re-export every workflow file here. Workflow code is deterministic and imports no Node module:
 * `npm run lint` and `npm run build` both reject one.
 */
export * from './smoke';
// The library's breaker workflow, re-exported as any user of CircuitBreakerPlugin does.
export { circuitBreakerWorkflow } from '../src/workflows';
export * from './collectors';
