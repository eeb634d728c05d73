import type { BreakerConfig } from '../breaker/config';
import type { BreakerCommand, Outcome, OutcomeDetails, Permit } from '../breaker/permit';
import { initialState, type BreakerState } from '../breaker/state';
import { acquire, command, record, type Decision, type RecordResult, type Step } from '../breaker/transitions';
import { wholeMs } from './arguments';
import { incarnationIds } from './incarnation';
import type { InstantBreakerStore, StoreReply } from './store';

/**
 * One process's breakers, in a Map. Single-threaded JS makes each operation atomic.
 * `execute` calls acquireNow / recordNow (see InstantBreakerStore): a subclass that changes
 * acquire or record changes those too.
 */
export class MemoryBreakerStore implements InstantBreakerStore {
  readonly kind = 'memory';
  private readonly states = new Map<string, BreakerState>();
  private readonly incarnation = incarnationIds();

  private before(cfg: BreakerConfig): BreakerState {
    return this.states.get(cfg.collectorName) ?? initialState(cfg);
  }

  /** Keeps the step's state; a step is the reply (no copy, no closure: bench row execute-memory). */
  private commit<R>(cfg: BreakerConfig, before: BreakerState, step: Step<R>): Step<R> {
    if (step.state !== before) {
      // A state written fresh starts a new incarnation, as in Redis (lua/breaker.lua).
      if (step.state.incarnation === undefined) {
        step.state.incarnation = this.incarnation();
        // and the transition that led to it names it, as the Redis store's does
        if (step.transition) step.transition.incarnation = step.state.incarnation;
      }
      this.states.set(cfg.collectorName, step.state);
    }
    return step;
  }

  acquireNow(cfg: BreakerConfig, now: number, leaseMs: number): StoreReply<Decision> {
    const at = wholeMs('now', now);
    const lease = wholeMs('leaseMs', leaseMs);
    const before = this.before(cfg);
    return this.commit(cfg, before, acquire(cfg, before, at, lease));
  }

  recordNow(cfg: BreakerConfig, permit: Permit, outcome: Outcome, now: number, details?: OutcomeDetails): StoreReply<RecordResult> {
    const at = wholeMs('now', now);
    const before = this.before(cfg);
    return this.commit(cfg, before, record(cfg, before, permit, outcome, at, details));
  }

  async acquire(cfg: BreakerConfig, now: number, leaseMs: number): Promise<StoreReply<Decision>> {
    return this.acquireNow(cfg, now, leaseMs);
  }

  async record(cfg: BreakerConfig, permit: Permit, outcome: Outcome, now: number, details?: OutcomeDetails): Promise<StoreReply<RecordResult>> {
    return this.recordNow(cfg, permit, outcome, now, details);
  }

  async command(cfg: BreakerConfig, cmd: BreakerCommand, now: number): Promise<StoreReply<null>> {
    const at = wholeMs('now', now);
    const before = this.before(cfg);
    return this.commit(cfg, before, command(cfg, before, cmd, at));
  }

  async load(cfg: BreakerConfig): Promise<BreakerState> {
    return this.states.get(cfg.collectorName) ?? initialState(cfg);
  }

  /** Replaces a breaker's state wholesale (used by the fallback's resync and by tests). */
  set(name: string, state: BreakerState): void {
    this.states.set(name, state);
  }

  delete(name: string): void {
    this.states.delete(name);
  }

  /** Forgets every breaker. */
  clear(): void {
    this.states.clear();
  }
}
