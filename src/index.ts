export * from './breaker';
export { CircuitBreaker, type CircuitBreakerOptions } from './circuit-breaker';
export type { BreakerStore, StoreReply } from './store/store';
export { MemoryBreakerStore } from './store/memory-store';
export {
  RedisBreakerStore,
  StoreUnavailableError,
  type RedisBreakerStoreOptions,
  type UnavailablePolicy,
} from './store/redis-store';
export { jsonLogger, silentLogger, type Logger } from './log/logger';
