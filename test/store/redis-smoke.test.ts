import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newRedis, redisUrl } from '../helpers/redis';

describe('smoke: real redis-server through ioredis', () => {
  let redis: Redis;

  beforeAll(() => {
    redis = newRedis();
  });

  afterAll(async () => {
    await redis?.quit();
  });

  it('round-trips a value and reports the server version', async () => {
    const key = `smoke:${randomUUID()}`;
    expect(await redis.set(key, 'ok', 'EX', 60)).toBe('OK');
    expect(await redis.get(key)).toBe('ok');
    const ttl = await redis.ttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60);
    expect(await redis.del(key)).toBe(1);

    const info = await redis.info('server');
    const version = /^redis_version:(\S+)/m.exec(info)?.[1];
    expect(version).toMatch(/^\d+\.\d+\.\d+/);
    console.info(`[smoke] redis ${version} at ${redisUrl()}`);
  });
});
