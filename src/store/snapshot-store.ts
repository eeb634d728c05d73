import { performance } from 'node:perf_hooks';
import type { BreakerConfig } from '../breaker/config';
import type { BreakerCommand, Outcome, OutcomeDetails, Permit } from '../breaker/permit';
import type { BreakerState } from '../breaker/state';
import { acquire, type Decision, type RecordResult } from '../breaker/transitions';
import type { BreakerStore, StoreReply } from './store';

/** A store whose every reply carries the state, and that can read the state without writing. */
export interface SnapshotSource extends BreakerStore {
  /** The state as stored (the initial state when none), writing nothing; undefined when it does not validate. */
  read(cfg: BreakerConfig): Promise<BreakerState | undefined>;
}

interface Snapshot {
  state: BreakerState;
  /** When the request that returned it was sent (performance.now()): the state is at least this recent. */
  at: number;
  refreshing: boolean;
}

/**
 * Decisions that write nothing (admitted while closed; rejected while open, forced open, or with
 * every half-open slot taken) from the last state the inner store replied with, through the same
 * pure `acquire` the memory store runs, while that state is younger than `maxAgeMs`. Everything
 * else (a decision that writes: open → half-open, a probe's lease; every outcome; commands) goes
 * to the inner store, and its reply becomes the snapshot. A busy worker so pays one round trip
 * per call, the record, and learns every other worker's transitions from its next reply; a
 * stale snapshot is refreshed with one `read`. The price: a transition made elsewhere (another
 * worker's opening, an operator's command through another process) is seen here up to one reply,
 * or at most `maxAgeMs`, later; a call admitted from an older snapshot carries that snapshot's
 * epoch, so its outcome counts in the totals only (see docs/reliability.md for the figures).
 * `maxAgeMs` 0 turns it off: every decision reads the stored state first.
 */
export class SnapshotStore implements BreakerStore {
  readonly kind: string;
  private readonly snapshots = new Map<string, Snapshot>();

  constructor(
    private readonly inner: SnapshotSource,
    private readonly maxAgeMs: number,
  ) {
    this.kind = inner.kind;
  }

  acquire(cfg: BreakerConfig, now: number, leaseMs: number): Promise<StoreReply<Decision>> {
    const name = cfg.collectorName;
    const snap = this.snapshots.get(name);
    if (snap !== undefined) {
      const age = performance.now() - snap.at;
      if (age < this.maxAgeMs) {
        const decided = decideWithoutWriting(cfg, snap.state, now, leaseMs);
        if (decided === null) return this.acquireInner(cfg, now, leaseMs);
        // Half its age: refreshed in the background, so that steady traffic never waits for a read
        // (bench:temporal, short-circuit latency: p99 of a rejection from an open circuit).
        if (age * 2 >= this.maxAgeMs && !snap.refreshing) this.refresh(cfg, snap);
        return Promise.resolve(decided);
      }
    }
    const sentAt = performance.now();
    return this.inner.read(cfg).then((state) => {
      if (state === undefined) return this.acquireInner(cfg, now, leaseMs); // the script repairs it
      this.keep(name, state, sentAt);
      return decideWithoutWriting(cfg, state, now, leaseMs) ?? this.acquireInner(cfg, now, leaseMs);
    });
  }

  private acquireInner(cfg: BreakerConfig, now: number, leaseMs: number): Promise<StoreReply<Decision>> {
    return this.kept(cfg.collectorName, performance.now(), this.inner.acquire(cfg, now, leaseMs));
  }

  record(cfg: BreakerConfig, permit: Permit, outcome: Outcome, now: number, details?: OutcomeDetails): Promise<StoreReply<RecordResult>> {
    return this.kept(cfg.collectorName, performance.now(), this.inner.record(cfg, permit, outcome, now, details));
  }

  command(cfg: BreakerConfig, cmd: BreakerCommand, now: number): Promise<StoreReply<null>> {
    return this.kept(cfg.collectorName, performance.now(), this.inner.command(cfg, cmd, now));
  }

  async load(cfg: BreakerConfig): Promise<BreakerState> {
    const sentAt = performance.now();
    const state = await this.inner.load(cfg);
    this.keep(cfg.collectorName, state, sentAt);
    return state;
  }

  /** Forgets what was seen of a breaker (its next decision reads the stored state). */
  forget(name: string): void {
    this.snapshots.delete(name);
  }

  private kept<R extends StoreReply<unknown>>(name: string, sentAt: number, reply: Promise<R>): Promise<R> {
    return reply.then((r) => {
      this.keep(name, r.state, sentAt);
      return r;
    });
  }

  /** A state replied to a request sent at `sentAt`; kept unless a later request's reply is already kept. */
  private keep(name: string, state: BreakerState, sentAt: number): void {
    if (this.maxAgeMs <= 0) return;
    const snap = this.snapshots.get(name);
    if (snap !== undefined && snap.at > sentAt) return;
    this.snapshots.set(name, { state, at: sentAt, refreshing: false });
  }

  private refresh(cfg: BreakerConfig, snap: Snapshot): void {
    snap.refreshing = true;
    const sentAt = performance.now();
    this.inner.read(cfg).then(
      (state) => {
        snap.refreshing = false;
        if (state !== undefined) this.keep(cfg.collectorName, state, sentAt);
      },
      () => {
        snap.refreshing = false; // the snapshot still ages out; the next decision may try again
      },
    );
  }
}

/** The decision on `state` when it writes nothing; null when it would write (open → half-open, a probe's lease). */
function decideWithoutWriting(cfg: BreakerConfig, state: BreakerState, now: number, leaseMs: number): StoreReply<Decision> | null {
  const step = acquire(cfg, state, now, leaseMs);
  return step.state === state ? { result: step.result, transition: null, state } : null;
}
