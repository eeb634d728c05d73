import { MAX_COUNT_WINDOW_CALLS, MAX_FAILING_WORKERS, MAX_OPEN_PERIOD_SECONDS, MAX_TIME_WINDOW_SECONDS } from '..';
import { PROVIDERS } from '../providers';
import { BOUNDS } from './bounds';

/**
 * Every environment variable the configuration reads: where it goes in the config and what it
 * means. The README's configuration table is checked against this list by a test.
 */
export interface EnvVar {
  name: string;
  path: string[];
  type: 'string' | 'int' | 'number' | 'list';
  description: string;
}

const breakerVars: EnvVar[] = [
  ['FAILURE_THRESHOLD', 'failureThreshold', 'int', 'failures in a row that open a circuit (5)'],
  ['TIMEOUT_SECONDS', 'timeoutSeconds', 'int', `open period before the first half-open probe (300; at most ${MAX_OPEN_PERIOD_SECONDS}, 30 days)`],
  ['HALF_OPEN_MAX_CALLS', 'halfOpenMaxCalls', 'int', 'probes admitted per half-open period, fleet-wide (3)'],
  ['HALF_OPEN_SUCCESS_THRESHOLD', 'halfOpenSuccessThreshold', 'int', 'successful probes that close the circuit (2)'],
  ['BACKOFF_MULTIPLIER', 'backoffMultiplier', 'number', 'open-period growth after a failed recovery (1.5)'],
  ['MAX_TIMEOUT_SECONDS', 'maxTimeoutSeconds', 'int', `cap on the backed-off open period (3600; at most ${MAX_OPEN_PERIOD_SECONDS}, 30 days)`],
  ['MODE', 'mode', 'string', 'when to open: consecutive (failureThreshold in a row), count-window (rates over the last BREAKER_WINDOW_SIZE calls) or time-window (over the last BREAKER_WINDOW_SIZE seconds)'],
  ['WINDOW_SIZE', 'windowSize', 'int', `rate modes: calls (count-window, at most ${MAX_COUNT_WINDOW_CALLS}) or seconds (time-window, at most ${MAX_TIME_WINDOW_SECONDS}) in the window`],
  ['MINIMUM_NUMBER_OF_CALLS', 'minimumNumberOfCalls', 'int', 'rate modes: calls the window must hold before a rate can open the circuit (≤ the window size in count-window mode)'],
  ['FAILURE_RATE_THRESHOLD', 'failureRateThreshold', 'number', 'rate modes: failure rate (percent, above 0 to 100) of the window that opens the circuit'],
  ['SLOW_CALL_DURATION_MS', 'slowCallDurationMs', 'int', 'rate modes: an attempt that lasts at least this long is a slow call, succeeded or failed'],
  ['SLOW_CALL_RATE_THRESHOLD', 'slowCallRateThreshold', 'number', 'rate modes: slow-call rate (percent, above 0 to 100) of the window that opens the circuit'],
  ['MIN_FAILING_WORKERS', 'minFailingWorkers', 'int', `rate modes: distinct workers whose failing or slow calls the window must hold to open (1 = no quorum; at most ${MAX_FAILING_WORKERS})`],
].map(([suffix, key, type, description]) => ({
  name: `BREAKER_${suffix}`,
  path: ['breakerDefaults', key],
  type: type as EnvVar['type'],
  description: `${description}; applies to every breaker`,
}));

