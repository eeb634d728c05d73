import type { BreakerConfig } from '../breaker/config';
import type { BreakerCommand, Outcome, OutcomeDetails, Permit } from '../breaker/permit';
import type { BreakerState } from '../breaker/state';
import type { Decision, RecordResult } from '../breaker/transitions';
import { defaultLogger, type Logger } from '../log/logger';
import { wholeMs } from './arguments';
import { Deadlines } from './deadlines';
import { FallbackBreakers } from './fallback';
import { lostSince } from './history-watch';
import { OpenStateCache } from './open-cache';
import { BreakerScript, type Parsed } from './redis-script';
import type { BreakerStore, StoreReply } from './store';
import { unavailableState } from './unavailable-state';
import type { RedisClientLike } from './redis-client';

/**
 * What to do when Redis cannot answer within `timeoutMs`:
 * - `fallback` (default): decide with an in-process breaker of the same config; resync when Redis is back;
 * - `allow`: admit every call (fail open), count nothing;
 * - `reject`: reject every call (fail closed).
 */
export type UnavailablePolicy = 'fallback' | 'allow' | 'reject';

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
   * How long this process may reject calls from an open state it read, without asking Redis
   * again (see OpenStateCache). Default 1000 ms; 0 asks Redis for every decision.
   */
  openCacheMs?: number;
  logger?: Logger;
}

/** Logged (warn) for each outcome whose record lost its connection in flight; see warnIfUncertain. */
export const UNCERTAIN_OUTCOME_MESSAGE = 'outcome sent to Redis but unanswered when the connection dropped: counted locally, so counted twice if Redis had run it';

export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
}

/** Breaker state shared by every process through one Redis key per breaker, changed only by one Lua script. */
export class RedisBreakerStore implements BreakerStore {
  readonly kind = 'redis';
  readonly keyPrefix: string;
  readonly ttlSeconds: number;
  private readonly redis: RedisClientLike;
  private readonly script: BreakerScript;
  private readonly timeoutMs: number;
  private readonly policy: UnavailablePolicy;
  private readonly retryIntervalMs: number;
  private readonly log: Logger;
  private readonly fallback = new FallbackBreakers();
  private downSince: number | null = null;
  private nextRetryAt = 0;
  private resyncing: Promise<void> | null = null;
  private becomingReady: Promise<boolean> | null = null;
  private readonly deadlines = new Deadlines();
  private readonly openCache: OpenStateCache;
  private readonly timedOut: () => StoreUnavailableError;

  constructor(options: RedisBreakerStoreOptions) {
    this.redis = options.redis;
    this.keyPrefix = options.keyPrefix ?? 'cb_state:';
    this.ttlSeconds = options.ttlSeconds ?? 86_400;
    this.timeoutMs = options.timeoutMs ?? 100;
    this.policy = options.onUnavailable ?? 'fallback';
    this.retryIntervalMs = options.retryIntervalMs ?? 1000;
    this.log = options.logger ?? defaultLogger;
    this.script = new BreakerScript(this.redis, this.ttlSeconds);
    this.timedOut = () => new StoreUnavailableError(`Redis did not answer within ${this.timeoutMs} ms`);
    this.openCache = new OpenStateCache(options.openCacheMs ?? 1000, (cfg) =>
      this.downSince === null && this.redis.status === 'ready'
        ? this.withTimeout(this.script.peek(this.key(cfg.collectorName), cfg))
        : Promise.resolve(undefined),
    );
  }

  key(name: string): string {
    return this.keyPrefix + name;
  }

  /** True while Redis is unreachable and the policy is deciding. */
  get degraded(): boolean {
    return this.downSince !== null;
  }

  acquire(cfg: BreakerConfig, now: number, leaseMs: number): Promise<StoreReply<Decision>> {
    try {
      now = wholeMs('now', now);
      leaseMs = wholeMs('leaseMs', leaseMs);
    } catch (e) {
      return Promise.reject(e);
    }
    // The common case first, with no await of its own: Redis connected and serving.
    if (this.downSince !== null || this.redis.status !== 'ready') return this.acquireWhileNotReady(cfg, now, leaseMs);
    const cached = this.openCache.reject(cfg, now, leaseMs);
    if (cached !== null && cached !== 'write') return Promise.resolve(cached);
    return this.acquireFromRedis(cfg, now, leaseMs, cached === 'write');
  }

  private async acquireWhileNotReady(cfg: BreakerConfig, now: number, leaseMs: number): Promise<StoreReply<Decision>> {
    const use = this.useRedis(cfg.collectorName);
    if (use === true || (use !== false && (await use))) return this.acquireFromRedis(cfg, now, leaseMs, false);
    return this.decideLocally(cfg, now, leaseMs);
  }

