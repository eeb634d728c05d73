// The breaker's state lives in Redis under `cb_state:<name>` (prefix configurable) with a 24 h
// TTL refreshed by every write, and outlives the process that wrote it.
import Redis from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CircuitBreaker, RedisBreakerStore, silentLogger, type BreakerConfigInput, type Permit } from '../../src';
import { redisUrl } from '../helpers/redis';
import { WorkerProcess } from '../helpers/worker-pool';

const T0 = Date.UTC(2026, 2, 1, 9);
const DAY = 86_400;
let seq = 0;
const uniqueName = (label: string) => `${label}-${process.pid}-${Date.now()}-${seq++}`;

const clients: Redis[] = [];
const client = () => {
  const r = new Redis(redisUrl());
  clients.push(r);
  return r;
};
let admin: Redis;

beforeAll(() => {
  admin = client();
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.quit().catch(() => undefined)));
});

const breakerOn = (redis: Redis, cfg: BreakerConfigInput, keyPrefix?: string) =>
  new CircuitBreaker(cfg, new RedisBreakerStore({ redis, logger: silentLogger, ...(keyPrefix === undefined ? {} : { keyPrefix }) }));

async function call(b: CircuitBreaker, outcome: 'success' | 'failure', now: number) {
  const d = await b.acquire(now);
  if (!d.allowed) throw new Error(`expected admission, got ${JSON.stringify(d)}`);
  return outcome === 'success' ? b.recordSuccess(d.permit, now) : b.recordFailure(d.permit, now);
}