export const ENV_VARS: EnvVar[] = [
  { name: 'TCB_CONFIG_FILE', path: [], type: 'string', description: 'optional JSON config file; environment variables override it' },
  { name: 'TEMPORAL_ADDRESS', path: ['temporal', 'address'], type: 'string', description: 'Temporal frontend host:port (localhost:7233); the demo starts a dev server when unset' },
  { name: 'TEMPORAL_NAMESPACE', path: ['temporal', 'namespace'], type: 'string', description: 'Temporal namespace (default)' },
  { name: 'TEMPORAL_TASK_QUEUE', path: ['temporal', 'taskQueue'], type: 'string', description: 'task queue of the workers (market-data)' },
  // Read by the SDK's client configuration (@temporalio/envconfig), as the Temporal CLI reads them.
  { name: 'TEMPORAL_API_KEY', path: [], type: 'string', description: 'API key (Temporal Cloud): sent as `authorization: Bearer …`, turns TLS on; never logged' },
  { name: 'TEMPORAL_TLS', path: [], type: 'string', description: 'true: TLS (on by default with an API key or any TEMPORAL_TLS_* file); false: plain text' },
  { name: 'TEMPORAL_TLS_SERVER_CA_CERT_PATH', path: [], type: 'string', description: "CA certificate (PEM) the server's certificate is checked against; default: the system's roots (_DATA: the PEM itself)" },
  { name: 'TEMPORAL_TLS_SERVER_CA_CERT_DATA', path: [], type: 'string', description: 'the CA certificate as PEM text, instead of a path' },
  { name: 'TEMPORAL_TLS_CLIENT_CERT_PATH', path: [], type: 'string', description: 'client certificate (PEM) for mutual TLS, with TEMPORAL_TLS_CLIENT_KEY_PATH' },
  { name: 'TEMPORAL_TLS_CLIENT_CERT_DATA', path: [], type: 'string', description: 'the client certificate as PEM text, instead of a path' },
  { name: 'TEMPORAL_TLS_CLIENT_KEY_PATH', path: [], type: 'string', description: "the client certificate's private key (PEM)" },
  { name: 'TEMPORAL_TLS_CLIENT_KEY_DATA', path: [], type: 'string', description: 'the private key as PEM text, instead of a path; never logged' },
  { name: 'TEMPORAL_TLS_SERVER_NAME', path: [], type: 'string', description: "name the server's certificate is checked against (SNI), when it is not the address's host" },
  { name: 'TEMPORAL_CONFIG_FILE', path: [], type: 'string', description: "Temporal's client config file (TOML profiles; default: ~/.config/temporalio/temporal.toml); the variables above override it" },
  { name: 'TEMPORAL_PROFILE', path: [], type: 'string', description: 'profile of that file (default)' },
  { name: 'REDIS_URL', path: ['redis', 'url'], type: 'string', description: 'shared breaker state: redis://[user:password@]host:port, rediss:// for TLS; unset (and no REDIS_SENTINELS) = in-process memory store' },
  { name: 'REDIS_KEY_PREFIX', path: ['redis', 'keyPrefix'], type: 'string', description: 'prefix of the breaker keys (cb_state:)' },
  { name: 'REDIS_TIMEOUT_MS', path: ['redis', 'timeoutMs'], type: 'int', description: `longest wait for Redis before the fallback decides (100; at most ${BOUNDS.redisTimeoutMs})` },
  { name: 'REDIS_SNAPSHOT_MAX_AGE_MS', path: ['redis', 'snapshotMaxAgeMs'], type: 'int', description: `how old the last breaker state a worker saw may be for it to decide without a round trip (admit while closed, reject while open); 0 = read Redis for every decision (1000; at most ${BOUNDS.redisSnapshotMaxAgeMs})` },
  { name: 'REDIS_ON_UNAVAILABLE', path: ['redis', 'onUnavailable'], type: 'string', description: 'fallback | allow | reject when Redis is unreachable (fallback)' },
  { name: 'REDIS_USERNAME', path: ['redis', 'username'], type: 'string', description: 'ACL user; overrides the one in REDIS_URL' },
  { name: 'REDIS_PASSWORD', path: ['redis', 'password'], type: 'string', description: 'password; overrides the one in REDIS_URL; never logged' },
  { name: 'REDIS_TLS_CA_FILE', path: ['redis', 'tls', 'caFile'], type: 'string', description: "CA certificate (PEM) of a rediss:// server; default: the system's roots" },
  { name: 'REDIS_TLS_CERT_FILE', path: ['redis', 'tls', 'certFile'], type: 'string', description: 'client certificate (PEM) when the server wants one, with REDIS_TLS_KEY_FILE' },
  { name: 'REDIS_TLS_KEY_FILE', path: ['redis', 'tls', 'keyFile'], type: 'string', description: "the client certificate's private key (PEM)" },
  { name: 'REDIS_TLS_SERVER_NAME', path: ['redis', 'tls', 'serverName'], type: 'string', description: "name the server's certificate is checked against, when it is not the URL's host" },
  { name: 'REDIS_SENTINELS', path: ['redis', 'sentinels'], type: 'list', description: 'Redis Sentinel: comma-separated host:port of the sentinels (instead of REDIS_URL)' },
  { name: 'REDIS_SENTINEL_MASTER', path: ['redis', 'name'], type: 'string', description: 'the primary\'s name as the sentinels know it (e.g. mymaster)' },
  { name: 'REDIS_SENTINEL_USERNAME', path: ['redis', 'sentinelUsername'], type: 'string', description: "the sentinels' own ACL user, when they require one" },
  { name: 'REDIS_SENTINEL_PASSWORD', path: ['redis', 'sentinelPassword'], type: 'string', description: "the sentinels' own password (requirepass of the sentinels); never logged" },
  { name: 'BREAKERS', path: ['breakerNames'], type: 'list', description: 'comma-separated breaker names (moralis,glassnode,twitter,reddit,lunarcrush)' },
  ...breakerVars,
  ...PROVIDERS.flatMap((p): EnvVar[] => [
    { name: `${p.toUpperCase()}_BASE_URL`, path: ['providers', p, 'baseUrl'], type: 'string', description: `${p} API base URL (the local simulator)` },
    { name: `${p.toUpperCase()}_API_KEY`, path: ['providers', p, 'apiKey'], type: 'string', description: `${p} API key` },
  ]),
  { name: 'FORCED_OPEN_RECHECK_SECONDS', path: ['interceptor', 'forcedOpenRecheckSeconds'], type: 'int', description: `retry delay of an activity rejected by a forced-open circuit (60; at most ${BOUNDS.forcedOpenRecheckSeconds})` },
  { name: 'METRICS_PROMETHEUS_ADDRESS', path: ['metrics', 'prometheusAddress'], type: 'string', description: 'host:port of the worker Prometheus endpoint; unset = off' },
];