  private acquireFromRedis(cfg: BreakerConfig, now: number, leaseMs: number, knownToWrite: boolean): Promise<StoreReply<Decision>> {
    const withoutRedis = (e: unknown) => {
      this.markDown(e, cfg.collectorName);
      return this.decideLocally(cfg, now, leaseMs);
    };
    let sent: Promise<Parsed<Decision>>;
    try {
      const key = this.key(cfg.collectorName);
      // Known to write (the open period just ended): straight to the script, one round trip.
      sent = knownToWrite ? this.script.acquireScripted(key, cfg, now, leaseMs) : this.script.acquire(key, cfg, now, leaseMs);
    } catch (e) {
      return Promise.resolve().then(() => withoutRedis(e));
    }
    return this.deadlines.settle<Parsed<Decision>, StoreReply<Decision>>(sent, this.timeoutMs, this.timedOut, (reply) => this.acquired(cfg, reply), withoutRedis);
  }

  private acquired(cfg: BreakerConfig, reply: Parsed<Decision>): StoreReply<Decision> {
    this.logRepair(cfg, reply.repaired);
    if (reply.state) this.saw(cfg, reply.state);
    else if (reply.result.allowed && reply.result.state === 'closed') {
      this.checkHistory(cfg, reply.result.permit.epoch, reply.result.permit.incarnation);
      this.fallback.sawClosed(cfg.collectorName);
    }
    if (this.openCache.enabled) this.openCache.offer(cfg.collectorName, reply.result.allowed ? undefined : reply.state);
    return reply;
  }

  /** The configured policy decides, without Redis. */
  private async decideLocally(cfg: BreakerConfig, now: number, leaseMs: number): Promise<StoreReply<Decision>> {
    if (this.policy === 'allow') {
      const permit: Permit = { breaker: cfg.collectorName, epoch: -1, probeId: null, issuedAt: now, leaseExpiresAt: null, fallback: true };
      return { result: { allowed: true, state: 'closed', probe: false, permit }, transition: null };
    }
    if (this.policy === 'reject') {
      const state = unavailableState(cfg, this.fallback.seen(cfg.collectorName));
      return { result: { allowed: false, state: 'open', retryAfterMs: this.retryIntervalMs }, transition: null, state };
    }
    const reply = await this.fallback.store.acquire(cfg, now, leaseMs);
    if (reply.result.allowed) reply.result.permit.fallback = true;
    return reply;
  }

  record(cfg: BreakerConfig, permit: Permit, outcome: Outcome, now: number, details?: OutcomeDetails): Promise<StoreReply<RecordResult>> {
    try {
      now = wholeMs('now', now);
    } catch (e) {
      return Promise.reject(e);
    }
    if (this.policy === 'allow' && permit.fallback) return Promise.resolve({ result: { counted: false, state: 'closed' }, transition: null });
    if (this.downSince !== null || this.redis.status !== 'ready') return this.recordWhileNotReady(cfg, permit, outcome, now, details);
    return this.recordInRedis(cfg, permit, outcome, now, details);
  }

  private async recordWhileNotReady(cfg: BreakerConfig, permit: Permit, outcome: Outcome, now: number, details?: OutcomeDetails): Promise<StoreReply<RecordResult>> {
    // No await between deciding "not Redis" and counting locally (below): resync's final drain cannot miss it.
    const use = this.useRedis(cfg.collectorName);
    if (use === true || (use !== false && (await use))) return this.recordInRedis(cfg, permit, outcome, now, details);
    // Outcomes seen while degraded are counted locally and merged into Redis's totals on resync.
    this.fallback.count(cfg, outcome);
    return this.fallback.store.record(cfg, permit, outcome, now, details);
  }

  private recordInRedis(cfg: BreakerConfig, permit: Permit, outcome: Outcome, now: number, details?: OutcomeDetails): Promise<StoreReply<RecordResult>> {
    // A permit the fallback issued belongs to no period Redis knows (its call outlived the
    // outage): in Redis its outcome counts in the totals only (epoch -1 never matches).
    const shared: Permit = permit.fallback ? { ...permit, epoch: -1, probeId: null, incarnation: undefined, leaseExpiresAt: null } : permit;
    const sent = this.script.record(this.key(cfg.collectorName), cfg, shared, outcome, now, details);
    return this.deadlines.settle<Parsed<RecordResult>, StoreReply<RecordResult>>(
      sent,
      this.timeoutMs,
      this.timedOut,
      (reply) => {
        this.logRepair(cfg, reply.repaired);
        if (reply.lost) {
          const seen = this.fallback.seen(cfg.collectorName);
          this.warnLost(cfg, seen === undefined ? null : seen === 'closed' ? 'closed' : seen.state, `an outcome's permit is from a history Redis no longer holds (${reply.lost}): counted in the totals only`);
          this.fallback.forget(cfg.collectorName);
        }
        if (reply.state) {
          this.saw(cfg, reply.state);
          this.openCache.forget(cfg.collectorName);
        }
        return reply;
      },
      (e) => {
        this.markDown(e, cfg.collectorName);
        if (e instanceof StoreUnavailableError) {
          // Only the reply is late: the script was sent and may well have counted the outcome.
          // Count it locally (for the merge) only if it turns out not to have run, or it would
          // be counted twice.
          sent.then(
            () => undefined,
            (late: unknown) => this.countLate(cfg, outcome, late),
          );
          return this.fallback.store.record(cfg, permit, outcome, now, details);
        }
        this.warnIfUncertain(cfg, outcome, e);
        this.fallback.count(cfg, outcome);
        return this.fallback.store.record(cfg, permit, outcome, now, details);
      },
    );
  }

