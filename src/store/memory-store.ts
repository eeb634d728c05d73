import type { BreakerConfig } from '../breaker/config';
import type { BreakerCommand, Outcome, OutcomeDetails, Permit } from '../breaker/permit';
import { initialState, type BreakerState } from '../breaker/state';
import { acquire, command, record, type Step } from '../breaker/transitions';
import { wholeMs } from './arguments';
import { incarnationIds } from './incarnation';
import type { BreakerStore, StoreReply } from './store';

/** One process's breakers, in a Map. Single-threaded JS makes each operation atomic. */
export class MemoryBreakerStore implements BreakerStore {
  readonly kind = 'memory';
  private readonly states = new Map<string, BreakerState>();
  private readonly incarnation = incarnationIds();

  private apply<R>(cfg: BreakerConfig, op: (s: BreakerState) => Step<R>): StoreReply<R> & { state: BreakerState } {
    const before = this.states.get(cfg.collectorName) ?? initialState(cfg);
    const step = op(before);
    if (step.state !== before) {
      // A state written fresh starts a new incarnation, as in Redis (lua/breaker.lua).
      if (step.state.incarnation === undefined) {
        step.state.incarnation = this.incarnation();
        // and the transition that led to it names it, as the Redis store's does
        if (step.transition) step.transition.incarnation = step.state.incarnation;
      }
      this.states.set(cfg.collectorName, step.state);
    }
    return { result: step.result, transition: step.transition, state: step.state };
  }

  async acquire(cfg: BreakerConfig, now: number, leaseMs: number) {
    const at = wholeMs('now', now);
    const lease = wholeMs('leaseMs', leaseMs);
    return this.apply(cfg, (s) => acquire(cfg, s, at, lease));
  }

  async record(cfg: BreakerConfig, permit: Permit, outcome: Outcome, now: number, details?: OutcomeDetails) {
    const at = wholeMs('now', now);
    return this.apply(cfg, (s) => record(cfg, s, permit, outcome, at, details));
  }

  async command(cfg: BreakerConfig, cmd: BreakerCommand, now: number) {
    const at = wholeMs('now', now);
    return this.apply(cfg, (s) => command(cfg, s, cmd, at));
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
