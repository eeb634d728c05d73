import type { BreakerConfig } from '../breaker/config';
import type { BreakerCommand, Outcome, OutcomeDetails, Permit } from '../breaker/permit';
import type { BreakerState } from '../breaker/state';
import type { Decision, RecordResult } from '../breaker/transitions';
import { defaultLogger, type Logger } from '../log/logger';
import { wholeMs } from './arguments';
import type { RedisClientLike } from './redis-client';
import { ResilientStore, type UnavailablePolicy } from './resilient-store';
import { RedisScriptStore } from './script-store';
import { SnapshotStore } from './snapshot-store';
import type { BreakerStore, StoreReply } from './store';

export { StoreUnavailableError, UNCERTAIN_OUTCOME_MESSAGE, type UnavailablePolicy } from './resilient-store';

export interface RedisBreakerStoreOptions {
  redis: RedisClientLike;
  keyPrefix?: string;
  ttlSeconds?: number;
  /** The longest a decision waits for Redis before the policy decides. Default 100 ms. */
  timeoutMs?: number;
  onUnavailable?: UnavailablePolicy;
  /** How often to try Redis again while it is unreachable. Default 1000 ms. */
  retryIntervalMs?: number;
  /**
   * How old the last state a reply carried may be for a decision that writes nothing to be taken
   * from it, without a round trip (see SnapshotStore). Default 1000 ms; 0: every decision reads
   * the stored state first.
   */
  snapshotMaxAgeMs?: number;
  logger?: Logger;
}

/**
 * Breaker state shared by every process through one Redis key per breaker, changed only by one
 * Lua script. Three layers around one interface: the script (script-store.ts), the snapshot of
 * the last state seen (snapshot-store.ts), the timeout and unavailability policy (resilient-store.ts).
 */
export class RedisBreakerStore implements BreakerStore {
  readonly kind = 'redis';
  readonly keyPrefix: string;
  readonly ttlSeconds: number;
  private readonly shared: ResilientStore;

  constructor(options: RedisBreakerStoreOptions) {
    this.keyPrefix = options.keyPrefix ?? 'cb_state:';
    this.ttlSeconds = options.ttlSeconds ?? 86_400;
    const logger = options.logger ?? defaultLogger;
    const script = new RedisScriptStore(options.redis, this.keyPrefix, this.ttlSeconds, logger);
    this.shared = new ResilientStore({
      inner: new SnapshotStore(script, options.snapshotMaxAgeMs ?? 1000),
      merge: (cfg, now, successes, failures) => script.merge(cfg, now, successes, failures),
      client: options.redis,
      key: (name) => script.key(name),
      timeoutMs: options.timeoutMs ?? 100,
      policy: options.onUnavailable ?? 'fallback',
      retryIntervalMs: options.retryIntervalMs ?? 1000,
      logger,
    });
  }

  key(name: string): string {
    return this.keyPrefix + name;
  }

  /** True while Redis is unreachable and the policy is deciding. */
  get degraded(): boolean {
    return this.shared.degraded;
  }

  // A bad `now` or lease rejects the call's promise, as every other fault of a store does.
  async acquire(cfg: BreakerConfig, now: number, leaseMs: number): Promise<StoreReply<Decision>> {
    return this.shared.acquire(cfg, wholeMs('now', now), wholeMs('leaseMs', leaseMs));
  }

  async record(cfg: BreakerConfig, permit: Permit, outcome: Outcome, now: number, details?: OutcomeDetails): Promise<StoreReply<RecordResult>> {
    return this.shared.record(cfg, permit, outcome, wholeMs('now', now), details);
  }

  async command(cfg: BreakerConfig, cmd: BreakerCommand, now: number): Promise<StoreReply<null>> {
    return this.shared.command(cfg, cmd, wholeMs('now', now));
  }

  load(cfg: BreakerConfig): Promise<BreakerState> {
    return this.shared.load(cfg);
  }

  close(): Promise<void> {
    return this.shared.close();
  }
}
