/** The demo's fixed settings: its breaker settings, its collector workflows, and the configuration overrides they become. */
import { PROVIDERS } from '../config/schema';
import type { CollectorWorkflowInput } from '../../workflows/collectors';
import type { Simulator } from '../sim';

/**
 * The demo's breaker settings, applied through the configuration (as `breakerDefaults`), each
 * only when its environment variable is unset: a circuit opens after 3 failures and probes after
 * 10 s, so the whole scenario plays in well under two minutes.
 */
export const DEMO_BREAKER_SETTINGS: readonly { key: string; env: string; value: number }[] = [
  { key: 'failureThreshold', env: 'BREAKER_FAILURE_THRESHOLD', value: 3 },
  { key: 'timeoutSeconds', env: 'BREAKER_TIMEOUT_SECONDS', value: 10 },
  { key: 'maxTimeoutSeconds', env: 'BREAKER_MAX_TIMEOUT_SECONDS', value: 60 },
];
/** Activities rejected by a forced-open circuit look again after this long (FORCED_OPEN_RECHECK_SECONDS). */
export const DEMO_FORCED_OPEN_RECHECK_SECONDS = 5;
/** Seconds between two collection cycles. */
export const DEMO_COLLECTOR_INTERVAL_SECONDS = 3;

export const DEMO_COLLECTORS: readonly { workflowId: string; type: string; input: CollectorWorkflowInput; label: string }[] = [
  {
    workflowId: 'demo-collector:onchain',
    type: 'onChainCollectorWorkflow',
    input: { intervalSeconds: DEMO_COLLECTOR_INTERVAL_SECONDS, policy: { moralis: 'wait', glassnode: 'wait' } },
    label: 'moralis + glassnode, policy wait',
  },
  {
    workflowId: 'demo-collector:social',
    type: 'socialCollectorWorkflow',
    input: { intervalSeconds: DEMO_COLLECTOR_INTERVAL_SECONDS, policy: { twitter: 'skip', reddit: 'skip', lunarcrush: 'skip' } },
    label: 'twitter + reddit + lunarcrush, policy skip',
  },
];

/** The configuration overrides of the demo (fixed settings + where its own servers are). */
export function demoOverrides(env: NodeJS.ProcessEnv, where: { temporalAddress?: string; redisUrl?: string; sim: Pick<Simulator, 'providers'> }) {
  const breakerDefaults = Object.fromEntries(DEMO_BREAKER_SETTINGS.filter((s) => env[s.env] === undefined).map((s) => [s.key, s.value]));
  return {
    ...(where.temporalAddress ? { temporal: { address: where.temporalAddress } } : {}),
    ...(where.redisUrl ? { redis: { url: where.redisUrl } } : {}),
    ...(Object.keys(breakerDefaults).length ? { breakerDefaults } : {}),
    ...(env.FORCED_OPEN_RECHECK_SECONDS === undefined ? { interceptor: { forcedOpenRecheckSeconds: DEMO_FORCED_OPEN_RECHECK_SECONDS } } : {}),
    providers: Object.fromEntries(PROVIDERS.map((p) => [p, { baseUrl: where.sim.providers[p].baseUrl, apiKey: where.sim.providers[p].apiKey }])),
  };
}
