// The configuration: one zod schema read from the environment and an optional JSON file
// (TCB_CONFIG_FILE). Defaults are the seed's; a bad value is a ConfigError on one line that names
// the environment variable or the field, and the rule.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { breakerConfigs, requireBreaker, UnknownBreakerError } from '../../src/config/breakers';
import { ENV_VARS } from '../../src/config/env';
import { ConfigError, loadConfig } from '../../src/config/load';
import { COLLECTOR_ACTIVITY, PROVIDERS } from '../../src/providers';

const SEED_DEFAULTS = {
  failureThreshold: 5,
  timeoutSeconds: 300,
  halfOpenMaxCalls: 3,
  halfOpenSuccessThreshold: 2,
  backoffMultiplier: 1.5,
  maxTimeoutSeconds: 3600,
  // when to open: the seed's consecutive rule; the rate modes' settings keep resilience4j's defaults
  mode: 'consecutive',
  windowSize: 100,
  minimumNumberOfCalls: 100,
  failureRateThreshold: 50,
  slowCallDurationMs: 60_000,
  slowCallRateThreshold: 100,
  minFailingWorkers: 1,
};

const dir = mkdtempSync(join(tmpdir(), 'tcb-config-'));
let files = 0;
function configFile(content: unknown): string {
  const path = join(dir, `config-${files++}.json`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The ConfigError loadConfig throws (fails the test when it does not throw one). */
function configError(env: Record<string, string>, overrides: Record<string, unknown> = {}): ConfigError {
  try {
    loadConfig(env, overrides);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as Error).message).not.toContain('\n');
    return e as ConfigError;
  }
  throw new Error(`loadConfig(${JSON.stringify(env)}) did not throw`);
}

describe('defaults', () => {
  const config = loadConfig({});

  it("configures the five collectors' breakers with the seed's defaults", () => {
    expect(Object.keys(config.breakers)).toEqual(['moralis', 'glassnode', 'twitter', 'reddit', 'lunarcrush']);
    for (const name of PROVIDERS) expect(config.breakers[name]).toEqual(SEED_DEFAULTS);
    const full = breakerConfigs(config);
    expect([...full.keys()]).toEqual([...PROVIDERS]);
    for (const [name, cfg] of full) expect(cfg).toEqual({ collectorName: name, ...SEED_DEFAULTS });
  });

  it('maps each collector activity to the breaker of its provider', () => {
    expect(config.activities).toEqual({
      collectMoralis: 'moralis',
      collectGlassnode: 'glassnode',
      collectTwitter: 'twitter',
      collectReddit: 'reddit',
      collectLunarCrush: 'lunarcrush',
    });
  });

  it('Temporal, Redis, providers, interceptor and metrics defaults', () => {
    expect(config.temporal).toEqual({ address: 'localhost:7233', namespace: 'default', taskQueue: 'market-data' });
    expect(config.redis).toEqual({ keyPrefix: 'cb_state:', timeoutMs: 100, onUnavailable: 'fallback', snapshotMaxAgeMs: 1000 });
    expect(config.redis.url).toBeUndefined(); // memory store
    for (const p of PROVIDERS) {
      expect(config.providers[p]).toEqual({ baseUrl: `http://127.0.0.1:8787/${p}`, apiKey: `demo-${p}-key`, timeoutMs: 10_000 });
    }
    expect(config.interceptor).toEqual({ forcedOpenRecheckSeconds: 60, halfOpenRecheckSeconds: 5, defaultProbeLeaseSeconds: 60 });
    expect(config.metrics).toEqual({});
  });

  it('reads process.env when no environment is given', () => {
    const saved = process.env.TEMPORAL_TASK_QUEUE;
    process.env.TEMPORAL_TASK_QUEUE = 'from-process-env';
    try {
      expect(loadConfig().temporal.taskQueue).toBe('from-process-env');
    } finally {
      if (saved === undefined) delete process.env.TEMPORAL_TASK_QUEUE;
      else process.env.TEMPORAL_TASK_QUEUE = saved;
    }
  });

  it('an unknown breaker name is an error listing the configured ones', () => {
    expect(() => requireBreaker(breakerConfigs(config), 'nope')).toThrow(UnknownBreakerError);
    expect(() => requireBreaker(breakerConfigs(config), 'nope')).toThrow("unknown breaker 'nope' (configured: moralis, glassnode, twitter, reddit, lunarcrush)");
    expect(requireBreaker(breakerConfigs(config), 'reddit').collectorName).toBe('reddit');
  });
});

