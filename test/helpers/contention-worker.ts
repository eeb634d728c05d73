/**
 * A child process for the multi-process contention tests (test/store/redis-contention.test.ts).
 * Forked with `fork(file, [], { execArgv: ['--import', 'tsx'] })`; it owns one ioredis client and
 * one RedisBreakerStore, and does only what the parent asks over IPC. Breaker time is the
 * parent's: every request carries the logical `now`, and nothing here reads a clock for the
 * breaker, so all processes share one simulated clock.
 */
import Redis from 'ioredis';
import { CircuitBreaker, RedisBreakerStore, silentLogger, type BreakerConfigInput, type Outcome, type OutcomeDetails, type Permit } from '../../src';

export interface InitRequest {
  op: 'init';
  url: string;
  keyPrefix: string;
  configs: BreakerConfigInput[];
  /** The store's snapshotMaxAgeMs (default: the store's default). */
  snapshotMaxAgeMs?: number;
}

/**
 * `count` acquire(+record) pairs on one breaker at the logical instant `now`, with `concurrency`
 * pairs in flight at once. `outcome` is recorded for every admitted call ('none': acquire only,
 * the permits are kept and returned).
 */
export interface RunRequest {
  op: 'run';
  breaker: string;
  now: number;
  count: number;
  concurrency: number;
  outcome: Outcome | 'none';
  leaseMs: number;
  /** Recorded with every outcome (a rate mode's duration and worker; default: this process as the worker). */
  details?: OutcomeDetails;
}

export interface AcquireRequest {
  op: 'acquire';
  breaker: string;
  now: number;
  leaseMs: number;
}

export interface RecordRequest {
  op: 'record';
  permit: Permit;
  outcome: Outcome;
  now: number;
}

export type WorkerRequest = (InitRequest | RunRequest | AcquireRequest | RecordRequest | { op: 'exit' }) & { id: number };

export interface RunSummary {
  admitted: number;
  rejected: number;
  /** Outcomes this process recorded, whatever the store did with them (each one must reach the totals). */
  recorded: { success: number; failure: number; ignored: number };
  /** Half-open probes admitted here, by the epoch (half-open period) of their permit. */
  probesByEpoch: Record<string, number>;
  /** Probe ids admitted here, by epoch: ids must never repeat across processes within one period. */
  probeIdsByEpoch: Record<string, number[]>;
  /** Transitions this process caused (the store reports each transition to the caller that made it). */
  transitions: string[];
  /** Permits kept when `outcome` is 'none'. */
  permits: Permit[];
  errors: string[];
}

export type WorkerReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

let redis: Redis | undefined;
const breakers = new Map<string, CircuitBreaker>();
const transitions: string[] = [];

function breakerOf(name: string): CircuitBreaker {
  const b = breakers.get(name);
  if (!b) throw new Error(`unknown breaker '${name}' (not in init)`);
  return b;
}

async function run(req: RunRequest): Promise<RunSummary> {
  const breaker = breakerOf(req.breaker);
  const summary: RunSummary = {
    admitted: 0,
    rejected: 0,
    recorded: { success: 0, failure: 0, ignored: 0 },
    probesByEpoch: {},
    probeIdsByEpoch: {},
    transitions: [],
    permits: [],
    errors: [],
  };
  transitions.length = 0;
  let started = 0;
  const lane = async () => {
    while (started < req.count) {
      started += 1;
      try {
        const d = await breaker.acquire(req.now, { leaseMs: req.leaseMs });
        if (!d.allowed) {
          summary.rejected += 1;
          continue;
        }
        summary.admitted += 1;
        if (d.probe) {
          const epoch = String(d.permit.epoch);
          summary.probesByEpoch[epoch] = (summary.probesByEpoch[epoch] ?? 0) + 1;
          (summary.probeIdsByEpoch[epoch] ??= []).push(d.permit.probeId ?? -1);
        }
        if (req.outcome === 'none') {
          summary.permits.push(d.permit);
          continue;
        }
        await breaker.recordOutcome(d.permit, req.outcome, req.now, { worker: `pid-${process.pid}`, ...req.details });
        summary.recorded[req.outcome] += 1;
      } catch (e) {
        summary.errors.push((e as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: req.concurrency }, lane));
  summary.transitions = [...transitions];
  return summary;
}

async function handle(req: WorkerRequest): Promise<unknown> {
  switch (req.op) {
    case 'init': {
      redis = new Redis(req.url, { maxRetriesPerRequest: 2 });
      // Generous timeout: these tests are about atomicity, not about the outage policy.
      const store = new RedisBreakerStore({ redis, keyPrefix: req.keyPrefix, timeoutMs: 5_000, logger: silentLogger, snapshotMaxAgeMs: req.snapshotMaxAgeMs });
      for (const c of req.configs) {
        const b = new CircuitBreaker(c, store, {
          clock: () => {
            throw new Error('breaker time comes from the parent');
          },
          onTransition: (t) => transitions.push(t.event),
        });
        breakers.set(b.name, b);
      }
      await redis.ping();
      return process.pid;
    }
    case 'run':
      return run(req);
    case 'acquire':
      return breakerOf(req.breaker).acquire(req.now, { leaseMs: req.leaseMs });
    case 'record': {
      const b = breakerOf(req.permit.breaker);
      return b.recordOutcome(req.permit, req.outcome, req.now);
    }
    case 'exit':
      await redis?.quit();
      setImmediate(() => process.exit(0));
      return null;
  }
}

process.on('message', (msg: WorkerRequest) => {
  handle(msg).then(
    (value) => process.send?.({ id: msg.id, ok: true, value } satisfies WorkerReply),
    (e: unknown) => process.send?.({ id: msg.id, ok: false, error: (e as Error)?.stack ?? String(e) } satisfies WorkerReply),
  );
});

// Without a parent there is nothing to do.
process.on('disconnect', () => process.exit(0));
