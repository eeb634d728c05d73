// The key's TTL never ends a circuit's open period: a forced-open key has no TTL (it stays open
// until an operator releases it), and an open key's TTL covers the rest of its open period plus
// ttlSeconds. Rejections write nothing, so nothing else would refresh the key. Tested with a
// 1-second ttlSeconds on a real Redis.
import Redis from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { CircuitBreaker, RedisBreakerStore } from '../../src';
import { redisUrl } from '../helpers/redis';

const redis = new Redis(redisUrl());
afterAll(() => redis.quit());
let seq = 0;
const PREFIX = 'ttl:';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function setup(timeoutSeconds: number) {
  const name = `ttl-${process.pid}-${Date.now()}-${seq++}`;
  const store = new RedisBreakerStore({ redis, keyPrefix: PREFIX, ttlSeconds: 1, snapshotMaxAgeMs: 0 });
  const breaker = new CircuitBreaker({ collectorName: name, failureThreshold: 1, timeoutSeconds, maxTimeoutSeconds: 100 }, store);
  return { breaker, key: PREFIX + name };
}

async function fail(b: CircuitBreaker, now: number) {
  const d = await b.acquire(now);
  if (!d.allowed) throw new Error(`expected admission, got ${JSON.stringify(d)}`);
  return b.recordFailure(d.permit, now);
}

describe('Redis key TTL and open periods', () => {
  it('keeps a forced-open key without a TTL, so it stays open past ttlSeconds until released', async () => {
    const { breaker, key } = setup(10);
    const now = Date.now();
    await fail(breaker, now); // any prior state, with the short TTL
    await breaker.forceOpen(now + 1);
    expect(await redis.ttl(key)).toBe(-1);
    await sleep(1_300);
    expect(await breaker.acquire(now + 1_300)).toEqual({ allowed: false, state: 'open', retryAfterMs: null });
    expect((await breaker.getStatus(now + 1_300)).forced).toBe(true);
    await breaker.forceClose(now + 1_301);
    const ttl = await redis.ttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(1);
  });

  it('keeps an open key for its whole open period plus ttlSeconds', async () => {
    const { breaker, key } = setup(3);
    const now = Date.now();
    await fail(breaker, now);
    const pttl = await redis.pttl(key);
    expect(pttl).toBeGreaterThan(3_000);
    expect(pttl).toBeLessThanOrEqual(4_000);
    await sleep(1_300);
    expect(await breaker.acquire(now + 1_300)).toEqual({ allowed: false, state: 'open', retryAfterMs: 1_700 });
  });

  it('gives a backed-off open period its longer TTL', async () => {
    const { breaker, key } = setup(10);
    const now = Date.now();
    await fail(breaker, now);
    await fail(breaker, now + 10_000); // the probe fails: open for 15 s
    expect((await breaker.getStatus(now + 10_000)).timeout_seconds).toBe(15);
    expect(await redis.pttl(key)).toBeGreaterThan(15_000);
  });
});
