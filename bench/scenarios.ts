/**
 * The measured loops, shared by the bench's main process and its worker processes.
 *
 * Throughput scenarios run `callers` concurrent async loops on one breaker (or one Redis key) for
 * a warm-up, then for the measured window; each completed operation is one "call": a guarded call
 * (acquire + recordSuccess) for the stores, one INCR or one EVALSHA for the Redis baselines, one
 * execute/fire for the policies. Time checks are inline (no timers): a loop over an in-memory
 * store never yields to the timer queue.
 *
 * The 'opening' scenario runs `callers` loops on a fresh consecutive-mode breaker whose upstream
 * succeeds for the warm-up and fails every call that ends after it (the onset); each loop calls
 * until its first rejection (at most `measureMs` after the onset), and the tally says how many
 * admitted calls were recorded as failures the store did not count (see OpeningTally).
 */
import { performance } from 'node:perf_hooks';
import { circuitBreaker, ConsecutiveBreaker, handleAll } from 'cockatiel';
import Redis from 'ioredis';
import Opossum from 'opossum';
import { benchLibrary } from './library';
import { Histogram } from './histogram';

export type ScenarioKind =
  | 'memory' // acquire + recordSuccess, memory store
  | 'redis' // acquire + recordSuccess, Redis store (one script call per guarded call while the snapshot is fresh)
  | 'redis-rate' // the same in a rate mode (time-window, 60 s), the call's duration recorded
  | 'incr' // raw ioredis INCR (1 round trip)
  | 'script-floor' // one EVALSHA of a trivial script per operation (GET, SET back with EX, return the value)
  | 'execute-memory' // our execute(noop), memory store
  | 'opossum' // opossum fire(noop), default options (10 s timeout timer per call)
  | 'opossum-no-timeout' // opossum fire(noop), timeout: false
  | 'cockatiel' // cockatiel circuitBreaker(...).execute(noop)
  | 'opening'; // calls on a breaker whose upstream starts failing: see OpeningTally

export interface ScenarioSpec {
  kind: ScenarioKind;
  callers: number;
  /** Throughput: unmeasured calls first. 'opening': how long the upstream succeeds. */
  warmupMs: number;
  /** Throughput: the measured window. 'opening': the longest the callers keep calling once it fails. */
  measureMs: number;
  redisUrl?: string;
  /** Breaker name / Redis key suffix, the same in every process of a multi-process run. */
  name: string;
  /** Redis store scenarios: the store's snapshotMaxAgeMs (absent: the store's default). */
  snapshotMaxAgeMs?: number;
  /** Redis store scenarios: a client without FCALL, so the store runs its script with EVALSHA (as on Redis 6). */
  withoutFunctions?: boolean;
}

/** What one process saw of an opening ("the onset": when the upstream starts failing). */
export interface OpeningTally {
  /** Outcomes recorded as successes (before the onset). */
  successes: number;
  /** Admitted calls that ended after the onset: recorded as failures. */
  failures: number;
  /** Of those, the ones whose record returned counted: false (their permit's closed period had ended): the late permits. */
  uncounted: number;
  /** Callers still admitted at the deadline (0 for a valid row). */
  unfinished: number;
}

export interface ScenarioResult {
  /** Times the Redis store gave up on Redis and decided in-process (must be 0 for a valid Redis row). */
  fallbackEvents: number;
  /** Calls completed inside the measured window. */
  calls: number;
  /** Every call, warm-up included (to check Redis's totals afterwards). */
  allCalls: number;
  hist: [number, number][];
  /** 'opening' only. */
  opening?: OpeningTally;
}

