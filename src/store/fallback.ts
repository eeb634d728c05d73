import type { BreakerConfig } from '../breaker/config';
import type { Outcome } from '../breaker/permit';
import type { BreakerState } from '../breaker/state';
import { MemoryBreakerStore } from './memory-store';

/**
 * The in-process breaker that serves while the shared store is unreachable. It starts from the
 * last state the shared store showed, and keeps the totals it counts so they can be merged back.
 */
export class FallbackBreakers {
  readonly store = new MemoryBreakerStore();
  private readonly pending = new Map<string, { cfg: BreakerConfig; successes: number; failures: number }>();
  private readonly lastSeen = new Map<string, BreakerState>();

  /** Remembers the shared state, so an outage starts from it rather than from closed. */
  remember(name: string, state: BreakerState): void {
    this.lastSeen.set(name, state);
  }

  forget(name: string): void {
    this.lastSeen.delete(name);
  }

  /** What the shared state was last seen as; undefined when never seen. */
  seen(name: string): BreakerState | undefined {
    return this.lastSeen.get(name);
  }

  /**
   * Seeds the local breakers from what was last seen in the shared store; called when an outage
   * begins. What the local breakers did in an earlier outage is stale: it is dropped.
   */
  begin(): void {
    this.store.clear();
    for (const [name, state] of this.lastSeen) this.store.set(name, state);
  }

  count(cfg: BreakerConfig, outcome: Outcome): void {
    if (outcome === 'ignored') return;
    const p = this.pending.get(cfg.collectorName) ?? { cfg, successes: 0, failures: 0 };
    if (outcome === 'success') p.successes += 1;
    else p.failures += 1;
    this.pending.set(cfg.collectorName, p);
  }

  /** Hands over the totals to merge, and forgets them. */
  drain(): { cfg: BreakerConfig; successes: number; failures: number }[] {
    const all = [...this.pending.values()];
    this.pending.clear();
    return all;
  }

  /** Puts back totals whose merge failed. */
  restore(entry: { cfg: BreakerConfig; successes: number; failures: number }): void {
    const p = this.pending.get(entry.cfg.collectorName) ?? { cfg: entry.cfg, successes: 0, failures: 0 };
    p.successes += entry.successes;
    p.failures += entry.failures;
    this.pending.set(entry.cfg.collectorName, p);
  }

  hasPending(): boolean {
    return this.pending.size > 0;
  }
}