  /** Operator commands must reach every worker, so they go to Redis or fail loudly. */
  async command(cfg: BreakerConfig, cmd: BreakerCommand, now: number): Promise<StoreReply<null> & { state: BreakerState }> {
    now = wholeMs('now', now);
    this.openCache.forget(cfg.collectorName);
    try {
      const reply = this.checked(cfg, await this.withTimeout(this.script.command(this.key(cfg.collectorName), cfg, cmd, now), 5 * this.timeoutMs));
      this.saw(cfg, reply.state);
      return reply;
    } catch (e) {
      throw new StoreUnavailableError(`cannot ${cmd} breaker '${cfg.collectorName}': Redis is unreachable (${(e as Error).message})`);
    }
  }

  async load(cfg: BreakerConfig): Promise<BreakerState> {
    const use = this.useRedis(cfg.collectorName);
    if (use === true || (use !== false && (await use))) {
      try {
        const { state, repaired } = await this.withTimeout(this.script.load(this.key(cfg.collectorName), cfg, Date.now()), 5 * this.timeoutMs);
        this.logRepair(cfg, repaired);
        this.saw(cfg, state);
        return state;
      } catch (e) {
        this.markDown(e, cfg.collectorName);
      }
    }
    if (this.policy === 'reject') return unavailableState(cfg, this.fallback.seen(cfg.collectorName));
    return this.fallback.store.load(cfg);
  }

  /** Remembers a state read from Redis, after checking it against the last one seen. */
  private saw(cfg: BreakerConfig, state: BreakerState): void {
    this.checkHistory(cfg, state.epoch, state.incarnation);
    this.fallback.remember(cfg.collectorName, state);
  }

  /** Warns when what Redis shows is older than a state, not closed, that this worker saw (else the circuit would close silently). */
  private checkHistory(cfg: BreakerConfig, epoch: number, incarnation: string | undefined): void {
    const seen = this.fallback.seen(cfg.collectorName);
    if (seen !== undefined && seen !== 'closed' && seen.state !== 'closed' && lostSince(seen, epoch, incarnation)) {
      this.warnLost(cfg, seen.state, 'its state is missing in Redis or older than the one this worker saw');
    }
  }

  /** The key was deleted, or an older value restored (a restore, a failover that lost writes). */
  private warnLost(cfg: BreakerConfig, lastSeen: string | null, what: string): void {
    this.log.warn(`breaker history lost in Redis: ${what}`, { breaker: cfg.collectorName, key: this.key(cfg.collectorName), lastSeen });
  }

  async close(): Promise<void> {
    if (this.resyncing) await this.resyncing;
    // Outcomes counted locally (during an outage, or after a call timed out) would otherwise be
    // lost with this process: merge them while the client can still reach Redis.
    if (this.fallback.hasPending() && this.redis.status === 'ready') {
      await this.mergeCounted().catch((e: unknown) =>
        this.log.error('outcomes counted during the outage could not be merged before closing', { error: (e as Error).message }),
      );
    }
  }

  private checked<R extends { repaired: string }>(cfg: BreakerConfig, reply: R): R {
    this.logRepair(cfg, reply.repaired);
    return reply;
  }

  private logRepair(cfg: BreakerConfig, repaired: string): void {
    if (repaired) {
      this.log.error('corrupt breaker state in Redis replaced by a fresh state (statistics kept where readable)', {
        breaker: cfg.collectorName,
        key: this.key(cfg.collectorName),
        reason: repaired,
      });
    }
  }

  private withTimeout<T>(p: Promise<T>, ms = this.timeoutMs): Promise<T> {
    return this.deadlines.bound(p, ms, () => new StoreUnavailableError(`Redis did not answer within ${ms} ms`));
  }