describe('Redis store persistence', () => {
  it('keeps the state across a process restart: a new client and a new store see it', async () => {
    const cfg = { collectorName: uniqueName('restart'), failureThreshold: 3, timeoutSeconds: 300 };
    const first = client();
    const before = breakerOn(first, cfg);
    for (let i = 0; i < 4; i++) await call(before, 'success', T0 + i);
    for (let i = 0; i < 3; i++) await call(before, 'failure', T0 + 10 + i);
    const seen = await before.getStatus(T0 + 100);
    expect(seen.state).toBe('open');
    await first.quit(); // the "process" goes away

    const after = breakerOn(client(), cfg);
    const status = await after.getStatus(T0 + 100);
    expect(status).toEqual(seen);
    expect(status.statistics).toMatchObject({ total_successes: 4, total_failures: 3, circuit_opens: 1 });
    // It acts on that state: still open, with the remaining open period to wait.
    expect(await after.acquire(T0 + 1_000)).toEqual({ allowed: false, state: 'open', retryAfterMs: 300_000 - 1_000 + 12 });
    // A new instance must not reset the shared counters (pybreaker #26).
    const again = breakerOn(client(), cfg);
    expect((await again.getStatus(T0 + 100)).statistics.total_failures).toBe(3);
  });

  it('keeps the state written by another OS process after that process exits', async () => {
    const cfg = { collectorName: uniqueName('other-process'), failureThreshold: 2, timeoutSeconds: 60 };
    const writer = WorkerProcess.start();
    try {
      await writer.request({ op: 'init', url: redisUrl(), keyPrefix: 'cb_state:', configs: [cfg] });
      const rs = await writer.run({ breaker: cfg.collectorName, now: T0, count: 5, concurrency: 1, outcome: 'failure', leaseMs: 1_000 });
      expect(rs.recorded.failure).toBe(2);
      await writer.stop();
    } finally {
      await writer.kill();
    }
    const status = await breakerOn(client(), cfg).getStatus(T0 + 1);
    expect(status.state).toBe('open');
    expect(status.statistics).toMatchObject({ total_failures: 2, circuit_opens: 1 });
    expect(status.open_until).toBe('2026-03-01T09:01:00Z');
  }, 30_000);

  it("stores the state as JSON at 'cb_state:<name>' with a TTL of 86400 s", async () => {
    const cfg = { collectorName: uniqueName('ttl'), failureThreshold: 2 };
    const b = breakerOn(client(), cfg);
    const key = `cb_state:${cfg.collectorName}`;
    expect(await admin.exists(key)).toBe(0);
    await call(b, 'failure', T0);
    expect(await admin.type(key)).toBe('string');
    const ttl = await admin.ttl(key);
    expect(ttl).toBeGreaterThan(DAY - 5);
    expect(ttl).toBeLessThanOrEqual(DAY);
    const stored = JSON.parse((await admin.get(key)) as string);
    expect(stored).toMatchObject({ v: 1, state: 'closed', failureCount: 1, stats: { totalFailures: 1 } });
  });

  it('refreshes the TTL on every write: record, transitions, probes, commands', async () => {
    const cfg = { collectorName: uniqueName('refresh'), failureThreshold: 1, timeoutSeconds: 1, halfOpenMaxCalls: 2, halfOpenSuccessThreshold: 2 };
    const b = breakerOn(client(), cfg);
    const key = `cb_state:${cfg.collectorName}`;
    // An open state's TTL also covers what is left of its open period (here 1 s); a forced-open key has none.
    const shrinkThen = async (write: () => Promise<unknown>, what: string, openFor = 0) => {
      await admin.expire(key, 30);
      expect(await admin.ttl(key)).toBeLessThanOrEqual(30);
      await write();
      const ttl = await admin.ttl(key);
      if (openFor === Infinity) return expect(ttl, `TTL after ${what}`).toBe(-1);
      expect(ttl, `TTL after ${what}`).toBeGreaterThan(DAY - 5);
      expect(ttl, `TTL after ${what}`).toBeLessThanOrEqual(DAY + openFor);
    };

    await call(b, 'success', T0); // creates the key
    await shrinkThen(() => call(b, 'success', T0 + 1), 'a recorded success');
    await shrinkThen(() => call(b, 'failure', T0 + 2), 'a failure that opens', 1);
    expect((await b.getStatus(T0 + 3)).state).toBe('open');
    let permit: Permit | undefined;
    await shrinkThen(async () => {
      const d = await b.acquire(T0 + 1_002);
      if (!d.allowed || !d.probe) throw new Error('expected a probe');
      permit = d.permit;
    }, 'an admitted half-open probe');
    const probe = permit!;
    await shrinkThen(() => b.recordSuccess(probe, T0 + 1_003), 'a probe success');
    await shrinkThen(() => b.forceOpen(T0 + 1_004), 'forceOpen', Infinity);
    await shrinkThen(() => b.forceClose(T0 + 1_005), 'forceClose');
    await shrinkThen(() => b.reset(T0 + 1_006), 'reset');
    // A late outcome moves no state but still counts in the totals: a write, so a refresh.
    await shrinkThen(() => b.recordFailure(probe, T0 + 1_007), 'a late outcome');
    expect((await b.getStatus(T0 + 1_008)).statistics).toMatchObject({ total_successes: 3, total_failures: 2 });
  });

  it('honours the ttlSeconds option', async () => {
    const cfg = { collectorName: uniqueName('ttl-option') };
    const redis = client();
    const b = new CircuitBreaker(cfg, new RedisBreakerStore({ redis, ttlSeconds: 120, logger: silentLogger }));
    await call(b, 'failure', T0);
    const ttl = await admin.ttl(`cb_state:${cfg.collectorName}`);
    expect(ttl).toBeGreaterThan(115);
    expect(ttl).toBeLessThanOrEqual(120);
  });

  it('uses the keyPrefix option instead of cb_state:', async () => {
    const cfg = { collectorName: uniqueName('prefixed'), failureThreshold: 1 };
    const prefix = `tenant-a:breakers:${process.pid}:`;
    const redis = client();
    const b = breakerOn(redis, cfg, prefix);
    expect((b.store as RedisBreakerStore).key(cfg.collectorName)).toBe(prefix + cfg.collectorName);
    await call(b, 'failure', T0);
    expect(await admin.exists(`${prefix}${cfg.collectorName}`)).toBe(1);
    expect(await admin.exists(`cb_state:${cfg.collectorName}`)).toBe(0);
    const ttl = await admin.ttl(`${prefix}${cfg.collectorName}`);
    expect(ttl).toBeGreaterThan(DAY - 5);
    // Another prefix is another breaker; the same prefix from a new client is the same breaker.
    expect((await breakerOn(client(), cfg).getStatus(T0)).state).toBe('closed');
    expect((await breakerOn(client(), cfg, prefix).getStatus(T0)).state).toBe('open');
  });
});
