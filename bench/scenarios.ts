/**
 * The measured loops, shared by the bench's main process and its worker processes. A scenario
 * runs `callers` concurrent async loops on one breaker (or one Redis key) for a warm-up, then for
 * the measured window; each completed call is one "decision" (acquire + record for the stores,
 * one INCR for the raw baseline, one execute/fire for the policies). Time checks are inline (no
 * timers): a loop over an in-memory store never yields to the timer queue.
 */
import { performance } from 'node:perf_hooks';
import { circuitBreaker, ConsecutiveBreaker, handleAll } from 'cockatiel';
import Redis from 'ioredis';
import Opossum from 'opossum';
import { benchLibrary } from './library';
import { Histogram } from './histogram';

export type ScenarioKind =
  | 'memory' // acquire + recordSuccess, memory store
  | 'redis' // acquire + recordSuccess, Redis store (2 Redis round trips)
  | 'redis-rate' // the same in a rate mode (time-window, 60 s), the call's duration recorded: 2 round trips too
  | 'incr' // raw ioredis INCR (1 round trip)
  | 'script-floor' // a GET, then a script that only reads and rewrites the key (2 round trips, no breaker code)
  | 'execute-memory' // our execute(noop), memory store
  | 'opossum' // opossum fire(noop), default options (10 s timeout timer per call)
  | 'opossum-no-timeout' // opossum fire(noop), timeout: false
  | 'cockatiel'; // cockatiel circuitBreaker(...).execute(noop)

export interface ScenarioSpec {
  kind: ScenarioKind;
  callers: number;
  warmupMs: number;
  measureMs: number;
  redisUrl?: string;
  /** Breaker name / Redis key suffix, the same in every process of a multi-process run. */
  name: string;
}

export interface ScenarioResult {
  /** Times the Redis store gave up on Redis and decided in-process (must be 0 for a valid Redis row). */
  fallbackEvents: number;
  /** Decisions completed inside the measured window. */
  decisions: number;
  /** Every decision, warm-up included (to check Redis's totals afterwards). */
  allDecisions: number;
  measuredMs: number;
  hist: [number, number][];
}

export const BENCH_PREFIX = 'bench:cb_state:';
/** The rate mode the 'redis-rate' rows measure: a 60 s time window (20 buckets of 3 s), the durations recorded for slow calls. */
export const BENCH_RATE_CONFIG = { mode: 'time-window', windowSize: 60, minimumNumberOfCalls: 100, failureRateThreshold: 50, slowCallDurationMs: 60_000, slowCallRateThreshold: 100 } as const;
const FLOOR_SCRIPT = "local v = redis.call('GET', KEYS[1]) redis.call('SET', KEYS[1], v, 'EX', ARGV[3]) return 1";
const FLOOR_VALUE = JSON.stringify({
  v: 1, state: 'closed', forced: false, epoch: 0, failureCount: 0, consecutiveSuccesses: 0, lastFailureTime: null,
  stats: { totalSuccesses: 0, totalFailures: 0, circuitOpens: 0, successfulRecoveries: 0, failedRecoveries: 0, timeInOpenStateMs: 0, lastOpenTime: null },
  timeoutSeconds: 300, openedAt: null, lastStateChange: null, halfOpen: { attempts: 0, successes: 0, nextProbeId: 0, leases: {} },
});
const noop = async (): Promise<void> => undefined;

interface Prepared {
  op: () => Promise<unknown>;
  close: () => Promise<void>;
  fallbackEvents?: () => number;
}

