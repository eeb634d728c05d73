import Redis from 'ioredis';
import { afterAll } from 'vitest';
import { describeStoreConformance, redisConformance } from './conformance';

const url = process.env.REDIS_URL;
if (!url) throw new Error('REDIS_URL is not set: the vitest globalSetup starts a redis-server (see README, `npm run provision`)');
const redis = new Redis(url);
afterAll(() => redis.quit());

describeStoreConformance('redis', redisConformance(() => redis, 'conformance:', 200, 150));

// The same script by EVALSHA, as on Redis 6 or for a user whose ACL denies Functions: a client
// without FCALL (test/store/redis-functions.test.ts covers the switch itself).
const withoutFunctions = new Proxy(redis, { get: (target, prop) => (prop === 'fcall' ? undefined : Reflect.get(target, prop, target)) });
describeStoreConformance('redis by EVALSHA', redisConformance(() => withoutFunctions, 'conformance-eval:', 100, 60));
