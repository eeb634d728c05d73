import { performance } from 'node:perf_hooks';
import type { BreakerConfig } from '../breaker/config';
import type { BreakerState } from '../breaker/state';
import type { Decision } from '../breaker/transitions';
import { readOnlyAcquire } from './snapshot-decision';
import type { StoreReply } from './store';

/**
 * An open circuit's state as this process last read it from Redis, reused for at most `maxAgeMs`
 * of wall time to reject calls without a round trip. Only rejections are served from it: the
 * pure transition runs on the cached state with the caller's `now`, and anything that would
 * admit or write (the open period is over: half-open) goes to Redis. An open state changes
 * before its end only by an operator's command, so the one staleness this adds is that a
 * force-close or reset issued through another process is seen here up to `maxAgeMs` later (a
 * command through this process clears the entry at once).
 */
export class OpenStateCache {
  private readonly entries = new Map<string, { state: BreakerState; readAt: number; refreshing: boolean }>();

  /**
   * `read` fetches the breaker's current state without acting on it (a plain GET). Once an entry
   * is half its age limit old, the next hit refreshes it in the background, so that under steady
   * traffic no caller waits for Redis while the circuit stays open.
   */
  constructor(
    private readonly maxAgeMs: number,
    private readonly read: (cfg: BreakerConfig) => Promise<BreakerState | undefined>,
  ) {}

  get enabled(): boolean {
    return this.maxAgeMs > 0;
  }

  /**
   * A rejection from the cached open state; 'write' when, by that state, the decision would write
   * (the open period is over: the caller can go straight to the script, which decides on the
   * real state); null when there is no usable entry.
   */
  reject(cfg: BreakerConfig, now: number, leaseMs: number): StoreReply<Decision> | 'write' | null {
    const hit = this.entries.get(cfg.collectorName);
    if (hit === undefined) return null;
    const age = performance.now() - hit.readAt;
    if (age >= this.maxAgeMs) {
      this.entries.delete(cfg.collectorName);
      return null;
    }
    const decided = readOnlyAcquire(cfg, hit.state, now, leaseMs);
    if (decided === null || decided.result.allowed) {
      this.entries.delete(cfg.collectorName);
      return 'write';
    }
    if (age >= this.maxAgeMs / 2 && !hit.refreshing) this.refresh(cfg, hit);
    return decided;
  }

  private refresh(cfg: BreakerConfig, hit: { refreshing: boolean }): void {
    hit.refreshing = true;
    const readAt = performance.now();
    this.read(cfg).then(
      (state) => {
        // Only if nothing newer (a decision, a command) replaced or cleared the entry meanwhile.
        if (this.entries.get(cfg.collectorName) !== hit) return;
        if (state?.state === 'open') this.entries.set(cfg.collectorName, { state, readAt, refreshing: false });
        else this.entries.delete(cfg.collectorName);
      },
      () => {
        hit.refreshing = false; // the entry still ages out; the next hit may try again
      },
    );
  }

  /** Keeps a state just read from Redis if it is open (forced or not); forgets the entry otherwise. */
  offer(name: string, state: BreakerState | undefined): void {
    if (!this.enabled) return;
    if (state?.state === 'open') this.entries.set(name, { state, readAt: performance.now(), refreshing: false });
    else this.entries.delete(name);
  }

  forget(name: string): void {
    this.entries.delete(name);
  }
}
