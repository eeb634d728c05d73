import Redis from 'ioredis';
import { afterAll } from 'vitest';
import { RedisBreakerStore, silentLogger } from '../../src';
import { describeStoreConformance } from './conformance';

const url = process.env.REDIS_URL;
if (!url) throw new Error('REDIS_URL is not set: the vitest globalSetup starts a redis-server (see README, `npm run provision`)');
const redis = new Redis(url);
afterAll(() => redis.quit());

describeStoreConformance('redis', {
  store: () => new RedisBreakerStore({ redis, keyPrefix: 'conformance:', timeoutMs: 10_000 }), // generous: a call the bound ended would be decided by the fallback and show as a disagreement; this suite is about agreement, not latency
  runs: 200,
  // Hand edits, on a store that decides every call from the stored value (why: ConformanceOptions.edits).
  // Its repairs are logged (error) by design: silenced here, the suite checks what they do.
  edits: {
    store: () => new RedisBreakerStore({ redis, keyPrefix: 'conformance-edit:', timeoutMs: 10_000, snapshotMaxAgeMs: 0, logger: silentLogger }),
    edit: async (cfg, f) => {
      const key = 'conformance-edit:' + cfg.collectorName;
      const raw = await redis.get(key);
      if (raw === null) return false;
      await redis.set(key, f(raw), 'KEEPTTL');
      return true;
    },
    runs: 150,
  },
});
