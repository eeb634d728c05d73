/**
 * The worker the Temporal benchmarks run: the collectors and breaker-control activities, with the
 * breaker interceptor ('breaker') or with no interceptor at all ('none'). Used in-process by
 * bench/temporal.ts and, one per child process, by bench/throughput-child.ts.
 */
import { Worker, type ActivityInterceptorsFactory, type NativeConnection, type WorkflowBundleOption } from '@temporalio/worker';
import { createActivities } from '../src/app/activities';
import type { Stores } from '../src/app/stores';
import type { BreakerConfig } from '../src/breaker/config';
import type { AppConfig } from '../src/config/schema';
import { silentLogger } from '../src/log/logger';
import { createBreakerInterceptors } from '../src/temporal/activity-interceptor';

export type Mode = 'breaker' | 'none';

export interface BenchWorkerOptions {
  mode: Mode;
  config: AppConfig;
  stores: Stores;
  breakers: ReadonlyMap<string, BreakerConfig>;
  connection: NativeConnection;
  taskQueue: string;
  workflowBundle: WorkflowBundleOption;
  /** Interceptors placed outside the breaker's (e.g. a timer), in 'breaker' mode. */
  outer?: ActivityInterceptorsFactory[];
}

export function createBenchWorker(o: BenchWorkerOptions): Promise<Worker> {
  const interceptors =
    o.mode === 'breaker'
      ? createBreakerInterceptors({
          store: o.stores.breakers,
          breakers: o.breakers,
          breakerFor: o.config.activities,
          forcedOpenRecheckMs: o.config.interceptor.forcedOpenRecheckSeconds * 1000,
          halfOpenRecheckMs: o.config.interceptor.halfOpenRecheckSeconds * 1000,
          defaultProbeLeaseMs: o.config.interceptor.defaultProbeLeaseSeconds * 1000,
          logger: silentLogger,
        })
      : undefined;
  return Worker.create({
    connection: o.connection,
    namespace: o.config.temporal.namespace,
    taskQueue: o.taskQueue,
    activities: createActivities(o.config, o.stores.breakers, o.stores.results, o.breakers),
    workflowBundle: o.workflowBundle,
    ...(interceptors ? { interceptors: { activity: [...(o.outer ?? []), ...interceptors.activity] } } : {}),
  });
}