export const BENCH_PREFIX = 'bench:cb_state:';
/** The rate mode the 'redis-rate' rows measure: a 60 s time window (20 buckets of 3 s), the durations recorded for slow calls. */
export const BENCH_RATE_CONFIG = { mode: 'time-window', windowSize: 60, minimumNumberOfCalls: 100, failureRateThreshold: 50, slowCallDurationMs: 60_000, slowCallRateThreshold: 100 } as const;
/** The breaker the 'opening' rows open: it stays open for the whole row. */
export const BENCH_OPENING_CONFIG = { failureThreshold: 5, timeoutSeconds: 600 } as const;
const FLOOR_SCRIPT = "local v = redis.call('GET', KEYS[1]) redis.call('SET', KEYS[1], v, 'EX', ARGV[3]) return v";
const FLOOR_VALUE = JSON.stringify({
  v: 1, state: 'closed', forced: false, epoch: 0, incarnation: 'bench0000000', failureCount: 0, consecutiveSuccesses: 0, lastFailureTime: null,
  stats: { totalSuccesses: 0, totalFailures: 0, circuitOpens: 0, successfulRecoveries: 0, failedRecoveries: 0, timeInOpenStateMs: 0, lastOpenTime: null },
  timeoutSeconds: 300, openedAt: null, lastStateChange: null, halfOpen: { attempts: 0, successes: 0, nextProbeId: 0, leases: {} },
});
const noop = async (): Promise<void> => undefined;

interface Prepared {
  op: () => Promise<unknown>;
  close: () => Promise<void>;
  fallbackEvents?: () => number;
}

async function connect(spec: ScenarioSpec): Promise<Redis> {
  if (!spec.redisUrl) throw new Error(`scenario '${spec.kind}' needs a Redis URL`);
  const redis = new Redis(spec.redisUrl, { lazyConnect: true });
  await redis.connect();
  return redis;
}

/**
 * A breaker on the memory store, or on a Redis store of its own connection. Redis: a generous
 * timeout, since these rows measure the Redis path, not the outage policy; a call that still
 * times out is counted (fallbackEvents), and the row is reported as not valid.
 */
async function benchBreaker(spec: ScenarioSpec, redisStore: boolean, config: object) {
  const { CircuitBreaker, MemoryBreakerStore, RedisBreakerStore, silentLogger } = benchLibrary();
  const cfg = { collectorName: spec.name, ...config };
  if (!redisStore) return { breaker: new CircuitBreaker(cfg, new MemoryBreakerStore()), close: async () => undefined, fallbackEvents: () => 0 };
  const redis = await connect(spec);
  const client = spec.withoutFunctions ? new Proxy(redis, { get: (target, prop) => (prop === 'fcall' ? undefined : Reflect.get(target, prop, target)) }) : redis;
  let fallbackEvents = 0;
  const logger = { ...silentLogger, error: (msg: string) => void (/unreachable/.test(msg) && (fallbackEvents += 1)) };
  const store = new RedisBreakerStore({ redis: client, keyPrefix: BENCH_PREFIX, timeoutMs: 5_000, logger, ...(spec.snapshotMaxAgeMs === undefined ? {} : { snapshotMaxAgeMs: spec.snapshotMaxAgeMs }) });
  const close = async () => {
    await store.close();
    await redis.quit();
  };
  return { breaker: new CircuitBreaker(cfg, store), close, fallbackEvents: () => fallbackEvents };
}

async function prepare(spec: ScenarioSpec): Promise<Prepared> {
  switch (spec.kind) {
    case 'memory':
    case 'redis': {
      const { breaker, close, fallbackEvents } = await benchBreaker(spec, spec.kind === 'redis', {});
      const op = async () => {
        const now = Date.now();
        const d = await breaker.acquire(now);
        if (!d.allowed) throw new Error(`bench breaker rejected a call: ${JSON.stringify(d)}`);
        await breaker.recordSuccess(d.permit, now);
      };
      return { op, close, fallbackEvents };
    }
    case 'redis-rate': {
      const { breaker, close, fallbackEvents } = await benchBreaker(spec, true, BENCH_RATE_CONFIG);
      // What the interceptor does in a rate mode: the attempt's duration on a monotonic clock, recorded with its outcome.
      const op = async () => {
        const now = Date.now();
        const d = await breaker.acquire(now);
        if (!d.allowed) throw new Error(`bench breaker rejected a call: ${JSON.stringify(d)}`);
        const started = performance.now();
        await breaker.recordSuccess(d.permit, now, { durationMs: performance.now() - started });
      };
      return { op, close, fallbackEvents };
    }
    case 'incr': {
      const redis = await connect(spec);
      const key = `bench:incr:${spec.name}`;
      return { op: () => redis.incr(key), close: async () => void (await redis.quit()) };
    }
    case 'script-floor': {
      // The least any one-script-per-call design costs: one EVALSHA per operation, with a record's
      // arguments (1 key, 12 ARGV), of a script that reads a state-sized value, writes it back with
      // its TTL and replies with it; Node does nothing with the reply.
      const redis = await connect(spec);
      const key = `bench:floor:${spec.name}`;
      await redis.set(key, FLOOR_VALUE);
      const sha = (await redis.script('LOAD', FLOOR_SCRIPT)) as string;
      const op = () => redis.evalsha(sha, 1, key, 'record', Date.now(), 86_400, '5,300,1,1,2,3600', 'bench0000000', 0, -1, 'success', 'bench0000000', -1, -1, '');
      return { op, close: async () => void (await redis.quit()) };
    }
    case 'execute-memory': {
      const { breaker } = await benchBreaker(spec, false, {});
      return { op: () => breaker.execute(noop), close: async () => undefined };
    }
    case 'opossum':
    case 'opossum-no-timeout': {
      const breaker = new Opossum(noop, spec.kind === 'opossum' ? {} : { timeout: false });
      return { op: () => breaker.fire(), close: async () => void breaker.shutdown() };
    }
    case 'cockatiel': {
      const policy = circuitBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) });
      return { op: () => policy.execute(noop), close: async () => undefined };
    }
    case 'opening':
      throw new Error("'opening' is not a throughput scenario");
  }
}

