import Redis from 'ioredis';
import type { AppConfig } from '../config/schema';
import { MemoryBreakerStore, RedisBreakerStore, type BreakerStore, type Logger } from '..';
import { MemoryResultStore, RedisResultStore, type ResultStore } from '../results';

export interface Stores {
  breakers: BreakerStore;
  results: ResultStore;
  redis: Redis | null;
  close(): Promise<void>;
}

/** The breaker and result stores the configuration asks for: Redis when `redis.url` is set, else memory. */
export function createStores(config: AppConfig, logger: Logger, options: { resultKeyPrefix?: string } = {}): Stores {
  if (!config.redis.url) {
    return { breakers: new MemoryBreakerStore(), results: new MemoryResultStore(), redis: null, close: async () => {} };
  }
  // No offline queue: a command is sent now or not at all, so an outage never replays old outcomes.
  const redis = new Redis(config.redis.url, {
    enableOfflineQueue: false,
    // a command in flight when the connection drops is not sent again: an outcome counts once
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
  });
  redis.on('error', (e: Error) => logger.debug('redis client error', { error: e.message }));
  const breakers = new RedisBreakerStore({
    redis,
    keyPrefix: config.redis.keyPrefix,
    timeoutMs: config.redis.timeoutMs,
    onUnavailable: config.redis.onUnavailable,
    openCacheMs: config.redis.openCacheMs,
    logger,
  });
  return {
    breakers,
    results: new RedisResultStore({ redis, keyPrefix: options.resultKeyPrefix }),
    redis,
    close: async () => {
      await breakers.close();
      redis.disconnect();
    },
  };
}
