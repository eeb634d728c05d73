import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { BreakerConfig } from '../breaker/config';
import type { AppConfig } from '../config/schema';
import type { Logger } from '../log/logger';
import type { BreakerStore } from '../store/store';
import { createBreakerInterceptors } from './activity-interceptor';

export interface BreakerWorkerOptions {
  config: AppConfig;
  connection: NativeConnection;
  store: BreakerStore;
  breakers: ReadonlyMap<string, BreakerConfig>;
  activities: object;
  logger: Logger;
  /** A prebuilt workflow bundle; default: bundle `workflows/index.ts` at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Extra options for `Worker.create` (tests: identity, concurrency). */
  workerOptions?: Partial<WorkerOptions>;
}

/** A worker that runs the collector and breaker workflows, with the breaker interceptor on every mapped activity. */
export async function createBreakerWorker(opts: BreakerWorkerOptions): Promise<Worker> {
  const { config } = opts;
  const interceptors = createBreakerInterceptors({
    store: opts.store,
    breakers: opts.breakers,
    breakerFor: config.activities,
    forcedOpenRecheckMs: config.interceptor.forcedOpenRecheckSeconds * 1000,
    halfOpenRecheckMs: config.interceptor.halfOpenRecheckSeconds * 1000,
    defaultProbeLeaseMs: config.interceptor.defaultProbeLeaseSeconds * 1000,
    logger: opts.logger,
  });
  return Worker.create({
    connection: opts.connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    activities: opts.activities,
    interceptors,
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath: require.resolve('../../workflows') }),
    ...opts.workerOptions,
  });
}
