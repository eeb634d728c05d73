/**
 * The worker the Temporal benchmarks run: the collectors behind the breaker plugin ('breaker'),
 * or the collectors alone ('none'). Used in-process by bench/temporal.ts and, one per child
 * process, by bench/throughput-child.ts.
 */
import { Worker, type ActivityInterceptorsFactory, type NativeConnection, type WorkflowBundleOption } from '@temporalio/worker';
import { silentLogger } from '../src';
import { createAppActivities } from '../src/app/activities';
import type { Stores } from '../src/app/stores';
import { createAppPlugin } from '../src/app/worker';
import type { AppConfig } from '../src/config/schema';

export type Mode = 'breaker' | 'none';

export interface BenchWorkerOptions {
  mode: Mode;
  config: AppConfig;
  stores: Stores;
  connection: NativeConnection;
  taskQueue: string;
  workflowBundle: WorkflowBundleOption;
  /** Interceptors placed outside the breaker's (e.g. a timer), in 'breaker' mode. */
  outer?: ActivityInterceptorsFactory[];
}

export function createBenchWorker(o: BenchWorkerOptions): Promise<Worker> {
  const { collectors, probes } = createAppActivities(o.config, o.stores.results);
  // The plugin appends its interceptor after the worker's own: `outer` runs outside the breaker's.
  const plugins = o.mode === 'breaker' ? [createAppPlugin(o.config, o.stores.breakers, probes, silentLogger, { startBreakerWorkflows: false, registerSearchAttribute: false })] : [];
  return Worker.create({
    connection: o.connection,
    namespace: o.config.temporal.namespace,
    taskQueue: o.taskQueue,
    activities: collectors,
    workflowBundle: o.workflowBundle,
    plugins,
    ...(o.mode === 'breaker' && o.outer ? { interceptors: { activity: o.outer } } : {}),
  });
}
