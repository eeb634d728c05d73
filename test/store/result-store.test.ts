import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  InvalidResultError,
  MemoryResultStore,
  PUT_RESULT_LUA,
  RedisResultStore,
  resultKeys,
  type ResultStore,
} from '../../src/results';
import { startRedisServer, type RedisServer } from '../helpers/redis';

/** Uses REDIS_URL (set by the vitest globalSetup) or spawns a throwaway redis-server. */
let server: RedisServer | undefined;
let redis: Redis;
let redisUrl: string;

beforeAll(async () => {
  if (process.env.REDIS_URL) redisUrl = process.env.REDIS_URL;
  else {
    server = await startRedisServer();
    redisUrl = server.url;
  }
  redis = new Redis(redisUrl, { maxRetriesPerRequest: 2 });
});
afterAll(async () => {
  await redis?.quit();
  await server?.stop();
});

function describeResultStore(name: string, make: () => ResultStore) {
  describe(`${name} result store`, () => {
    it('put stores once: true the first time, false after, and the first value wins', async () => {
      const store = make();
      expect(await store.put('moralis', 'wf:1:moralis', { price: 1 })).toBe(true);
      expect(await store.put('moralis', 'wf:1:moralis', { price: 2 })).toBe(false);
      expect(await store.get('moralis', 'wf:1:moralis')).toEqual({ price: 1 });
      expect(await store.count('moralis')).toBe(1);
    });

    it('get: a parsed copy, undefined when absent', async () => {
      const store = make();
      const value = { items: [{ t: 1, v: 2 }], nested: { a: null, b: 'x' } };
      await store.put('glassnode', 'k', value);
      const got = await store.get<typeof value>('glassnode', 'k');
      expect(got).toEqual(value);
      expect(got).not.toBe(value);
      value.items.push({ t: 3, v: 4 });
      expect((await store.get<typeof value>('glassnode', 'k'))?.items).toHaveLength(1);
      expect(await store.get('glassnode', 'missing')).toBeUndefined();
      expect(await store.get('reddit', 'k')).toBeUndefined();
    });

    it('count is per source and counts only new results', async () => {
      const store = make();
      expect(await store.count('twitter')).toBe(0);
      await store.put('twitter', 'a', 1);
      await store.put('twitter', 'b', 2);
      await store.put('twitter', 'a', 3);
      await store.put('reddit', 'a', 1);
      expect(await store.count('twitter')).toBe(2);
      expect(await store.count('reddit')).toBe(1);
      expect(await store.count('lunarcrush')).toBe(0);
    });

    it('the same key under two sources is two results', async () => {
      const store = make();
      expect(await store.put('twitter', 'same', 't')).toBe(true);
      expect(await store.put('reddit', 'same', 'r')).toBe(true);
      expect(await store.get('twitter', 'same')).toBe('t');
      expect(await store.get('reddit', 'same')).toBe('r');
    });

    it('concurrent puts of one key: exactly one stores', async () => {
      const store = make();
      const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => store.put('lunarcrush', 'race', { i })));
      expect(replies.filter(Boolean)).toHaveLength(1);
      expect(await store.count('lunarcrush')).toBe(1);
      const winner = replies.indexOf(true);
      expect(await store.get('lunarcrush', 'race')).toEqual({ i: winner });
    });

    it('keys may contain any characters (colons, braces, unicode)', async () => {
      const store = make();
      const key = 'collector-wf:{42}:3:moralis ✓';
      expect(await store.put('moralis', key, 'v')).toBe(true);
      expect(await store.put('moralis', key, 'w')).toBe(false);
      expect(await store.get('moralis', key)).toBe('v');
    });

    it('refuses a bad source, an empty key and values JSON cannot carry', async () => {
      const store = make();
      await expect(store.put('a{b}', 'k', 1)).rejects.toThrow(InvalidResultError);
      await expect(store.put('', 'k', 1)).rejects.toThrow(/source/);
      await expect(store.put('moralis', '', 1)).rejects.toThrow(/idempotencyKey/);
      await expect(store.put('moralis', 'k', undefined)).rejects.toThrow(/JSON/);
      await expect(store.put('moralis', 'k', { n: 1n })).rejects.toThrow(/JSON/);
      await expect(store.count('x y')).rejects.toThrow(/source/);
      expect(await store.count('moralis')).toBe(0);
    });
  });
}