describe('environment variables', () => {
  // A valid value for every variable and where it must land; a new variable needs a line here.
  // (A fourth element: the other variables the variable needs, e.g. REDIS_URL for the TLS files.)
  const cases: Record<string, [string, (c: ReturnType<typeof loadConfig>) => unknown, unknown, Record<string, string>?]> = {
    TEMPORAL_ADDRESS: ['temporal.example:7233', (c) => c.temporal.address, 'temporal.example:7233'],
    TEMPORAL_NAMESPACE: ['markets', (c) => c.temporal.namespace, 'markets'],
    TEMPORAL_TASK_QUEUE: ['tq-1', (c) => c.temporal.taskQueue, 'tq-1'],
    REDIS_URL: ['redis://cache:6380/2', (c) => c.redis.url, 'redis://cache:6380/2'],
    REDIS_KEY_PREFIX: ['prod:cb:', (c) => c.redis.keyPrefix, 'prod:cb:'],
    REDIS_TIMEOUT_MS: ['250', (c) => c.redis.timeoutMs, 250],
    REDIS_ON_UNAVAILABLE: ['reject', (c) => c.redis.onUnavailable, 'reject'],
    REDIS_SNAPSHOT_MAX_AGE_MS: ['0', (c) => c.redis.snapshotMaxAgeMs, 0],
    REDIS_USERNAME: ['breaker', (c) => c.redis.username, 'breaker'],
    REDIS_PASSWORD: ['s3cret', (c) => c.redis.password, 's3cret'],
    REDIS_TLS_CA_FILE: ['/etc/ca.pem', (c) => c.redis.tls?.caFile, '/etc/ca.pem', { REDIS_URL: 'rediss://cache:6380' }],
    REDIS_TLS_CERT_FILE: ['/etc/c.pem', (c) => c.redis.tls?.certFile, '/etc/c.pem', { REDIS_URL: 'rediss://cache:6380', REDIS_TLS_KEY_FILE: '/etc/k.pem' }],
    REDIS_TLS_KEY_FILE: ['/etc/k.pem', (c) => c.redis.tls?.keyFile, '/etc/k.pem', { REDIS_URL: 'rediss://cache:6380', REDIS_TLS_CERT_FILE: '/etc/c.pem' }],
    REDIS_TLS_SERVER_NAME: ['cache.internal', (c) => c.redis.tls?.serverName, 'cache.internal', { REDIS_URL: 'rediss://cache:6380' }],
    REDIS_SENTINELS: ['s1:26379, s2:26380', (c) => c.redis.sentinels, [{ host: 's1', port: 26379 }, { host: 's2', port: 26380 }], { REDIS_SENTINEL_MASTER: 'mymaster' }],
    REDIS_SENTINEL_MASTER: ['mymaster', (c) => c.redis.name, 'mymaster', { REDIS_SENTINELS: 's1:26379' }],
    REDIS_SENTINEL_USERNAME: ['sentinel-user', (c) => c.redis.sentinelUsername, 'sentinel-user', { REDIS_SENTINELS: 's1:26379', REDIS_SENTINEL_MASTER: 'mymaster' }],
    REDIS_SENTINEL_PASSWORD: ['sentinel-pw', (c) => c.redis.sentinelPassword, 'sentinel-pw', { REDIS_SENTINELS: 's1:26379', REDIS_SENTINEL_MASTER: 'mymaster' }],
    BREAKERS: ['moralis, twitter', (c) => Object.keys(c.breakers), ['moralis', 'twitter']],
    BREAKER_FAILURE_THRESHOLD: ['7', (c) => c.breakers.reddit.failureThreshold, 7],
    BREAKER_TIMEOUT_SECONDS: ['60', (c) => c.breakers.moralis.timeoutSeconds, 60],
    BREAKER_HALF_OPEN_MAX_CALLS: ['4', (c) => c.breakers.twitter.halfOpenMaxCalls, 4],
    BREAKER_HALF_OPEN_SUCCESS_THRESHOLD: ['1', (c) => c.breakers.glassnode.halfOpenSuccessThreshold, 1],
    BREAKER_BACKOFF_MULTIPLIER: ['2.5', (c) => c.breakers.lunarcrush.backoffMultiplier, 2.5],
    BREAKER_MAX_TIMEOUT_SECONDS: ['7200', (c) => c.breakers.moralis.maxTimeoutSeconds, 7200],
    BREAKER_MODE: ['time-window', (c) => c.breakers.reddit.mode, 'time-window'],
    BREAKER_WINDOW_SIZE: ['60', (c) => c.breakers.twitter.windowSize, 60, { BREAKER_MODE: 'time-window' }],
    BREAKER_MINIMUM_NUMBER_OF_CALLS: ['20', (c) => c.breakers.moralis.minimumNumberOfCalls, 20, { BREAKER_MODE: 'count-window' }],
    BREAKER_FAILURE_RATE_THRESHOLD: ['30.5', (c) => c.breakers.glassnode.failureRateThreshold, 30.5],
    BREAKER_SLOW_CALL_DURATION_MS: ['2500', (c) => c.breakers.lunarcrush.slowCallDurationMs, 2500],
    BREAKER_SLOW_CALL_RATE_THRESHOLD: ['80', (c) => c.breakers.moralis.slowCallRateThreshold, 80],
    BREAKER_MIN_FAILING_WORKERS: ['2', (c) => c.breakers.reddit.minFailingWorkers, 2, { BREAKER_MODE: 'count-window' }],
    FORCED_OPEN_RECHECK_SECONDS: ['15', (c) => c.interceptor.forcedOpenRecheckSeconds, 15],
    METRICS_PROMETHEUS_ADDRESS: ['127.0.0.1:9464', (c) => c.metrics.prometheusAddress, '127.0.0.1:9464'],
    ...Object.fromEntries(
      PROVIDERS.flatMap((p) => [
        [`${p.toUpperCase()}_BASE_URL`, [`https://${p}.example/api`, (c: ReturnType<typeof loadConfig>) => c.providers[p].baseUrl, `https://${p}.example/api`]],
        [`${p.toUpperCase()}_API_KEY`, [`key-${p}`, (c: ReturnType<typeof loadConfig>) => c.providers[p].apiKey, `key-${p}`]],
      ]),
    ),
  };

  it('every variable the configuration reads is covered here', () => {
    const read = ENV_VARS.filter((v) => v.path.length > 0).map((v) => v.name);
    expect(Object.keys(cases).sort()).toEqual(read.sort());
  });

  it.each(Object.entries(cases))('%s lands where it belongs', (name, [value, get, expected, needs]) => {
    expect(get(loadConfig({ ...needs, [name]: value }))).toEqual(expected);
  });

  it('BREAKER_* settings apply to every breaker and leave the other settings at the seed defaults', () => {
    const config = loadConfig({ BREAKER_FAILURE_THRESHOLD: '3', BREAKER_TIMEOUT_SECONDS: '30' });
    for (const p of PROVIDERS) expect(config.breakers[p]).toEqual({ ...SEED_DEFAULTS, failureThreshold: 3, timeoutSeconds: 30 });
  });

  it('BREAKERS chooses the breakers; only their collectors are mapped', () => {
    const config = loadConfig({ BREAKERS: 'moralis,reddit,custom' });
    expect(config.breakers).toEqual({ moralis: SEED_DEFAULTS, reddit: SEED_DEFAULTS, custom: SEED_DEFAULTS });
    expect(config.activities).toEqual({ collectMoralis: 'moralis', collectReddit: 'reddit' });
  });

  it('an empty BREAKERS falls back to the five defaults', () => {
    expect(Object.keys(loadConfig({ BREAKERS: ' , ' }).breakers)).toEqual([...PROVIDERS]);
  });

  it('the programmatic overrides beat the environment', () => {
    const config = loadConfig({ TEMPORAL_TASK_QUEUE: 'from-env', REDIS_KEY_PREFIX: 'env:' }, { temporal: { taskQueue: 'from-code' } });
    expect(config.temporal.taskQueue).toBe('from-code');
    expect(config.redis.keyPrefix).toBe('env:');
  });
});

