/**
 * The composition root of the market-data app: one worker for the CLI's `worker` command, the
 * demo and the test harness, built the way a user builds theirs — the collectors as the worker's
 * activities, the breaker as a `CircuitBreakerPlugin`, the breaker workflow re-exported by our
 * workflows module.
 */
import { Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import type { BreakerStore, Logger } from '..';
import { CircuitBreakerPlugin, type CircuitBreakerPluginOptions } from '../worker';
import type { AppConfig } from '../config/schema';
import type { ResultStore } from '../results';
import { createAppActivities } from './activities';

export interface AppWorkerOptions {
  config: AppConfig;
  connection: NativeConnection;
  /** The breaker store (the demo passes a tapped one). */
  store: BreakerStore;
  results: ResultStore;
  logger: Logger;
  /** A prebuilt workflow bundle; default: bundle `workflows/index.ts` at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Extra options for `Worker.create` (tests: identity, concurrency). */
  workerOptions?: Partial<WorkerOptions>;
  /** Extra plugin options (tests: a reporter). */
  pluginOptions?: Partial<CircuitBreakerPluginOptions>;
}

/** The breaker plugin as the configuration describes it. */
export function createAppPlugin(config: AppConfig, store: BreakerStore, probes: CircuitBreakerPluginOptions['probes'], logger: Logger, extra: Partial<CircuitBreakerPluginOptions> = {}): CircuitBreakerPlugin {
  return new CircuitBreakerPlugin({
    store,
    breakers: config.breakers,
    activities: config.activities,
    probes,
    forcedOpenRecheckMs: config.interceptor.forcedOpenRecheckSeconds * 1000,
    halfOpenRecheckMs: config.interceptor.halfOpenRecheckSeconds * 1000,
    defaultProbeLeaseMs: config.interceptor.defaultProbeLeaseSeconds * 1000,
    logger,
    ...extra,
  });
}

export async function createAppWorker(opts: AppWorkerOptions): Promise<{ worker: Worker; plugin: CircuitBreakerPlugin }> {
  const { config } = opts;
  const { collectors, probes } = createAppActivities(config, opts.results);
  const plugin = createAppPlugin(config, opts.store, probes, opts.logger, opts.pluginOptions);
  const worker = await Worker.create({
    connection: opts.connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    activities: collectors,
    plugins: [plugin],
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath: require.resolve('../../workflows') }),
    ...opts.workerOptions,
  });
  return { worker, plugin };
}
