import type { BreakerConfig } from '../breaker/config';
import type { BreakerCommand, Outcome, OutcomeDetails, Permit } from '../breaker/permit';
import type { BreakerState } from '../breaker/state';
import type { Decision, RecordResult } from '../breaker/transitions';
import type { Logger } from '../log/logger';
import { Deadlines } from './deadlines';
import { FallbackBreakers } from './fallback';
import { lostSince } from './history-watch';
import type { RedisClientLike } from './redis-client';
import type { BreakerStore, StoreReply } from './store';
import { unavailableState } from './unavailable-state';

/**
 * What to do when Redis cannot answer within `timeoutMs`:
 * - `fallback` (default): decide with an in-process breaker of the same config; resync when Redis is back;
 * - `allow`: admit every call (fail open), count nothing;
 * - `reject`: reject every call (fail closed).
 */
export type UnavailablePolicy = 'fallback' | 'allow' | 'reject';

/** Logged (warn) for each outcome whose record lost its connection in flight; see warnIfUncertain. */
export const UNCERTAIN_OUTCOME_MESSAGE = 'outcome sent to Redis but unanswered when the connection dropped: counted locally, so counted twice if Redis had run it';

export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
}

export interface ResilientStoreOptions {
  /** The shared store (its replies may carry `lost`: the permit came from a history it no longer holds). */
  inner: BreakerStore;
  /** Adds totals counted while degraded to the shared statistics. */
  merge(cfg: BreakerConfig, now: number, successes: number, failures: number): Promise<unknown>;
  /** The connection the shared store uses: its status, readiness and a ping. */
  client: Pick<RedisClientLike, 'status' | 'once' | 'off' | 'ping'>;
  /** For log lines: the key a breaker lives at. */
  key(name: string): string;
  timeoutMs: number;
  policy: UnavailablePolicy;
  retryIntervalMs: number;
  logger: Logger;
}

/**
 * The timeout and the unavailability policy around a shared store: every call waits at most
 * `timeoutMs`; while the store is unreachable the policy decides (an in-process breaker seeded
 * from the last state seen, fail open or fail closed), and the totals counted meanwhile are
 * merged back when it answers again. Also watches what the store shows for a lost history.
 */
export class ResilientStore implements BreakerStore {
  readonly kind: string;
  private readonly inner: BreakerStore;
  private readonly client: ResilientStoreOptions['client'];
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
  private readonly timedOut: () => StoreUnavailableError;

  constructor(private readonly options: ResilientStoreOptions) {
    this.inner = options.inner;
    this.kind = options.inner.kind;
    this.client = options.client;
    this.timeoutMs = options.timeoutMs;
    this.policy = options.policy;
    this.retryIntervalMs = options.retryIntervalMs;
    this.log = options.logger;
    this.timedOut = () => new StoreUnavailableError(`Redis did not answer within ${this.timeoutMs} ms`);
  }

  /** True while the shared store is unreachable and the policy is deciding. */
  get degraded(): boolean {
    return this.downSince !== null;
  }

  acquire(cfg: BreakerConfig, now: number, leaseMs: number): Promise<StoreReply<Decision>> {
    // The common case first, with no await of its own: Redis connected and serving.
    if (this.downSince !== null || this.client.status !== 'ready') return this.acquireWhileNotReady(cfg, now, leaseMs);
    return this.acquireShared(cfg, now, leaseMs);
  }

  private async acquireWhileNotReady(cfg: BreakerConfig, now: number, leaseMs: number): Promise<StoreReply<Decision>> {
    const use = this.useShared(cfg.collectorName);
    if (use === true || (use !== false && (await use))) return this.acquireShared(cfg, now, leaseMs);
    return this.decideLocally(cfg, now, leaseMs);
  }

  private acquireShared(cfg: BreakerConfig, now: number, leaseMs: number): Promise<StoreReply<Decision>> {
    const withoutShared = (e: unknown) => {
      this.markDown(e, cfg.collectorName);
      return this.decideLocally(cfg, now, leaseMs);
    };
    let sent: Promise<StoreReply<Decision>>;
    try {
      sent = this.inner.acquire(cfg, now, leaseMs);
    } catch (e) {
      return Promise.resolve().then(() => withoutShared(e));
    }
    return this.deadlines.settle(sent, this.timeoutMs, this.timedOut, (reply) => this.saw(cfg, reply), withoutShared);
  }