describe('TCB_CONFIG_FILE', () => {
  const file = () =>
    configFile({
      temporal: { address: 'file-host:7233', taskQueue: 'file-queue' },
      redis: { url: 'redis://file-redis:6379', onUnavailable: 'allow' },
      breakers: { moralis: { failureThreshold: 2, timeoutSeconds: 120 }, internal: {} },
      activities: { collectMoralis: 'moralis', fetchInternal: 'internal' },
      providers: { glassnode: { baseUrl: 'https://glassnode.example', apiKey: 'file-key', timeoutMs: 2000 } },
      interceptor: { halfOpenRecheckSeconds: 2 },
    });

  it('reads the breakers, the activity mapping and the other sections from a JSON file', () => {
    const config = loadConfig({ TCB_CONFIG_FILE: file() });
    expect(config.temporal).toEqual({ address: 'file-host:7233', namespace: 'default', taskQueue: 'file-queue' });
    expect(config.redis).toEqual({ url: 'redis://file-redis:6379', keyPrefix: 'cb_state:', timeoutMs: 100, onUnavailable: 'allow', snapshotMaxAgeMs: 1000 });
    expect(config.breakers).toEqual({ moralis: { ...SEED_DEFAULTS, failureThreshold: 2, timeoutSeconds: 120 }, internal: SEED_DEFAULTS });
    expect(config.activities).toEqual({ collectMoralis: 'moralis', fetchInternal: 'internal' });
    expect(config.providers.glassnode).toEqual({ baseUrl: 'https://glassnode.example', apiKey: 'file-key', timeoutMs: 2000 });
    expect(config.providers.moralis.baseUrl).toBe('http://127.0.0.1:8787/moralis');
    expect(config.interceptor).toMatchObject({ halfOpenRecheckSeconds: 2, forcedOpenRecheckSeconds: 60 });
  });

  it('environment variables override the file; a breaker setting in the file beats the BREAKER_* default', () => {
    const config = loadConfig({ TCB_CONFIG_FILE: file(), TEMPORAL_ADDRESS: 'env-host:7233', REDIS_ON_UNAVAILABLE: 'reject', BREAKER_TIMEOUT_SECONDS: '90', BREAKER_FAILURE_THRESHOLD: '4' });
    expect(config.temporal).toMatchObject({ address: 'env-host:7233', taskQueue: 'file-queue' });
    expect(config.redis.onUnavailable).toBe('reject');
    expect(config.breakers.moralis).toEqual({ ...SEED_DEFAULTS, failureThreshold: 2, timeoutSeconds: 120 });
    expect(config.breakers.internal).toEqual({ ...SEED_DEFAULTS, failureThreshold: 4, timeoutSeconds: 90 });
  });

  it('BREAKERS picks among the file breakers (and adds new ones with the defaults)', () => {
    const config = loadConfig({ TCB_CONFIG_FILE: file(), BREAKERS: 'moralis,internal,extra' });
    expect(config.breakers).toEqual({ moralis: { ...SEED_DEFAULTS, failureThreshold: 2, timeoutSeconds: 120 }, internal: SEED_DEFAULTS, extra: SEED_DEFAULTS });
    // dropping a breaker the file's activities still use is an error naming the activity
    expect(configError({ TCB_CONFIG_FILE: file(), BREAKERS: 'moralis' }).message).toBe(
      "invalid configuration: activities.fetchInternal: unknown breaker 'internal' (configured: moralis)",
    );
  });

  it('a missing file is a clear error naming it', () => {
    const path = join(dir, 'absent.json');
    expect(configError({ TCB_CONFIG_FILE: path }).message).toBe(`cannot read TCB_CONFIG_FILE '${path}': ENOENT: no such file or directory, open '${path}'`);
  });

  it('a directory is a clear error naming it', () => {
    expect(configError({ TCB_CONFIG_FILE: dir }).message).toMatch(new RegExp(`^cannot read TCB_CONFIG_FILE '${dir}': EISDIR`));
  });

  it('invalid JSON is a clear error naming the file', () => {
    const path = configFile('{ "temporal": { "address": "x" }');
    expect(configError({ TCB_CONFIG_FILE: path }).message).toMatch(new RegExp(`^TCB_CONFIG_FILE '${path}' is not valid JSON: `));
  });

  it('JSON that is not an object is a clear error naming the file', () => {
    const arr = configFile([1, 2]);
    expect(configError({ TCB_CONFIG_FILE: arr }).message).toBe(`TCB_CONFIG_FILE '${arr}' must hold a JSON object, not an array`);
    const str = configFile('"moralis"');
    expect(configError({ TCB_CONFIG_FILE: str }).message).toBe(`TCB_CONFIG_FILE '${str}' must hold a JSON object, not "moralis"`);
  });

  it('a bad field in the file is named by its path', () => {
    expect(configError({ TCB_CONFIG_FILE: configFile({ breakers: { moralis: { failureThreshold: 0 } } }) }).message).toBe(
      'invalid configuration: breakers.moralis.failureThreshold: failureThreshold must be greater than 0',
    );
    expect(configError({ TCB_CONFIG_FILE: configFile({ breakers: { moralis: { halfOpenMaxCalls: 1 } } }) }).message).toBe(
      'invalid configuration: breakers.moralis.halfOpenSuccessThreshold: halfOpenSuccessThreshold (2) must be ≤ halfOpenMaxCalls (1)',
    );
    expect(configError({ TCB_CONFIG_FILE: configFile({ breakers: { moralis: { threshold: 3 } } }) }).message).toMatch(
      /^invalid configuration: breakers\.moralis: Unrecognized key: "threshold"$/,
    );
    expect(configError({ TCB_CONFIG_FILE: configFile({ temporal: { adress: 'x:1' } }) }).message).toMatch(/temporal: Unrecognized key: "adress"/);
    expect(configError({ TCB_CONFIG_FILE: configFile({ activities: { collectMoralis: 'nope' } }) }).message).toBe(
      "invalid configuration: activities.collectMoralis: unknown breaker 'nope' (configured: moralis, glassnode, twitter, reddit, lunarcrush)",
    );
    expect(configError({ TCB_CONFIG_FILE: configFile({ breakers: { 'bad name': {} } }) }).message).toBe(
      "invalid configuration: breakers: 'bad name': breaker names must match [A-Za-z0-9_.-]+",
    );
  });
});

