// Upper bounds on every duration of the configuration: a value past its bound is an error naming
// the field (and the environment variable it came from), never a timer Node cannot arm or a time
// past the calendar.
import { describe, expect, it } from 'vitest';
import { BreakerConfigError, parseBreakerConfig } from '../../src/breaker';
import { ConfigError, loadConfig } from '../../src/config/load';

const DAY = 86_400;

describe('breaker config bounds', () => {
  it.each([
    [{ timeoutSeconds: 30 * DAY + 1, maxTimeoutSeconds: 31 * DAY }, 'timeoutSeconds: timeoutSeconds must be at most 2592000'],
    [{ maxTimeoutSeconds: 30 * DAY + 1 }, 'maxTimeoutSeconds: maxTimeoutSeconds must be at most 2592000'],
    [{ timeoutSeconds: 2 ** 53 - 1, maxTimeoutSeconds: 2 ** 53 - 1 }, 'timeoutSeconds: timeoutSeconds must be at most 2592000'],
  ])('rejects %j naming the field', (over, message) => {
    expect(() => parseBreakerConfig({ collectorName: 'x', ...over })).toThrow(BreakerConfigError);
    expect(() => parseBreakerConfig({ collectorName: 'x', ...over })).toThrow(message);
  });

  it('accepts 30 days', () => {
    expect(parseBreakerConfig({ collectorName: 'x', timeoutSeconds: 30 * DAY, maxTimeoutSeconds: 30 * DAY })).toMatchObject({ timeoutSeconds: 30 * DAY });
  });
});

function configError(env: Record<string, string>, overrides: Record<string, unknown> = {}): string {
  try {
    loadConfig(env, overrides);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error(`loadConfig(${JSON.stringify(env)}) did not throw`);
}

describe('app config bounds', () => {
  it.each([
    [{ REDIS_TIMEOUT_MS: String(2 ** 31) }, 'redis.timeoutMs (REDIS_TIMEOUT_MS): redis.timeoutMs must be at most 60000'],
    [{ REDIS_SNAPSHOT_MAX_AGE_MS: String(2 ** 31) }, 'redis.snapshotMaxAgeMs (REDIS_SNAPSHOT_MAX_AGE_MS): redis.snapshotMaxAgeMs must be at most 60000'],
    [{ FORCED_OPEN_RECHECK_SECONDS: String(2 ** 31) }, 'interceptor.forcedOpenRecheckSeconds (FORCED_OPEN_RECHECK_SECONDS): interceptor.forcedOpenRecheckSeconds must be at most 86400'],
    [{ BREAKER_TIMEOUT_SECONDS: String(2 ** 40), BREAKER_MAX_TIMEOUT_SECONDS: String(2 ** 40) }, '(BREAKER_TIMEOUT_SECONDS): timeoutSeconds must be at most 2592000'],
  ])('rejects %j naming the variable', (env, message) => {
    expect(configError(env)).toContain(message);
  });

  it.each([
    [{ interceptor: { halfOpenRecheckSeconds: 2 ** 31 } }, 'interceptor.halfOpenRecheckSeconds: interceptor.halfOpenRecheckSeconds must be at most 3600'],
    [{ interceptor: { defaultProbeLeaseSeconds: 2 ** 31 } }, 'interceptor.defaultProbeLeaseSeconds: interceptor.defaultProbeLeaseSeconds must be at most 2592000'],
    [{ providers: { moralis: { timeoutMs: 2 ** 31 } } }, 'providers.moralis.timeoutMs: providers.moralis.timeoutMs must be at most 600000'],
  ])('rejects %j naming the field', (overrides, message) => {
    expect(configError({}, overrides)).toContain(message);
  });

  it('accepts every bound itself', () => {
    const c = loadConfig({ REDIS_TIMEOUT_MS: '60000', REDIS_SNAPSHOT_MAX_AGE_MS: '60000', FORCED_OPEN_RECHECK_SECONDS: '86400' });
    expect(c.redis).toMatchObject({ timeoutMs: 60_000, snapshotMaxAgeMs: 60_000 });
  });
});
