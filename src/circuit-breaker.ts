import { parseBreakerConfig, type BreakerConfig, type BreakerConfigInput } from './breaker/config';
import { CircuitOpenError } from './breaker/errors';
import { performance } from 'node:perf_hooks';
import type { BreakerCommand, Outcome, OutcomeDetails, Permit } from './breaker/permit';
import { toStatus, type BreakerStatus } from './breaker/status';
import type { Decision, RecordResult, Transition } from './breaker/transitions';
import { MemoryBreakerStore } from './store/memory-store';
import { isInstant, type BreakerStore, type InstantBreakerStore, type StoreReply } from './store/store';

export interface CircuitBreakerOptions {
  /** Milliseconds since the epoch. Injected so tests and Temporal time drive the breaker. */
  clock?: () => number;
  /** How long a half-open probe holds its slot if its outcome never arrives. Default 60 s. */
  probeLeaseMs?: number;
  /** Which errors thrown inside `execute` count as failures. Default: every error. */
  isFailure?: (error: unknown) => boolean;
  /** Called after every state transition, in the caller's flow; errors it throws are ignored. */
  onTransition?: (transition: Transition) => void;
  /** This process's identity among the breaker's callers (the quorum of a rate mode counts distinct ones). Default: none given. */
  worker?: string;
}

/** A breaker over a store: the memory store for one process, the Redis store for a fleet. */
export class CircuitBreaker {
  readonly config: BreakerConfig;
  private readonly clock: () => number;
  private readonly probeLeaseMs: number;
  private readonly isFailure: (error: unknown) => boolean;
  private readonly onTransition?: (t: Transition) => void;
  private readonly worker?: string;
  /** The store, when it answers without I/O: `execute` then calls it without awaiting (see InstantBreakerStore). */
  private readonly instant: InstantBreakerStore | null;

  constructor(
    config: BreakerConfigInput | BreakerConfig,
    readonly store: BreakerStore = new MemoryBreakerStore(),
    options: CircuitBreakerOptions = {},
  ) {
    this.config = parseBreakerConfig(config);
    this.clock = options.clock ?? Date.now;
    this.probeLeaseMs = options.probeLeaseMs ?? 60_000;
    this.isFailure = options.isFailure ?? (() => true);
    this.onTransition = options.onTransition;
    this.worker = options.worker;
    this.instant = isInstant(store) ? store : null;
  }

  get name(): string {
    return this.config.collectorName;
  }

  private notify<T extends StoreReply<unknown>>(reply: T): T {
    if (reply.transition && this.onTransition) {
      try {
        this.onTransition(reply.transition);
      } catch {
        // a listener's fault must not fail the call it observes
      }
    }
    return reply;
  }

  async acquire(now: number = this.clock(), options?: { leaseMs?: number }): Promise<Decision> {
    const reply = this.notify(await this.store.acquire(this.config, now, options?.leaseMs ?? this.probeLeaseMs));
    return reply.result;
  }

  /** Like `acquire`, but a rejection carries the status (no extra store round trip). */
  async acquireWithStatus(
    now: number = this.clock(),
    options: { leaseMs?: number } = {},
  ): Promise<{ decision: Decision; status: BreakerStatus | null; transition: Transition | null }> {
    const reply = this.notify(await this.store.acquire(this.config, now, options.leaseMs ?? this.probeLeaseMs));
    return { decision: reply.result, status: reply.result.allowed ? null : toStatus(this.config, reply.state, now), transition: reply.transition };
  }

  recordSuccess(permit: Permit, now: number = this.clock(), details?: OutcomeDetails): Promise<RecordResult> {
    return this.recordOutcome(permit, 'success', now, details);
  }

  recordFailure(permit: Permit, now: number = this.clock(), details?: OutcomeDetails): Promise<RecordResult> {
    return this.recordOutcome(permit, 'failure', now, details);
  }

  /** `details`: the call's duration (the rate modes' slow calls) and worker (default: the `worker` option). */
  async recordOutcome(permit: Permit, outcome: Outcome, now: number = this.clock(), details?: OutcomeDetails): Promise<RecordResult> {
    if (permit.breaker !== this.name) {
      throw new Error(`permit belongs to breaker '${permit.breaker}', not '${this.name}'`);
    }
    return this.notify(await this.store.record(this.config, permit, outcome, now, this.withWorker(details))).result;
  }

  private withWorker(details: OutcomeDetails | undefined): OutcomeDetails | undefined {
    return this.worker !== undefined && details?.worker === undefined ? { ...details, worker: this.worker } : details;
  }

  async forceOpen(now: number = this.clock(), reason?: string): Promise<BreakerStatus> {
    return this.command('forceOpen', now, reason);
  }

  async forceClose(now: number = this.clock(), reason?: string): Promise<BreakerStatus> {
    return this.command('forceClose', now, reason);
  }

  async reset(now: number = this.clock(), reason?: string): Promise<BreakerStatus> {
    return this.command('reset', now, reason);
  }

  async command(cmd: BreakerCommand, now: number = this.clock(), reason?: string): Promise<BreakerStatus> {
    const reply = this.notify(await this.store.command(this.config, cmd, now));
    void reason; // the reason is recorded by the caller's audit trail (the breaker workflow)
    return toStatus(this.config, reply.state, now);
  }

  async getStatus(now: number = this.clock()): Promise<BreakerStatus> {
    return toStatus(this.config, await this.store.load(this.config), now);
  }

  /** Acquires, runs `fn`, records its outcome; throws `CircuitOpenError` without calling `fn` when rejected. */
  async execute<T>(fn: () => Promise<T> | T): Promise<T> {
    const now = this.clock();
    const instant = this.instant;
    const reply = this.notify(instant ? instant.acquireNow(this.config, now, this.probeLeaseMs) : await this.store.acquire(this.config, now, this.probeLeaseMs));
    const decision = reply.result;
    if (!decision.allowed) {
      throw new CircuitOpenError(toStatus(this.config, reply.state, now), decision.retryAfterMs);
    }
    // The attempt's duration (for slow calls), on a monotonic clock: only when the mode reads it.
    const started = this.config.mode === 'consecutive' ? undefined : performance.now();
    let value: T;
    let outcome: Outcome = 'success';
    let failure: unknown;
    try {
      value = await fn();
    } catch (error) {
      outcome = this.isFailure(error) ? 'failure' : 'ignored';
      failure = error;
    }
    const details = this.withWorker(started === undefined ? undefined : { durationMs: performance.now() - started });
    if (instant) this.notify(instant.recordNow(this.config, decision.permit, outcome, this.clock(), details));
    else this.notify(await this.store.record(this.config, decision.permit, outcome, this.clock(), details));
    if (outcome !== 'success') throw failure;
    return value!;
  }
}
