import type { BreakerStatus } from './status';

/** Thrown (or sent as the ApplicationFailure type) when a circuit rejects a call. */
export class CircuitOpenError extends Error {
  override readonly name = 'CircuitOpenError';
  constructor(
    readonly status: BreakerStatus,
    /** Milliseconds until a probe may be admitted; null while the circuit is forced open. */
    readonly retryAfterMs: number | null,
  ) {
    super(
      `circuit '${status.collector_name}' is ${status.store_unavailable ? 'unavailable: its store cannot be reached' : status.forced ? 'forced open' : status.state}` +
        (retryAfterMs === null ? '' : `; retry in ${retryAfterMs} ms`),
    );
  }
}

export const isCircuitOpenError = (e: unknown): e is CircuitOpenError => e instanceof CircuitOpenError;

export interface ConfigIssue {
  field: string;
  message: string;
}

/** An invalid breaker configuration: the message names each field and the rule it broke. */
export class BreakerConfigError extends Error {
  override readonly name = 'BreakerConfigError';
  constructor(
    readonly issues: ConfigIssue[],
    breaker?: string,
  ) {
    super(
      `invalid breaker config${breaker ? ` for '${breaker}'` : ''}: ` +
        issues.map((i) => `${i.field}: ${i.message}`).join('; '),
    );
  }
}

export const isBreakerConfigError = (e: unknown): e is BreakerConfigError => e instanceof BreakerConfigError;

/** A breaker name nobody configured (or whose breaker workflow is not running): the message names it. */
export class UnknownBreakerError extends Error {
  override readonly name = 'UnknownBreakerError';
  constructor(
    readonly breaker: string,
    known?: Iterable<string>,
    context?: string,
  ) {
    const list = known === undefined ? '' : ` (configured: ${[...known].join(', ') || 'none'})`;
    super(`unknown breaker '${breaker}'${context ? `: ${context}` : ''}${list}`);
  }
}

export const isUnknownBreakerError = (e: unknown): e is UnknownBreakerError => e instanceof UnknownBreakerError;
