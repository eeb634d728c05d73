/**
 * `temporal-circuit-breaker`: the breaker core. A `CircuitBreaker` over a store — the memory
 * store for one process, the Redis store for a fleet — with its configuration schema, status
 * wire format and errors. Temporal integration: `temporal-circuit-breaker/worker`,
 * `/workflows` and `/client`.
 */
export { CircuitBreaker, type CircuitBreakerOptions } from './circuit-breaker';
export {
  BREAKER_NAME_PATTERN,
  MAX_BREAKER_NAME_LENGTH,
  MAX_OPEN_PERIOD_SECONDS,
  MAX_COUNT_WINDOW_CALLS,
  MAX_TIME_WINDOW_SECONDS,
  MAX_FAILING_WORKERS,
  OPENING_MODES,
  type OpeningMode,
  breakerNameProblem,
  breakerConfigObject,
  breakerConfigSchema,
  parseBreakerConfig,
  type BreakerConfig,
  type BreakerConfigInput,
} from './breaker/config';
export {
  BreakerConfigError,
  CircuitOpenError,
  UnknownBreakerError,
  isBreakerConfigError,
  isCircuitOpenError,
  isUnknownBreakerError,
  type ConfigIssue,
} from './breaker/errors';
export type { BreakerStatus } from './breaker/status';
export type { BreakerState, BreakerStatistics, CircuitStateName } from './breaker/state';
export type { BreakerCommand, Outcome, OutcomeDetails, Permit } from './breaker/permit';
export type { OpeningRule } from './breaker/opening-rule';
export type { CountWindow, SlidingWindow, TimeWindow } from './breaker/window';
export type { Decision, RecordResult, Transition, TransitionEvent } from './breaker/transitions';
export type { BreakerStore, StoreReply } from './store/store';
export { MemoryBreakerStore } from './store/memory-store';
export {
  RedisBreakerStore,
  StoreUnavailableError,
  UNCERTAIN_OUTCOME_MESSAGE,
  type RedisBreakerStoreOptions,
  type UnavailablePolicy,
} from './store/redis-store';
export type { RedisClientLike } from './store/redis-client';
export { defaultLogger, jsonLogger, silentLogger, type Logger } from './log/logger';
