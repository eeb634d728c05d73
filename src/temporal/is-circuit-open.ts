import { ApplicationFailure } from '@temporalio/common';
import { CIRCUIT_OPEN_ERROR_TYPE } from './names';

/**
 * True for a failure raised because a circuit rejected the call: the `CircuitOpenError`
 * ApplicationFailure itself, or an error whose cause chain holds one (in workflow code, the
 * `ActivityFailure` of a short-circuited activity). Workflow-safe: no Node imports.
 */
export function isCircuitOpen(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 32; e = (e as Error & { cause?: unknown }).cause, depth++) {
    if (e instanceof ApplicationFailure && e.type === CIRCUIT_OPEN_ERROR_TYPE) return true;
  }
  return false;
}
