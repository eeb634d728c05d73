/** Idempotent storage of collected results. */
export {
  type ResultStore,
  InvalidResultError,
  RESULT_SOURCE_PATTERN,
  MAX_IDEMPOTENCY_KEY_LENGTH,
} from './result-store';
export { MemoryResultStore } from './memory-result-store';
export {
  RedisResultStore,
  DEFAULT_RESULT_KEY_PREFIX,
  PUT_RESULT_LUA,
  resultKeys,
  counterKey,
  type RedisResultStoreOptions,
} from './redis-result-store';