  /** The configured policy decides, without the shared store. */
  private async decideLocally(cfg: BreakerConfig, now: number, leaseMs: number): Promise<StoreReply<Decision>> {
    if (this.policy === 'allow') {
      const permit: Permit = { breaker: cfg.collectorName, epoch: -1, probeId: null, issuedAt: now, leaseExpiresAt: null, fallback: true };
      return { result: { allowed: true, state: 'closed', probe: false, permit }, transition: null, state: await this.fallback.store.load(cfg) };
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
    if (this.policy === 'allow' && permit.fallback) {
      return this.fallback.store.load(cfg).then((state) => ({ result: { counted: false, state: 'closed' as const }, transition: null, state }));
    }
    if (this.downSince !== null || this.client.status !== 'ready') return this.recordWhileNotReady(cfg, permit, outcome, now, details);
    return this.recordShared(cfg, permit, outcome, now, details);
  }

  private async recordWhileNotReady(cfg: BreakerConfig, permit: Permit, outcome: Outcome, now: number, details?: OutcomeDetails): Promise<StoreReply<RecordResult>> {
    // No await between deciding "not shared" and counting locally (below): resync's final drain cannot miss it.
    const use = this.useShared(cfg.collectorName);
    if (use === true || (use !== false && (await use))) return this.recordShared(cfg, permit, outcome, now, details);
    // Outcomes seen while degraded are counted locally and merged into the shared totals on resync.
    this.fallback.count(cfg, outcome);
    return this.fallback.store.record(cfg, permit, outcome, now, details);
  }

  private recordShared(cfg: BreakerConfig, permit: Permit, outcome: Outcome, now: number, details?: OutcomeDetails): Promise<StoreReply<RecordResult>> {
    // A permit the fallback issued belongs to no period the shared store knows (its call outlived
    // the outage): there its outcome counts in the totals only (epoch -1 never matches).
    const shared: Permit = permit.fallback ? { ...permit, epoch: -1, probeId: null, incarnation: undefined, leaseExpiresAt: null } : permit;
    const sent = this.inner.record(cfg, shared, outcome, now, details);
    return this.deadlines.settle<StoreReply<RecordResult>, StoreReply<RecordResult>>(
      sent,
      this.timeoutMs,
      this.timedOut,
      (reply) => {
        const lost = (reply as { lost?: string }).lost;
        if (lost) {
          const seen = this.fallback.seen(cfg.collectorName);
          this.warnLost(cfg, seen === undefined ? null : seen.state, `an outcome's permit is from a history Redis no longer holds (${lost}): counted in the totals only`);
          this.fallback.forget(cfg.collectorName);
        }
        return this.saw(cfg, reply);
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

  /** Operator commands must reach every worker, so they go to the shared store or fail loudly. */
  async command(cfg: BreakerConfig, cmd: BreakerCommand, now: number): Promise<StoreReply<null>> {
    try {
      return this.saw(cfg, await this.withTimeout(this.inner.command(cfg, cmd, now), 5 * this.timeoutMs));
    } catch (e) {
      throw new StoreUnavailableError(`cannot ${cmd} breaker '${cfg.collectorName}': Redis is unreachable (${(e as Error).message})`);
    }
  }

  async load(cfg: BreakerConfig): Promise<BreakerState> {
    const use = this.useShared(cfg.collectorName);
    if (use === true || (use !== false && (await use))) {
      try {
        const state = await this.withTimeout(this.inner.load(cfg), 5 * this.timeoutMs);
        this.remember(cfg, state);
        return state;
      } catch (e) {
        this.markDown(e, cfg.collectorName);
      }
    }
    if (this.policy === 'reject') return unavailableState(cfg, this.fallback.seen(cfg.collectorName));
    return this.fallback.store.load(cfg);
  }

  private saw<R extends StoreReply<unknown>>(cfg: BreakerConfig, reply: R): R {
    this.remember(cfg, reply.state);
    return reply;
  }

  /** Remembers a state the shared store showed, after checking it against the last one seen. */
  private remember(cfg: BreakerConfig, state: BreakerState): void {
    const seen = this.fallback.seen(cfg.collectorName);
    if (seen !== undefined && seen.state !== 'closed' && lostSince(seen, state.epoch, state.incarnation)) {
      this.warnLost(cfg, seen.state, 'its state is missing in Redis or older than the one this worker saw');
    }
    this.fallback.remember(cfg.collectorName, state);
  }

  /** The key was deleted, or an older value restored (a restore, a failover that lost writes). */
  private warnLost(cfg: BreakerConfig, lastSeen: string | null, what: string): void {
    this.log.warn(`breaker history lost in Redis: ${what}`, { breaker: cfg.collectorName, key: this.options.key(cfg.collectorName), lastSeen });
  }

  async close(): Promise<void> {
    if (this.resyncing) await this.resyncing;
    // Outcomes counted locally (during an outage, or after a call timed out) would otherwise be
    // lost with this process: merge them while the client can still reach Redis.
    if (this.fallback.hasPending() && this.client.status === 'ready') {
      await this.mergeCounted().catch((e: unknown) =>
        this.log.error('outcomes counted during the outage could not be merged before closing', { error: (e as Error).message }),
      );
    }
  }

  private withTimeout<T>(p: Promise<T>, ms = this.timeoutMs): Promise<T> {
    return this.deadlines.bound(p, ms, () => new StoreUnavailableError(`Redis did not answer within ${ms} ms`));
  }

  /**
   * Whether to try the shared store for this call. A client that is not connected is not even
   * asked (so nothing queues in its offline queue to run twice later); one still connecting gets
   * up to `timeoutMs` to become ready.
   */
  private useShared(breaker: string): boolean | Promise<boolean> {
    if (this.downSince === null && this.client.status === 'ready') return true;
    if (this.downSince === null) return this.waitReady(breaker);
    if (this.client.status === 'ready' && Date.now() >= this.nextRetryAt && !this.resyncing) {
      this.nextRetryAt = Date.now() + this.retryIntervalMs;
      this.resyncing = this.resync().finally(() => (this.resyncing = null));
    }
    return false;
  }

  private async waitReady(breaker: string): Promise<boolean> {
    const status = this.client.status;
    if (status !== 'end' && status !== 'close') {
      // One listener for every call waiting on the same connection attempt.
      this.becomingReady ??= new Promise<boolean>((resolve) => {
        const onReady = () => {
          clearTimeout(timer);
          resolve(true);
        };
        const timer = setTimeout(() => {
          this.client.off('ready', onReady);
          resolve(false);
        }, this.timeoutMs);
        this.client.once('ready', onReady);
      }).finally(() => (this.becomingReady = null));
      if (await this.becomingReady) return true;
    }
    this.markDown(new Error(`client status is '${this.client.status}'`), breaker);
    return false;
  }

  private markDown(e: unknown, breaker?: string): void {
    if (this.downSince !== null) return;
    // A script error is a bug or a bad argument, not an outage: let it surface.
    if (e instanceof Error && /^(ERR|WRONGTYPE|NOSCRIPT)/.test(e.message) && !(e instanceof StoreUnavailableError) && this.client.status === 'ready') throw e;
    this.downSince = Date.now();
    this.nextRetryAt = Date.now() + this.retryIntervalMs;
    this.fallback.begin();
    this.log.error(`Redis unreachable: breaker decisions now ${this.policy === 'fallback' ? 'served by an in-process breaker' : `'${this.policy}'`}`, {
      breaker,
      policy: this.policy,
      error: (e as Error)?.message ?? String(e),
    });
  }

  /** Merges the totals counted while degraded, then hands decisions back to the shared store. */
  private async resync(): Promise<void> {
    try {
      await this.withTimeout(this.client.ping(), 5 * this.timeoutMs);
      await this.mergeCounted();
    } catch (e) {
      this.log.warn('Redis still unreachable', { error: (e as Error).message });
      return;
    }
    // From here on outcomes go to the shared store. What was counted locally during the merge
    // above (no await between this line and the drain in mergeCounted) is merged now, not at the next outage.
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
      const sent = this.options.merge(entry.cfg, Date.now(), entry.successes, entry.failures);
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
    if (this.downSince === null && !this.resyncing && this.client.status === 'ready') {
      this.mergeCounted().catch(() => undefined); // what is not merged stays pending for the next resync
    }
  }
}
