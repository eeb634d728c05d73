/**
 * The right to make one call, issued by `acquire`. It carries the epoch (state period) and the
 * incarnation (history) it was issued in: its outcome moves state only while that period lasts.
 * A half-open probe also holds a lease on one of the half-open slots until `leaseExpiresAt`.
 */
export interface Permit {
  breaker: string;
  epoch: number;
  /**
   * The incarnation of the state it was issued from (absent when that state had none: never
   * stored, or written before incarnations). An outcome moves state only in that incarnation.
   */
  incarnation?: string;
  /** Set for half-open probes: the slot's id within its half-open period. */
  probeId: number | null;
  issuedAt: number;
  leaseExpiresAt: number | null;
  /** Issued by the in-process fallback while the shared store was unreachable. */
  fallback?: true;
}

/** `ignored`: the call ended in an error that must not count (the caller's own fault); a probe's slot is freed. */
export type Outcome = 'success' | 'failure' | 'ignored';

/**
 * What a caller knows about a finished call beside its outcome. The rate modes read them (a slow
 * call, the quorum of failing workers); the consecutive mode ignores them.
 */
export interface OutcomeDetails {
  /** How long the attempt ran (ms, from a monotonic clock). Absent: not slow. */
  durationMs?: number;
  /** The identity of the worker that made the call (for Temporal: the worker's identity). */
  worker?: string;
}

export type BreakerCommand = 'forceOpen' | 'forceClose' | 'reset';
