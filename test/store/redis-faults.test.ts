// Faults around the Redis store: corrupt or wrong-type values at the breaker's key are logged and
// replaced (statistics kept when readable) and never reach the caller as an error; Redis going
// away mid-test hands decisions to the in-process fallback within the bound, and Redis coming
// back resyncs, with the outcomes counted during the outage merged into Redis's totals.
// Tests that kill, pause or restart Redis use their own private redis-server.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  CircuitBreaker,
  CircuitOpenError,
  RedisBreakerStore,
  parseBreakerConfig,
  type BreakerConfigInput,
  type Logger,
  type Permit,
} from '../../src';
import { toStatus } from '../../src/breaker';
import { IMPOSSIBLE_STATES } from '../fixtures/impossible-states';
import { redisUrl, startRedisServer, type RedisServer } from '../helpers/redis';

const T0 = Date.UTC(2026, 4, 1, 8);
let seq = 0;
const uniqueName = (label: string) => `${label}-${process.pid}-${Date.now()}-${seq++}`;

interface LogLine {
  level: keyof Logger;
  msg: string;
  fields: Record<string, unknown>;
}

function capturingLogger(): Logger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: keyof Logger) => (msg: string, fields: Record<string, unknown> = {}) => void lines.push({ level, msg, fields });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

async function call(b: CircuitBreaker, outcome: 'success' | 'failure', now: number) {
  const d = await b.acquire(now);
  if (!d.allowed) throw new Error(`expected admission, got ${JSON.stringify(d)}`);
  return outcome === 'success' ? b.recordSuccess(d.permit, now) : b.recordFailure(d.permit, now);
}