const until = async (startAt: number) => {
  const wait = startAt - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
};

/** Runs one scenario in this process. `startAt` (epoch ms) lines up several processes. */
export function runScenario(spec: ScenarioSpec, startAt = Date.now()): Promise<ScenarioResult> {
  return spec.kind === 'opening' ? runOpening(spec, startAt) : runThroughput(spec, startAt);
}

async function runThroughput(spec: ScenarioSpec, startAt: number): Promise<ScenarioResult> {
  const { op, close, fallbackEvents } = await prepare(spec);
  await until(startAt);
  const hist = new Histogram();
  const t0 = performance.now();
  const measureFrom = t0 + spec.warmupMs;
  const end = measureFrom + spec.measureMs;
  let calls = 0;
  let allCalls = 0;
  const lane = async () => {
    for (;;) {
      const t = performance.now();
      if (t >= end) return;
      await op();
      const done = performance.now();
      allCalls += 1;
      if (t >= measureFrom && done <= end) {
        calls += 1;
        hist.record((done - t) * 1e6);
      }
    }
  };
  await Promise.all(Array.from({ length: spec.callers }, lane));
  await close();
  return { calls, allCalls, hist: hist.toSparse(), fallbackEvents: fallbackEvents?.() ?? 0 };
}

/**
 * Callers on a fresh Redis-store breaker (BENCH_OPENING_CONFIG): the upstream answers success
 * to every call that ends before the onset (`startAt` + the warm-up, on the wall clock, so that
 * every process fails from the same instant) and failure to every call that ends after it (the
 * outcome is chosen when the call ends, just before its record). A caller stops at its first
 * rejection: the circuit stays open for the rest of the row, so it would never be admitted again.
 */
async function runOpening(spec: ScenarioSpec, startAt: number): Promise<ScenarioResult> {
  const { breaker, close, fallbackEvents } = await benchBreaker(spec, true, BENCH_OPENING_CONFIG);
  await until(startAt);
  const onset = startAt + spec.warmupMs - performance.timeOrigin; // on performance.now()'s clock
  const deadline = onset + spec.measureMs;
  const tally: OpeningTally = { successes: 0, failures: 0, uncounted: 0, unfinished: 0 };
  const lane = async () => {
    for (;;) {
      if (performance.now() >= deadline) return void (tally.unfinished += 1);
      const d = await breaker.acquire(Date.now());
      if (!d.allowed) return;
      if (performance.now() < onset) {
        await breaker.recordSuccess(d.permit, Date.now());
        tally.successes += 1;
        continue;
      }
      const { counted } = await breaker.recordFailure(d.permit, Date.now());
      tally.failures += 1;
      if (!counted) tally.uncounted += 1;
    }
  };
  await Promise.all(Array.from({ length: spec.callers }, lane));
  await close();
  const allCalls = tally.successes + tally.failures;
  return { calls: allCalls, allCalls, hist: [], fallbackEvents: fallbackEvents(), opening: tally };
}