describe('invalid values: a ConfigError on one line naming the variable and the rule', () => {
  const cases: [Record<string, string>, string][] = [
    [{ BREAKER_TIMEOUT_SECONDS: 'abc' }, "invalid configuration: BREAKER_TIMEOUT_SECONDS='abc' is not a number"],
    [{ BREAKER_FAILURE_THRESHOLD: '' }, "invalid configuration: BREAKER_FAILURE_THRESHOLD='' is not a number"],
    [{ REDIS_TIMEOUT_MS: 'Infinity' }, "invalid configuration: REDIS_TIMEOUT_MS='Infinity' is not a number"],
    [{ BREAKER_TIMEOUT_SECONDS: '0' }, 'invalid configuration: breakerDefaults.timeoutSeconds (BREAKER_TIMEOUT_SECONDS): timeoutSeconds must be greater than 0'],
    [{ BREAKER_FAILURE_THRESHOLD: '2.5' }, 'invalid configuration: breakerDefaults.failureThreshold (BREAKER_FAILURE_THRESHOLD): failureThreshold must be a whole number'],
    [{ BREAKER_BACKOFF_MULTIPLIER: '0.5' }, 'invalid configuration: breakerDefaults.backoffMultiplier (BREAKER_BACKOFF_MULTIPLIER): backoffMultiplier must be at least 1'],
    [
      { BREAKER_HALF_OPEN_SUCCESS_THRESHOLD: '4' },
      'invalid configuration: breakerDefaults.halfOpenSuccessThreshold (BREAKER_HALF_OPEN_SUCCESS_THRESHOLD): halfOpenSuccessThreshold (4) must be ≤ halfOpenMaxCalls (3)',
    ],
    [
      { BREAKER_HALF_OPEN_MAX_CALLS: '1' },
      'invalid configuration: breakerDefaults.halfOpenSuccessThreshold (BREAKER_HALF_OPEN_MAX_CALLS): halfOpenSuccessThreshold (2) must be ≤ halfOpenMaxCalls (1)',
    ],
    [
      { BREAKER_TIMEOUT_SECONDS: '5000', BREAKER_FAILURE_THRESHOLD: '3' },
      'invalid configuration: breakerDefaults.maxTimeoutSeconds (BREAKER_TIMEOUT_SECONDS): maxTimeoutSeconds (3600) must be ≥ timeoutSeconds (5000)',
    ],
    [{ BREAKER_MODE: 'sometimes' }, 'invalid configuration: breakerDefaults.mode (BREAKER_MODE): mode must be one of consecutive, count-window, time-window'],
    [{ BREAKER_FAILURE_RATE_THRESHOLD: '0' }, 'invalid configuration: breakerDefaults.failureRateThreshold (BREAKER_FAILURE_RATE_THRESHOLD): failureRateThreshold must be greater than 0 (a percentage)'],
    [{ BREAKER_SLOW_CALL_RATE_THRESHOLD: '101' }, 'invalid configuration: breakerDefaults.slowCallRateThreshold (BREAKER_SLOW_CALL_RATE_THRESHOLD): slowCallRateThreshold must be at most 100 (a percentage)'],
    [
      { BREAKER_MODE: 'count-window', BREAKER_WINDOW_SIZE: '20' },
      'invalid configuration: breakerDefaults.minimumNumberOfCalls (BREAKER_WINDOW_SIZE): minimumNumberOfCalls (100) must be ≤ windowSize (20): a count window never holds more calls',
    ],
    [
      { BREAKER_MIN_FAILING_WORKERS: '2' },
      'invalid configuration: breakerDefaults.minFailingWorkers (BREAKER_MIN_FAILING_WORKERS): minFailingWorkers (2) needs a window: set mode to count-window or time-window',
    ],
    [{ REDIS_URL: 'http://x' }, 'invalid configuration: redis.url (REDIS_URL): redis.url must start with redis:// or rediss://'],
    [{ REDIS_TIMEOUT_MS: '-1' }, 'invalid configuration: redis.timeoutMs (REDIS_TIMEOUT_MS): Too small: expected number to be >0'],
    [{ REDIS_SNAPSHOT_MAX_AGE_MS: '-5' }, 'invalid configuration: redis.snapshotMaxAgeMs (REDIS_SNAPSHOT_MAX_AGE_MS): Too small: expected number to be >=0'],
    [{ REDIS_ON_UNAVAILABLE: 'maybe' }, 'invalid configuration: redis.onUnavailable (REDIS_ON_UNAVAILABLE): Invalid option: expected one of "fallback"|"allow"|"reject"'],
    [{ TEMPORAL_ADDRESS: '' }, 'invalid configuration: temporal.address (TEMPORAL_ADDRESS): Too small: expected string to have >=1 characters'],
    [{ MORALIS_BASE_URL: 'not a url' }, 'invalid configuration: providers.moralis.baseUrl (MORALIS_BASE_URL): baseUrl must be an absolute URL'],
    [{ TWITTER_API_KEY: '' }, 'invalid configuration: providers.twitter.apiKey (TWITTER_API_KEY): apiKey must not be empty'],
    [{ FORCED_OPEN_RECHECK_SECONDS: '0' }, 'invalid configuration: interceptor.forcedOpenRecheckSeconds (FORCED_OPEN_RECHECK_SECONDS): Too small: expected number to be >0'],
    [{ METRICS_PROMETHEUS_ADDRESS: '9464' }, 'invalid configuration: metrics.prometheusAddress (METRICS_PROMETHEUS_ADDRESS): metrics.prometheusAddress must be host:port'],
    [{ BREAKERS: 'moralis,bad name' }, "invalid configuration: breakers (BREAKERS): 'bad name': breaker names must match [A-Za-z0-9_.-]+"],
  ];

  it.each(cases)('%o', (env, message) => {
    expect(configError(env).message).toBe(message);
  });

  it('several problems are all named, each once', () => {
    const message = configError({ REDIS_URL: 'http://x', BREAKER_TIMEOUT_SECONDS: '0', TEMPORAL_ADDRESS: '' }).message;
    expect(message.startsWith('invalid configuration: ')).toBe(true);
    expect(message.slice('invalid configuration: '.length).split('; ').sort()).toEqual(
      [
        'redis.url (REDIS_URL): redis.url must start with redis:// or rediss://',
        'temporal.address (TEMPORAL_ADDRESS): Too small: expected string to have >=1 characters',
        'breakerDefaults.timeoutSeconds (BREAKER_TIMEOUT_SECONDS): timeoutSeconds must be greater than 0',
      ].sort(),
    );
  });

  it('a collector breaker setting of its own in the file is named by its path even when a BREAKER_* variable is set', () => {
    const file = configFile({ breakers: { moralis: { timeoutSeconds: 0 }, glassnode: {} } });
    expect(configError({ TCB_CONFIG_FILE: file, BREAKER_TIMEOUT_SECONDS: '60' }).message).toBe(
      'invalid configuration: breakers.moralis.timeoutSeconds: timeoutSeconds must be greater than 0',
    );
  });
});

it('the default collector activity names come from one table', () => {
  expect(Object.values(loadConfig({}).activities).sort()).toEqual([...PROVIDERS].sort());
  expect(Object.keys(loadConfig({}).activities).sort()).toEqual(Object.values(COLLECTOR_ACTIVITY).sort());
});
