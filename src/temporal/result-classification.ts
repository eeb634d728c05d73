/** How an activity's successful result counts toward its breaker. */
export type ResultVerdict = 'success' | 'ignored';

/**
 * Default: a result that says no upstream call was made (`{ upstreamCalled: false }`, e.g. a
 * retried collector that found its result already stored) says nothing about the provider's
 * health, so it does not count; a half-open probe slot it held is released. Every other result
 * is a success.
 */
export function defaultClassifyResult(result: unknown): ResultVerdict {
  return typeof result === 'object' && result !== null && (result as { upstreamCalled?: unknown }).upstreamCalled === false ? 'ignored' : 'success';
}
