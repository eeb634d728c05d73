import { Context } from '@temporalio/activity';
import { createCollectorActivities, type CollectorActivities } from '../../activities/collectors';
import type { AppConfig } from '../config/schema';
import { DEFAULT_QUERIES, PROVIDER_OF_ACTIVITY } from '../providers';
import type { ResultStore } from '../results';

export interface AppActivities {
  /** The five collectors, by activity type. */
  collectors: CollectorActivities;
  /** Breaker name → its recovery probe: one real call of the collector that runs behind it. */
  probes: Record<string, () => Promise<unknown>>;
}

/** The market-data app's activities: the collectors, and the probes the breaker workflows run. */
export function createAppActivities(config: AppConfig, results: ResultStore): AppActivities {
  const cancellationSignal = () => {
    try {
      return Context.current().cancellationSignal;
    } catch {
      return undefined; // called outside an activity
    }
  };
  const collectors = createCollectorActivities({ config: { providers: config.providers }, results, cancellationSignal });
  const byType = collectors as unknown as Record<string, (input: Record<string, unknown>) => Promise<unknown>>;
  const probes: Record<string, () => Promise<unknown>> = {};
  let probeSeq = 0;
  for (const [activityType, breaker] of Object.entries(config.activities)) {
    const collect = Object.prototype.hasOwnProperty.call(byType, activityType) ? byType[activityType] : undefined;
    const provider = PROVIDER_OF_ACTIVITY[activityType];
    if (collect && provider && !probes[breaker]) {
      probes[breaker] = () => collect({ ...DEFAULT_QUERIES[provider], idempotencyKey: `probe:${breaker}:${Date.now()}:${probeSeq++}` });
    }
  }
  return { collectors, probes };
}