async function prepare(spec: ScenarioSpec): Promise<Prepared> {
  const { CircuitBreaker, MemoryBreakerStore, RedisBreakerStore, silentLogger } = benchLibrary();
  const cfg = { collectorName: spec.name };
  const connect = async () => {
    if (!spec.redisUrl) throw new Error(`scenario '${spec.kind}' needs a Redis URL`);
    const redis = new Redis(spec.redisUrl, { lazyConnect: true });
    await redis.connect();
    return redis;
  };
  switch (spec.kind) {
    case 'memory':
    case 'redis':
    case 'redis-rate': {
      const redis = spec.kind !== 'memory' ? await connect() : undefined;
      let fallbackEvents = 0;
      // A generous bound: these rows measure the Redis path, not the outage policy. A call that
      // still times out is counted, and the row is reported as not valid.
      const logger = { ...silentLogger, error: (msg: string) => void (/unreachable/.test(msg) && (fallbackEvents += 1)) };
      const store = redis ? new RedisBreakerStore({ redis, keyPrefix: BENCH_PREFIX, timeoutMs: 5_000, logger }) : new MemoryBreakerStore();
      if (spec.kind === 'redis-rate') {
        const rated = new CircuitBreaker({ ...cfg, ...BENCH_RATE_CONFIG }, store);
        return {
          // What the interceptor does in a rate mode: the attempt's duration on a monotonic clock, recorded with its outcome.
          op: async () => {
            const now = Date.now();
            const d = await rated.acquire(now);
            if (!d.allowed) throw new Error(`bench breaker rejected a call: ${JSON.stringify(d)}`);
            const started = performance.now();
            await rated.recordSuccess(d.permit, now, { durationMs: performance.now() - started });
          },
          close: async () => {
            if (store instanceof RedisBreakerStore) await store.close();
            await redis?.quit();
          },
          fallbackEvents: () => fallbackEvents,
        };
      }
      const breaker = new CircuitBreaker(cfg, store);
      return {
        op: async () => {
          const now = Date.now();
          const d = await breaker.acquire(now);
          if (!d.allowed) throw new Error(`bench breaker rejected a call: ${JSON.stringify(d)}`);
          await breaker.recordSuccess(d.permit, now);
        },
        close: async () => {
          if (store instanceof RedisBreakerStore) await store.close();
          await redis?.quit();
        },
        fallbackEvents: () => fallbackEvents,
      };
    }
    case 'incr': {
      const redis = await connect();
      const key = `bench:incr:${spec.name}`;
      return { op: () => redis.incr(key), close: async () => void (await redis.quit()) };
    }
    case 'script-floor': {
      // The least any GET-then-script design costs: the same two round trips as a store decision
      // (a GET of a state-sized value, then EVALSHA with the record's arguments), but the script
      // only reads the value and writes it back with its TTL, and Node does nothing with the replies.
      const redis = await connect();
      const key = `bench:floor:${spec.name}`;
      await redis.set(key, FLOOR_VALUE);
      const sha = (await redis.script('LOAD', FLOOR_SCRIPT)) as string;
      return {
        op: async () => {
          await redis.get(key);
          await redis.evalsha(sha, 1, key, 'record', Date.now(), 86_400, '5,300,3,2,1.5,3600', 0, -1, 'success');
        },
        close: async () => void (await redis.quit()),
      };
    }
    case 'execute-memory': {
      const breaker = new CircuitBreaker(cfg, new MemoryBreakerStore());
      return { op: () => breaker.execute(noop), close: async () => undefined };
    }
    case 'opossum':
    case 'opossum-no-timeout': {
      const breaker = new Opossum(noop, spec.kind === 'opossum' ? {} : { timeout: false });
      return {
        op: () => breaker.fire(),
        close: async () => void breaker.shutdown(),
      };
    }
    case 'cockatiel': {
      const policy = circuitBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) });
      return { op: () => policy.execute(noop), close: async () => undefined };
    }
  }
}

/** Runs one scenario in this process. `startAt` (epoch ms) lines up several processes. */
export async function runScenario(spec: ScenarioSpec, startAt = Date.now()): Promise<ScenarioResult> {
  const { op, close, fallbackEvents } = await prepare(spec);
  const wait = startAt - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  const hist = new Histogram();
  const t0 = performance.now();
  const measureFrom = t0 + spec.warmupMs;
  const end = measureFrom + spec.measureMs;
  let decisions = 0;
  let allDecisions = 0;
  const lane = async () => {
    for (;;) {
      const t = performance.now();
      if (t >= end) return;
      await op();
      const done = performance.now();
      allDecisions += 1;
      if (t >= measureFrom && done <= end) {
        decisions += 1;
        hist.record((done - t) * 1e6);
      }
    }
  };
  await Promise.all(Array.from({ length: spec.callers }, lane));
  await close();
  return { decisions, allDecisions, measuredMs: spec.measureMs, hist: hist.toSparse(), fallbackEvents: fallbackEvents?.() ?? 0 };
}
