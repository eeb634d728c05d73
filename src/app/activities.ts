import { createBreakerControlActivities } from '../../activities/breaker-control';
import { createCollectorActivities } from '../../activities/collectors';
import type { BreakerConfig } from '../breaker/config';
import type { AppConfig } from '../config/schema';
import { Context } from '@temporalio/activity';
import { DEFAULT_QUERIES, PROVIDER_OF_ACTIVITY } from '../providers';
import type { ResultStore } from '../results';
import type { BreakerStore } from '../store/store';

/** Every activity a worker registers: the five collectors and the breaker-control activities. */
export function createActivities(config: AppConfig, store: BreakerStore, results: ResultStore, breakers: ReadonlyMap<string, BreakerConfig>) {
  const cancellationSignal = () => {
    try {
      return Context.current().cancellationSignal;
    } catch {
      return undefined; // called outside an activity
    }
  };
  const collectors = createCollectorActivities({ config: { providers: config.providers }, results, cancellationSignal });
  const byType = collectors as unknown as Record<string, (input: Record<string, unknown>) => Promise<unknown>>;
  // The recovery probe of a breaker is one real call of the collector that runs behind it.
  const probes: Record<string, () => Promise<unknown>> = {};
  let probeSeq = 0;
  for (const [activityType, breaker] of Object.entries(config.activities)) {
    const collect = byType[activityType];
    const provider = PROVIDER_OF_ACTIVITY[activityType];
    if (collect && provider && !probes[breaker]) {
      probes[breaker] = () => collect({ ...DEFAULT_QUERIES[provider], idempotencyKey: `probe:${breaker}:${Date.now()}:${probeSeq++}` });
    }
  }
  return { ...collectors, ...createBreakerControlActivities({ store, breakers, probes }) };
}