  /**
   * Whether to try Redis for this call. A client that is not connected is not even asked (so
   * nothing queues in its offline queue to run twice later); one still connecting gets up to
   * `timeoutMs` to become ready.
   */
  private useRedis(breaker: string): boolean | Promise<boolean> {
    if (this.downSince === null && this.redis.status === 'ready') return true;
    if (this.downSince === null) return this.waitReady(breaker);
    if (this.redis.status === 'ready' && Date.now() >= this.nextRetryAt && !this.resyncing) {
      this.nextRetryAt = Date.now() + this.retryIntervalMs;
      this.resyncing = this.resync().finally(() => (this.resyncing = null));
    }
    return false;
  }

  private async waitReady(breaker: string): Promise<boolean> {
    const status = this.redis.status;
    if (status !== 'end' && status !== 'close') {
      // One listener for every call waiting on the same connection attempt.
      this.becomingReady ??= new Promise<boolean>((resolve) => {
        const onReady = () => {
          clearTimeout(timer);
          resolve(true);
        };
        const timer = setTimeout(() => {
          this.redis.off('ready', onReady);
          resolve(false);
        }, this.timeoutMs);
        this.redis.once('ready', onReady);
      }).finally(() => (this.becomingReady = null));
      if (await this.becomingReady) return true;
    }
    this.markDown(new Error(`client status is '${this.redis.status}'`), breaker);
    return false;
  }

  private markDown(e: unknown, breaker?: string): void {
    if (this.downSince !== null) return;
    // A script error is a bug or a bad argument, not an outage: let it surface.
    if (e instanceof Error && /^(ERR|WRONGTYPE|NOSCRIPT)/.test(e.message) && !(e instanceof StoreUnavailableError) && this.redis.status === 'ready') throw e;
    this.downSince = Date.now();
    this.nextRetryAt = Date.now() + this.retryIntervalMs;
    this.fallback.begin();
    this.log.error(`Redis unreachable: breaker decisions now ${this.policy === 'fallback' ? 'served by an in-process breaker' : `'${this.policy}'`}`, {
      breaker,
      policy: this.policy,
      error: (e as Error)?.message ?? String(e),
    });
  }

  /** Merges the totals counted while degraded, then hands decisions back to Redis. */
  private async resync(): Promise<void> {
    try {
      await this.withTimeout(this.redis.ping(), 5 * this.timeoutMs);
      await this.mergeCounted();
    } catch (e) {
      this.log.warn('Redis still unreachable', { error: (e as Error).message });
      return;
    }
    // From here on outcomes go to Redis. What was counted locally during the merge above (no
    // await between this line and the drain in mergeCounted) is merged now, not at the next outage.
    const downForMs = Date.now() - (this.downSince ?? Date.now());
    this.downSince = null;
    this.log.warn('Redis reachable again: breaker decisions shared again', { downForMs });
    await this.mergeCounted().catch((e: unknown) =>
      this.log.warn('could not merge the last outcomes counted during the outage; kept for the next resync', { error: (e as Error).message }),
    );
  }

  /** Merges every total counted locally so far; on failure, puts back what was not merged. */
  private async mergeCounted(): Promise<void> {
    const batch = this.fallback.drain();
    for (const [i, entry] of batch.entries()) {
      const sent = this.script.merge(this.key(entry.cfg.collectorName), entry.cfg, Date.now(), entry.successes, entry.failures);
      try {
        await this.withTimeout(sent, 5 * this.timeoutMs);
      } catch (e) {
        for (const unmerged of batch.slice(i + 1)) this.fallback.restore(unmerged);
        // A merge whose reply is only late may have run: put it back only if it did not.
        if (e instanceof StoreUnavailableError) sent.catch(() => this.fallback.restore(entry));
        else this.fallback.restore(entry);
        throw e;
      }
    }
  }

  /**
   * A record that was written to the socket and then lost its connection may or may not have run
   * in Redis; it is counted locally, so it may be counted twice. Said once per such outcome, so
   * an operator (and the fault tests) can bound the difference.
   */
  private warnIfUncertain(cfg: BreakerConfig, outcome: Outcome, error: unknown): void {
    const message = (error as Error)?.message ?? String(error);
    if (message.includes("Stream isn't writeable")) return; // never sent
    this.log.warn(UNCERTAIN_OUTCOME_MESSAGE, { breaker: cfg.collectorName, outcome, error: message });
  }

  /** An outcome whose record turned out not to have reached Redis: counted locally, merged as soon as Redis serves again. */
  private countLate(cfg: BreakerConfig, outcome: Outcome, error: unknown): void {
    this.warnIfUncertain(cfg, outcome, error);
    this.fallback.count(cfg, outcome);
    if (this.downSince === null && !this.resyncing && this.redis.status === 'ready') {
      this.mergeCounted().catch(() => undefined); // what is not merged stays pending for the next resync
    }
  }
}
