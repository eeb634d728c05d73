import Redis from 'ioredis';
import { afterAll } from 'vitest';
import { describeStoreConformance, redisConformance } from './conformance';

const url = process.env.REDIS_URL;
if (!url) throw new Error('REDIS_URL is not set: the vitest globalSetup starts a redis-server (see README, `npm run provision`)');
const redis = new Redis(url);
afterAll(() => redis.quit());

describeStoreConformance('redis', redisConformance(() => redis, 'conformance:', 200, 150));