/** Polls `probe` (which must itself call the store, so the store gets the chance to retry) until `done`. */
async function eventually(probe: () => Promise<unknown>, done: () => boolean, what: string, limitMs = 15_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting: ${what}`);
    await probe();
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('corrupt values at the breaker key', () => {
  let admin: Redis;
  let redis: Redis;
  beforeAll(() => {
    admin = new Redis(redisUrl());
    redis = new Redis(redisUrl());
  });
  afterAll(async () => {
    await admin.quit();
    await redis.quit();
  });

  const setup = (cfg: Partial<BreakerConfigInput> = {}) => {
    const log = capturingLogger();
    const name = uniqueName('corrupt');
    // snapshotMaxAgeMs 0: these tests edit the key between two calls of one worker, and each call must read what they wrote.
    const store = new RedisBreakerStore({ redis, logger: log, timeoutMs: 2_000, snapshotMaxAgeMs: 0 });
    const breaker = new CircuitBreaker({ collectorName: name, failureThreshold: 2, ...cfg }, store);
    return { log, name, key: `cb_state:${name}`, store, breaker };
  };

  /** A valid stored state with 5 successes and 2 failures behind it (circuit open). */
  async function storedWithStatistics(breaker: CircuitBreaker, key: string) {
    for (let i = 0; i < 5; i++) await call(breaker, 'success', T0 + i);
    await call(breaker, 'failure', T0 + 10);
    await call(breaker, 'failure', T0 + 11);
    return JSON.parse((await admin.get(key)) as string) as Record<string, unknown>;
  }

  /** JSON whose every statistic is a safe integer (what the script writes back after a repair). */
  const readable = (raw: string | null) => {
    const stats = Object.values((JSON.parse(raw as string) as { stats: Record<string, unknown> }).stats);
    return stats.every((v) => v === null || Number.isSafeInteger(v));
  };

  const repairs = (log: { lines: LogLine[] }) => log.lines.filter((l) => l.level === 'error' && 'reason' in l.fields);

  it('replaces invalid JSON with a fresh state and logs the breaker and the reason', async () => {
    const { log, name, key, breaker } = setup();
    await admin.set(key, '{"v":1,"state":"open",', 'EX', 500);
    const d = await breaker.acquire(T0);
    expect(d).toMatchObject({ allowed: true, state: 'closed', probe: false });
    expect(repairs(log)).toHaveLength(1);
    expect(repairs(log)[0].fields).toMatchObject({ breaker: name, key, reason: expect.stringMatching(/not JSON/) });
    expect(repairs(log)[0].msg).toMatch(/corrupt/);
    // The key now holds a valid fresh state, with the usual TTL; the repair is logged once.
    expect(JSON.parse((await admin.get(key)) as string)).toMatchObject({ v: 1, state: 'closed', epoch: 0 });
    expect(await admin.ttl(key)).toBeGreaterThan(86_000);
    if (d.allowed) expect(await breaker.recordSuccess(d.permit, T0)).toEqual({ counted: true, state: 'closed' });
    expect((await breaker.getStatus(T0)).statistics.total_successes).toBe(1);
    expect(repairs(log)).toHaveLength(1);
  });

  it('replaces valid JSON of the wrong shape, keeping the statistics that are readable', async () => {
    const { log, name, key, breaker } = setup();
    const good = await storedWithStatistics(breaker, key);
    expect(good).toMatchObject({ state: 'open' });
    await admin.set(key, JSON.stringify({ ...good, state: 'sideways' }));

    const status = await breaker.getStatus(T0 + 20);
    expect(status.state).toBe('closed');
    expect(status.statistics).toMatchObject({ total_successes: 5, total_failures: 2, circuit_opens: 1 });
    expect(repairs(log)).toHaveLength(1);
    expect(repairs(log)[0].fields).toMatchObject({ breaker: name, reason: expect.stringMatching(/^state:/) });
    // The repair is written back: the next call finds a valid state and logs nothing new.
    expect(await breaker.acquire(T0 + 21)).toMatchObject({ allowed: true, state: 'closed' });
    expect(repairs(log)).toHaveLength(1);
  });

  it.each([
    ['a negative count', (s: Record<string, unknown>) => ({ ...s, failureCount: -1 }), /failureCount/, true],
    ['a fractional epoch', (s: Record<string, unknown>) => ({ ...s, epoch: 1.5 }), /epoch/, true],
    ['a missing halfOpen', (s: Record<string, unknown>) => ({ ...s, halfOpen: null }), /halfOpen/, true],
    ['malformed leases', (s: Record<string, unknown>) => ({ ...s, halfOpen: { attempts: 0, successes: 0, nextProbeId: 0, leases: { x: 'y' } } }), /leases/, true],
    ['an unknown version', (s: Record<string, unknown>) => ({ ...s, v: 2 }), /^v:/, true],
    ['a JSON array', () => [1, 2, 3], /./, false],
    ['a JSON number', () => 42, /not an object/, false],
    ['JSON null', () => null, /not an object/, false],
  ])('replaces a state with %s (statistics kept: %s)', async (_what, mutate, reason, statsKept) => {
    const { log, name, key, breaker } = setup();
    const good = await storedWithStatistics(breaker, key);
    await admin.set(key, JSON.stringify(mutate(good)));
    const d = await breaker.acquire(T0 + 20);
    expect(d).toMatchObject({ allowed: true, state: 'closed' });
    expect(repairs(log)[0]?.fields).toMatchObject({ breaker: name, reason: expect.stringMatching(reason) });
    const stats = (await breaker.getStatus(T0 + 20)).statistics;
    if (statsKept) expect(stats).toMatchObject({ total_successes: 5, total_failures: 2, circuit_opens: 1 });
    else expect(stats).toMatchObject({ total_successes: 0, total_failures: 0, circuit_opens: 0 });
  });

  // The same values the TypeScript decoder refuses (test/unit/decode-state.test.ts): the two decoders agree.
  it.each(IMPOSSIBLE_STATES)('replaces a state that mixes circuit states: %s (statistics kept)', async (_what, mutate, reason) => {
    const { log, name, key, breaker } = setup();
    const good = await storedWithStatistics(breaker, key);
    await admin.set(key, JSON.stringify(mutate(good)));
    expect(await breaker.acquire(T0 + 20)).toMatchObject({ allowed: true, state: 'closed' });
    expect(repairs(log)[0]?.fields).toMatchObject({ breaker: name, reason: expect.stringMatching(reason) });
    expect((await breaker.getStatus(T0 + 20)).statistics).toMatchObject({ total_successes: 5, total_failures: 2, circuit_opens: 1 });
  });

  it('keeps the state and every readable statistic when one statistic is corrupt ("circuitOpens":"x")', async () => {
    const { log, name, key, breaker } = setup();
    const good = await storedWithStatistics(breaker, key);
    await admin.set(key, JSON.stringify({ ...good, stats: { ...(good.stats as object), circuitOpens: 'x' } }));
    const status = await breaker.getStatus(T0 + 20);
    expect(status.state).toBe('open');
    expect(status.statistics).toMatchObject({ total_successes: 5, total_failures: 2, circuit_opens: 0 });
    expect(repairs(log)).toHaveLength(1);
    expect(repairs(log)[0].fields).toMatchObject({ breaker: name, reason: expect.stringMatching(/stats\.circuitOpens/) });
    expect(JSON.parse((await admin.get(key)) as string)).toMatchObject({ state: 'open', stats: { totalSuccesses: 5, circuitOpens: 0 } });
  });

  it('replaces malformed statistics field by field, keeping the state', async () => {
    const { log, name, key, breaker } = setup();
    const good = await storedWithStatistics(breaker, key);
    await admin.set(key, JSON.stringify({ ...good, stats: { totalFailures: 'many' } }));
    expect(await breaker.acquire(T0 + 20)).toMatchObject({ allowed: false, state: 'open' });
    expect(repairs(log)[0]?.fields).toMatchObject({ breaker: name, reason: expect.stringMatching(/stats/) });
    expect((await breaker.getStatus(T0 + 20)).statistics).toMatchObject({ total_successes: 0, total_failures: 0, circuit_opens: 0 });
  });

  it.each([
    ['a statistic beyond any number (1e400)', '1e400'],
    ['a statistic of 400 digits', '9'.repeat(400)],
  ])('reads %s as a corrupt value of this breaker, never as an outage', async (_what, huge) => {
    const { log, name, key, breaker, store } = setup();
    const uncertain: LogLine[] = [];
    const warnLog = { ...log, warn: (msg: string, fields: Record<string, unknown> = {}) => void uncertain.push({ level: 'warn', msg, fields }) };
    const watched = new CircuitBreaker(breaker.config, new RedisBreakerStore({ redis, logger: warnLog, timeoutMs: 2_000, snapshotMaxAgeMs: 0 }));
    // closed: a record meets it first
    await call(breaker, 'success', T0);
    const closed = (await admin.get(key)) as string;
    await admin.set(key, closed.replace('"totalSuccesses":1', `"totalSuccesses":${huge}`));
    await call(watched, 'success', T0 + 1);
    await call(watched, 'failure', T0 + 2);
    expect(readable(await admin.get(key))).toBe(true);
    // open, with a transition's JSON in the reply
    const good = await storedWithStatistics(watched, key);
    await admin.set(key, JSON.stringify(good).replace(/"totalSuccesses":\d+/, `"totalSuccesses":${huge}`));
    const status = await watched.getStatus(T0 + 20);
    expect(status).toMatchObject({ state: 'open', statistics: { total_successes: 0, total_failures: 3, circuit_opens: 1 } });
    expect(readable(await admin.get(key))).toBe(true);
    expect(store.degraded).toBe(false);
    expect((watched.store as RedisBreakerStore).degraded).toBe(false);
    expect(log.lines.filter((l) => /unreachable/.test(l.msg))).toHaveLength(0);
    expect(uncertain.filter((l) => /unanswered/.test(l.msg))).toHaveLength(0);
    expect(repairs(log).length).toBeGreaterThanOrEqual(2);
    for (const r of repairs(log)) expect(r.fields).toMatchObject({ breaker: name, reason: expect.stringMatching(/stats\.totalSuccesses/) });
  });

  it.each([
    ['a hash', (r: Redis, k: string) => r.hset(k, 'state', 'open')],
    ['a list', (r: Redis, k: string) => r.rpush(k, 'open')],
    ['a set', (r: Redis, k: string) => r.sadd(k, 'open')],
    ['a sorted set', (r: Redis, k: string) => r.zadd(k, 1, 'open')],
  ])('replaces %s at the key (wrong Redis type) with a fresh string state', async (_what, plant) => {
    const { log, name, key, breaker } = setup();
    await plant(admin, key);
    const d = await breaker.acquire(T0);
    expect(d).toMatchObject({ allowed: true, state: 'closed' });
    expect(repairs(log)).toHaveLength(1);
    expect(repairs(log)[0].fields).toMatchObject({ breaker: name, key, reason: expect.stringMatching(/wrong Redis type.*WRONGTYPE/) });
    expect(await admin.type(key)).toBe('string');
    if (d.allowed) await breaker.recordFailure(d.permit, T0);
    expect((await breaker.getStatus(T0)).statistics.total_failures).toBe(1);
  });

  it('never throws to the caller, whichever operation meets the corrupt value', async () => {
    const corruptions: [string, (k: string) => Promise<unknown>][] = [
      ['bad JSON', (k) => admin.set(k, 'not json at all')],
      ['wrong shape', (k) => admin.set(k, JSON.stringify({ v: 1, state: 'closed' }))],
      ['a hash', async (k) => (await admin.del(k), admin.hset(k, 'a', 'b'))],
    ];
    for (const [what, corrupt] of corruptions) {
      const { log, name, key, breaker } = setup({ failureThreshold: 1 });
      const permit: Permit = { breaker: name, epoch: 0, probeId: null, issuedAt: T0, leaseExpiresAt: null };
      const ops: [string, () => Promise<unknown>][] = [
        ['acquire', () => breaker.acquire(T0)],
        ['recordSuccess', () => breaker.recordSuccess(permit, T0)],
        ['recordFailure', () => breaker.recordFailure(permit, T0)],
        ['getStatus', () => breaker.getStatus(T0)],
        ['forceOpen', () => breaker.forceOpen(T0)],
        ['forceClose', () => breaker.forceClose(T0)],
        ['reset', () => breaker.reset(T0)],
        ['execute', () => breaker.execute(async () => 'ok')],
      ];
      for (const [op, run] of ops) {
        await corrupt(key);
        const before = repairs(log).length;
        await expect(run(), `${op} on ${what}`).resolves.toBeDefined();
        expect(repairs(log).length, `${op} on ${what} is logged`).toBe(before + 1);
        expect(repairs(log).at(-1)?.fields.breaker).toBe(name);
        expect(await admin.type(key)).toBe('string');
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Redis going away and coming back: a private redis-server per test (append-only file, fsync
// always, so what Redis acknowledged before a SIGKILL is still there after the restart).

describe('Redis stopped and restarted mid-test', () => {
  /**
   * Kills Redis and waits for the client to see it: until then a decision may still come from
   * the snapshot of the last reply (no round trip), which these tests are not about.
   */
  const killRedis = async () => {
    await server.kill('SIGKILL');
    while (redis.status === 'ready') await new Promise((r) => setTimeout(r, 5));
  };
  let server: RedisServer;
  let dir: string;
  let redis: Redis;
  let log: ReturnType<typeof capturingLogger>;
  let store: RedisBreakerStore;

  const start = (port?: number) =>
    startRedisServer({ ...(port ? { port } : {}), args: ['--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir] });

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tcb-redis-faults-'));
    server = await start();
    // Reconnect quickly; the store itself decides when to use the connection again.
    redis = new Redis(server.url, { retryStrategy: () => 50, maxRetriesPerRequest: 1 });
    redis.on('error', () => undefined);
    await redis.ping();
    log = capturingLogger();
    store = new RedisBreakerStore({ redis, logger: log, retryIntervalMs: 200 }); // timeoutMs: the default 100 ms
  });

  afterEach(async () => {
    redis.disconnect();
    if (server.process.exitCode === null && server.process.signalCode === null) {
      process.kill(server.pid, 'SIGCONT'); // in case a test left it paused
      await server.stop();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  /** What Redis itself holds, read through a separate client (not through the store under test). */
  async function redisTotals(name: string) {
    const other = new Redis(server.url);
    try {
      const raw = await other.get(`cb_state:${name}`);
      const s = JSON.parse(raw as string) as { state: string; stats: { totalSuccesses: number; totalFailures: number } };
      return { state: s.state, successes: s.stats.totalSuccesses, failures: s.stats.totalFailures };
    } finally {
      other.disconnect();
    }
  }

  const outageLog = () => log.lines.filter((l) => l.level === 'error' && /Redis unreachable/.test(l.msg));

  it('serves from the in-process fallback while Redis is down, then resyncs and merges the outage totals', async () => {
    const name = uniqueName('outage');
    let now = T0;
    const breaker = new CircuitBreaker({ collectorName: name, failureThreshold: 3, timeoutSeconds: 60 }, store, { clock: () => now });
    for (let i = 0; i < 10; i++) await call(breaker, 'success', now++);
    await call(breaker, 'failure', now++);
    expect(await redisTotals(name)).toEqual({ state: 'closed', successes: 10, failures: 1 });
    expect(store.degraded).toBe(false);

    await killRedis();

    // The first decision after the crash still answers (within the bound), from the fallback.
    const first = await breaker.acquire(now++);
    expect(first).toMatchObject({ allowed: true, state: 'closed' });
    expect(store.degraded).toBe(true);
    expect(outageLog()).toHaveLength(1);
    expect(outageLog()[0].fields).toMatchObject({ breaker: name, policy: 'fallback' });
    if (!first.allowed) throw new Error('unreachable');
    expect(first.permit.fallback).toBe(true);
    await breaker.recordSuccess(first.permit, now++);

    // The fallback keeps serving: successes pass, failures open it locally, then it rejects.
    for (let i = 0; i < 4; i++) await call(breaker, 'success', now++);
    for (let i = 0; i < 3; i++) await call(breaker, 'failure', now++);
    const rejected = await breaker.acquire(now);
    expect(rejected).toMatchObject({ allowed: false, state: 'open' });
    if (!rejected.allowed) expect(rejected.retryAfterMs).toBeGreaterThan(59_000);
    await expect(breaker.execute(async () => 'never called')).rejects.toBeInstanceOf(CircuitOpenError);
    expect(store.degraded).toBe(true);
    expect(outageLog()).toHaveLength(1); // logged loudly once, not per call
    // Operator commands cannot be served locally: they fail loudly rather than split the fleet.
    await expect(breaker.forceOpen(now)).rejects.toThrow(/unreachable/);

    // Redis comes back on the same port. After the retry interval the store resyncs.
    server = await start(server.port);
    await eventually(() => breaker.getStatus(now), () => !store.degraded, 'the store to resync');
    expect(log.lines.some((l) => l.level === 'warn' && /reachable again/.test(l.msg))).toBe(true);

    // Redis's totals: the 10 + 1 from before the crash (kept by the AOF) plus the 5 + 3 counted
    // during the outage. The local open does not travel: the shared state is what Redis says.
    expect(await redisTotals(name)).toEqual({ state: 'closed', successes: 15, failures: 4 });
    const status = await breaker.getStatus(now);
    expect(status.statistics).toMatchObject({ total_successes: 15, total_failures: 4 });
    const shared = await breaker.acquire(now + 1);
    expect(shared).toMatchObject({ allowed: true, state: 'closed' });
    if (shared.allowed) expect(shared.permit.fallback).toBeUndefined();
  }, 30_000);

  it('loses no outcome when Redis dies under load, and resyncs while the traffic goes on', async () => {
    const name = uniqueName('under-load');
    const breaker = new CircuitBreaker({ collectorName: name, failureThreshold: 1_000_000 }, store, { clock: () => T0 });
    const LANES = 16;
    let recorded = 0;
    let stop = false;
    const lane = async () => {
      while (!stop) {
        const d = await breaker.acquire(T0);
        if (d.allowed) {
          await breaker.recordSuccess(d.permit, T0);
          recorded += 1;
        }
        await new Promise((r) => setImmediate(r));
      }
    };
    const lanes = Array.from({ length: LANES }, lane);
    try {
      await new Promise((r) => setTimeout(r, 200));
      await killRedis();
      await new Promise((r) => setTimeout(r, 200));
      expect(store.degraded).toBe(true);
      server = await start(server.port);
      // The resync must complete while every lane keeps calling (a drain that waits for the
      // traffic to stop would never finish).
      await eventually(async () => undefined, () => !store.degraded, 'the store to resync under load');
      await new Promise((r) => setTimeout(r, 200));
    } finally {
      stop = true;
      await Promise.all(lanes);
    }
    const totals = await redisTotals(name);
    // Every outcome a caller recorded is in Redis. A record that was in flight when Redis died is
    // ambiguous (Redis may have run it and lost only the reply, or ioredis may resend it): the store
    // counts it locally too, so the totals may exceed by at most one per lane, never fall short.
    expect(totals.successes).toBeGreaterThanOrEqual(recorded);
    expect(totals.successes - recorded).toBeLessThanOrEqual(LANES);
  }, 30_000);

  it('merges the outcomes counted locally when the store is closed, so a shutdown loses none', async () => {
    const name = uniqueName('close-merges');
    const breaker = new CircuitBreaker({ collectorName: name, failureThreshold: 10 }, store);
    await call(breaker, 'success', T0);
    process.kill(server.pid, 'SIGSTOP');
    try {
      await call(breaker, 'success', T0 + 1); // times out: counted by the fallback
      expect(store.degraded).toBe(true);
      await call(breaker, 'failure', T0 + 2);
      await call(breaker, 'success', T0 + 3);
    } finally {
      process.kill(server.pid, 'SIGCONT');
    }
    // The process shuts down before any call gave the store a chance to resync.
    await store.close();
    expect(await redisTotals(name)).toEqual({ state: 'closed', successes: 3, failures: 1 });
  }, 30_000);

  it('names the breaker in the outage log when the client is already disconnected', async () => {
    const name = uniqueName('named');
    const breaker = new CircuitBreaker({ collectorName: name }, store);
    await killRedis();
    await eventually(async () => undefined, () => redis.status !== 'ready', 'the client to notice');
    expect(await breaker.acquire(T0)).toMatchObject({ allowed: true });
    expect(outageLog()).toHaveLength(1);
    expect(outageLog()[0].fields).toMatchObject({ breaker: name, error: expect.stringMatching(/client status/) });
  }, 30_000);

  it('bounds the wait when Redis stops answering (paused process): the timeout decides, not the socket', async () => {
    const name = uniqueName('paused');
    const breaker = new CircuitBreaker({ collectorName: name, failureThreshold: 2 }, store);
    await call(breaker, 'success', T0);
    process.kill(server.pid, 'SIGSTOP'); // the connection stays up; Redis just never answers
    try {
      // Admitted from the snapshot of the last reply (closed, younger than snapshotMaxAgeMs): no round trip.
      const d = await breaker.acquire(T0 + 1);
      expect(d).toMatchObject({ allowed: true, state: 'closed' });
      expect(store.degraded).toBe(false);
      // The record must reach Redis: the only way it can end is the store's own timer (default bound: 100 ms).
      if (d.allowed) await breaker.recordSuccess(d.permit, T0 + 2);
      expect(store.degraded).toBe(true);
      expect(outageLog()[0].fields).toMatchObject({ breaker: name, error: expect.stringMatching(/did not answer within 100 ms/) });
      expect(redis.status).toBe('ready');
      // execute() keeps working: an activity never fails only because the store is down.
      await expect(breaker.execute(async () => 42)).resolves.toBe(42);
    } finally {
      process.kill(server.pid, 'SIGCONT');
    }
    await eventually(() => breaker.getStatus(T0 + 3), () => !store.degraded, 'the store to resync');
    expect(await redisTotals(name)).toEqual({ state: 'closed', successes: 3, failures: 0 });
  }, 30_000);

  it("counts a fallback permit's outcome that arrives after the resync in Redis's totals", async () => {
    const name = uniqueName('late-fallback');
    const breaker = new CircuitBreaker({ collectorName: name, failureThreshold: 5 }, store);
    await call(breaker, 'success', T0);
    await killRedis();
    const during = await breaker.acquire(T0 + 1); // issued by the fallback; its call is still running…
    if (!during.allowed) throw new Error('expected admission');
    expect(during.permit.fallback).toBe(true);
    server = await start(server.port);
    await eventually(() => breaker.getStatus(T0 + 2), () => !store.degraded, 'the store to resync');
    // …and ends after Redis is back.
    await breaker.recordFailure(during.permit, T0 + 3);
    expect(await redisTotals(name)).toEqual({ state: 'closed', successes: 1, failures: 1 });
  }, 30_000);

  it('starts a second outage from the last shared state, not from what the fallback did in the first', async () => {
    const name = uniqueName('second-outage');
    const breaker = new CircuitBreaker({ collectorName: name, failureThreshold: 2, timeoutSeconds: 600 }, store);
    await call(breaker, 'success', T0);

    // Outage 1: the fallback opens locally.
    await killRedis();
    await call(breaker, 'failure', T0 + 1);
    await call(breaker, 'failure', T0 + 2);
    expect(await breaker.acquire(T0 + 3)).toMatchObject({ allowed: false, state: 'open' });
    server = await start(server.port);
    await eventually(() => breaker.getStatus(T0 + 4), () => !store.degraded, 'the store to resync');

    // Redis says closed, and the fleet keeps calling.
    await call(breaker, 'success', T0 + 5);

    // Outage 2, well inside the first outage's local open period: the shared state was closed.
    await killRedis();
    const d = await breaker.acquire(T0 + 6);
    expect(store.degraded).toBe(true);
    expect(d).toMatchObject({ allowed: true, state: 'closed' });
  }, 30_000);

  it("'reject' policy: the rejection and its status say the store is unavailable, not that the circuit is closed", async () => {
    const name = uniqueName('reject-policy');
    const rejecting = new RedisBreakerStore({ redis, logger: log, retryIntervalMs: 200, onUnavailable: 'reject' });
    const breaker = new CircuitBreaker({ collectorName: name, failureThreshold: 3 }, rejecting);
    await call(breaker, 'success', T0);
    await call(breaker, 'failure', T0 + 1);
    await killRedis();
    const reply = await rejecting.acquire(breaker.config, T0 + 2, 1000);
    expect(reply.result).toMatchObject({ allowed: false, state: 'open' });
    // What the interceptor does with a rejection: the status of the reply's state.
    const status = toStatus(breaker.config, reply.state, T0 + 2);
    // Last seen closed, with its counts; the status says the store is unavailable.
    expect(status).toMatchObject({ state: 'open', store_unavailable: true, last_seen_state: 'closed', failure_count: 1, statistics: { total_successes: 1, total_failures: 1 } });
    expect(toStatus(breaker.config, await rejecting.load(breaker.config), T0 + 2)).toMatchObject({ state: 'open', store_unavailable: true });
    const error = await breaker.execute(async () => 'never called').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CircuitOpenError);
    expect((error as CircuitOpenError).message).toMatch(/unavailable/);
    expect((error as CircuitOpenError).status).toMatchObject({ store_unavailable: true });
  }, 30_000);

  it('keeps a status read working while Redis is down', async () => {
    const name = uniqueName('status-down');
    const cfg = parseBreakerConfig({ collectorName: name, failureThreshold: 1, timeoutSeconds: 30 });
    const breaker = new CircuitBreaker(cfg, store);
    await call(breaker, 'failure', T0);
    expect((await breaker.getStatus(T0 + 1)).state).toBe('open');
    await killRedis();
    // The fallback starts from the last state Redis showed: open, with the same open period.
    const status = await breaker.getStatus(T0 + 2);
    expect(store.degraded).toBe(true);
    expect(status).toMatchObject({ state: 'open', collector_name: name });
    expect(await breaker.acquire(T0 + 3)).toMatchObject({ allowed: false, state: 'open', retryAfterMs: 30_000 - 3 });
  }, 30_000);
});
