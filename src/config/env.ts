import { MAX_OPEN_PERIOD_SECONDS } from '..';
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
  { name: 'REDIS_URL', path: ['redis', 'url'], type: 'string', description: 'shared breaker state; unset = in-process memory store' },
  { name: 'REDIS_KEY_PREFIX', path: ['redis', 'keyPrefix'], type: 'string', description: 'prefix of the breaker keys (cb_state:)' },
  { name: 'REDIS_TIMEOUT_MS', path: ['redis', 'timeoutMs'], type: 'int', description: `longest wait for Redis before the fallback decides (100; at most ${BOUNDS.redisTimeoutMs})` },
  { name: 'REDIS_OPEN_CACHE_MS', path: ['redis', 'openCacheMs'], type: 'int', description: `how long a worker rejects from an open state it read before asking Redis again; 0 = every call (1000; at most ${BOUNDS.redisOpenCacheMs})` },
  { name: 'REDIS_ON_UNAVAILABLE', path: ['redis', 'onUnavailable'], type: 'string', description: 'fallback | allow | reject when Redis is unreachable (fallback)' },
  { name: 'BREAKERS', path: ['breakerNames'], type: 'list', description: 'comma-separated breaker names (moralis,glassnode,twitter,reddit,lunarcrush)' },
  ...breakerVars,
  ...PROVIDERS.flatMap((p): EnvVar[] => [
    { name: `${p.toUpperCase()}_BASE_URL`, path: ['providers', p, 'baseUrl'], type: 'string', description: `${p} API base URL (the local simulator)` },
    { name: `${p.toUpperCase()}_API_KEY`, path: ['providers', p, 'apiKey'], type: 'string', description: `${p} API key` },
  ]),
  { name: 'FORCED_OPEN_RECHECK_SECONDS', path: ['interceptor', 'forcedOpenRecheckSeconds'], type: 'int', description: `retry delay of an activity rejected by a forced-open circuit (60; at most ${BOUNDS.forcedOpenRecheckSeconds})` },
  { name: 'METRICS_PROMETHEUS_ADDRESS', path: ['metrics', 'prometheusAddress'], type: 'string', description: 'host:port of the worker Prometheus endpoint; unset = off' },
];
