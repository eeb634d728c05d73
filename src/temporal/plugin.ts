/**
 * `CircuitBreakerPlugin`: the whole breaker in one `WorkerPlugin`. It registers the activity
 * interceptor and the breaker workflows' control activities, and when the worker runs it
 * registers the `BreakerState` search attribute and starts (idempotently) the breaker workflow
 * `circuit-breaker:{name}` of every configured breaker on the worker's task queue.
 *
 * A plugin cannot add workflows to the user's bundle: the user's workflows module re-exports
 * `circuitBreakerWorkflow` from `temporal-circuit-breaker/workflows`.
 */
import { SimplePlugin } from '@temporalio/plugin';
import type { Worker } from '@temporalio/worker';
import { createBreakerControlActivities, type BreakerControlDeps } from '../../activities/breaker-control';
import type { BreakerConfig } from '../breaker/config';
import { defaultLogger, type Logger } from '../log/logger';
import type { BreakerStore } from '../store/store';
import { breakerInterceptorFactory, type BreakerInterceptorOptions } from './activity-interceptor';
import { resolveBreakers, type ActivityBreakersOption, type BreakersOption } from './breaker-registry';
import { ensureBreakerWorkflows, registerSearchAttributes } from './breaker-workflows';

export const CIRCUIT_BREAKER_PLUGIN_NAME = 'temporal-circuit-breaker';

export interface CircuitBreakerPluginOptions extends Omit<BreakerInterceptorOptions, 'breakers' | 'activities' | 'breakerFor' | 'store'> {
  /** Where the breaker state lives: `RedisBreakerStore` for a fleet, `MemoryBreakerStore` for one process. */
  store: BreakerStore;
  /** Breaker name → settings (the seed's defaults fill what is left out). */
  breakers: BreakersOption;
  /** Activity type → breaker name, or a function of the activity's info. */
  activities: ActivityBreakersOption;
  /** Breaker name → a cheap real call to its upstream, run by the breaker workflow when the open period ends. */
  probes?: BreakerControlDeps['probes'];
  /** How long the breaker workflow's probe holds its half-open slot. Default 30 s. */
  probeLeaseMs?: number;
  /** Start the breaker workflows when the worker runs. Default true. */
  startBreakerWorkflows?: boolean;
  /** Register the `BreakerState` search attribute when the worker runs. Default true. */
  registerSearchAttribute?: boolean;
  logger?: Logger;
}

export class CircuitBreakerPlugin extends SimplePlugin {
  /** Every breaker's validated config, by name. */
  readonly breakers: ReadonlyMap<string, BreakerConfig>;
  private readonly log: Logger;

  constructor(private readonly pluginOptions: CircuitBreakerPluginOptions) {
    const breakers = resolveBreakers(pluginOptions.breakers);
    const logger = pluginOptions.logger ?? defaultLogger;
    const { store, probes, probeLeaseMs, classifyError } = pluginOptions;
    super({
      name: CIRCUIT_BREAKER_PLUGIN_NAME,
      activities: createBreakerControlActivities({ store, breakers, probes, probeLeaseMs, classifyError }),
      workerInterceptors: { activity: [breakerInterceptorFactory({ ...pluginOptions, breakers, logger })] },
    });
    this.breakers = breakers;
    this.log = logger;
  }

  override runWorker(worker: Worker, next: (w: Worker) => Promise<void>): Promise<void> {
    // Beside the worker's start, not before it: `Worker.runUntil` shuts down only a RUNNING
    // worker, so a hook that delays the start could leave a worker running for good.
    this.prepared = this.prepare(worker);
    return super.runWorker(worker, next);
  }

  /** Settles once the last run's search attribute and breaker workflows are in place (or failed, logged). */
  whenPrepared(): Promise<void> {
    return this.prepared;
  }

  private prepared: Promise<void> = Promise.resolve();

  /** What the worker needs on the server: the search attribute, and one running workflow per breaker. Never throws. */
  private async prepare(worker: Worker): Promise<void> {
    const { namespace, taskQueue } = worker.options;
    const connection = worker.connection;
    const client = worker.client;
    if (this.pluginOptions.registerSearchAttribute !== false && connection) {
      await registerSearchAttributes(connection, namespace).catch((e: Error) =>
        this.log.warn('could not register the BreakerState search attribute', { namespace, error: e.message.split('\n')[0] }),
      );
    }
    if (this.pluginOptions.startBreakerWorkflows === false) return;
    if (!client) {
      this.log.warn('the worker has no client: breaker workflows not started', { taskQueue });
      return;
    }
    try {
      await ensureBreakerWorkflows(client, this.breakers.keys(), taskQueue);
      this.log.info('breaker workflows running', { taskQueue, breakers: [...this.breakers.keys()] });
    } catch (e) {
      // Not fatal: the interceptor starts a breaker's workflow with its first transition report.
      this.log.warn('could not start the breaker workflows', { taskQueue, error: (e as Error).message.split('\n')[0] });
    }
  }
}
