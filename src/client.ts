/**
 * `temporal-circuit-breaker/client`: operators' commands for your own tooling. Every command goes
 * through the breaker's workflow (`circuit-breaker:{name}`), so it lands in its audit history.
 */
export { BreakerClient, MAX_REASON_LENGTH, type BreakerClientOptions } from './client/breaker-client';
export { UnknownBreakerError, isUnknownBreakerError } from './breaker/errors';
export { BREAKER_STATE_ATTRIBUTE, BREAKER_WORKFLOW_TYPE, breakerWorkflowId } from './temporal/names';
export type { AuditEntry } from '../workflows/circuit-breaker';
export type { BreakerStatus } from './breaker/status';
export type { BreakerCommand } from './breaker/permit';
export { connectBreakerClient, TemporalConnectError, type ConnectBreakerClientOptions, type ConnectedBreakerClient } from './client/connect';
export {
  connectionOptions,
  explainConnectError,
  loadTemporalConnectSettings,
  TemporalConnectionConfigError,
  type LoadTemporalConnectOptions,
  type TemporalConnectSettings,
  type TemporalTlsSettings,
} from './client/connect-settings';