describeResultStore('memory', () => new MemoryResultStore());
describeResultStore('redis', () => new RedisResultStore({ redis, keyPrefix: `tcb_result_test:${randomUUID()}:` }));

describe('redis result store specifics', () => {
  it('default prefix, key layout: both keys share the hash tag {source} (one cluster slot)', async () => {
    const keys = resultKeys('tcb_result:', 'moralis', 'wf:1:moralis');
    expect(keys).toEqual({ result: 'tcb_result:{moralis}:r:wf:1:moralis', counter: 'tcb_result:{moralis}:count' });
    const hashTag = (k: string) => /\{([^}]*)\}/.exec(k)?.[1];
    expect(hashTag(keys.result)).toBe('moralis');
    expect(hashTag(keys.counter)).toBe('moralis');
    expect(PUT_RESULT_LUA).toMatch(/'SET', KEYS\[1\], ARGV\[1\], 'NX'/);

    const id = randomUUID();
    const store = new RedisResultStore({ redis });
    expect(await store.put('moralis', id, { ok: true })).toBe(true);
    const k = resultKeys('tcb_result:', 'moralis', id);
    expect(await redis.get(k.result)).toBe('{"ok":true}');
    expect(await redis.ttl(k.result)).toBe(-1);
    await redis.del(k.result);
  });

  it('two clients (two workers) racing on one key: one stores, the counter says 1', async () => {
    const prefix = `tcb_result_test:${randomUUID()}:`;
    const other = new Redis(redisUrl);
    try {
      const a = new RedisResultStore({ redis, keyPrefix: prefix });
      const b = new RedisResultStore({ redis: other, keyPrefix: prefix });
      const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).put('reddit', 'k', i)));
      expect(replies.filter(Boolean)).toHaveLength(1);
      expect(await a.count('reddit')).toBe(1);
      expect(await b.count('reddit')).toBe(1);
    } finally {
      await other.quit();
    }
  });

  it('ttlSeconds expires results (the counter stays)', async () => {
    const prefix = `tcb_result_test:${randomUUID()}:`;
    const store = new RedisResultStore({ redis, keyPrefix: prefix, ttlSeconds: 60 });
    await store.put('twitter', 'k', 1);
    const ttl = await redis.ttl(resultKeys(prefix, 'twitter', 'k').result);
    expect(ttl).toBeGreaterThan(50);
    expect(ttl).toBeLessThanOrEqual(60);
    expect(await redis.ttl(resultKeys(prefix, 'twitter', 'k').counter)).toBe(-1);
    expect(() => new RedisResultStore({ redis, ttlSeconds: 0 })).toThrow(/ttlSeconds/);
  });

  it('works after SCRIPT FLUSH (EVALSHA falls back to EVAL)', async () => {
    // a private server: flushing the scripts of the shared one would disturb other test files
    const own = await startRedisServer();
    const client = new Redis(own.url);
    try {
      const store = new RedisResultStore({ redis: client });
      await store.put('glassnode', 'a', 1);
      await client.script('FLUSH');
      expect(await store.put('glassnode', 'b', 2)).toBe(true);
      expect(await store.put('glassnode', 'b', 3)).toBe(false);
      expect(await store.count('glassnode')).toBe(2);
    } finally {
      await client.quit();
      await own.stop();
    }
  });

  it('a corrupt stored value is an error naming the key, not a crash or a silent miss', async () => {
    const prefix = `tcb_result_test:${randomUUID()}:`;
    const store = new RedisResultStore({ redis, keyPrefix: prefix });
    await redis.set(resultKeys(prefix, 'moralis', 'bad').result, '{not json');
    await expect(store.get('moralis', 'bad')).rejects.toThrow(/moralis.*bad.*not valid JSON/);
    expect(await store.put('moralis', 'bad', 1)).toBe(false);
  });
});
