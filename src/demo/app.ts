/**
 * The demo's application on Temporal: the worker and client connections, the worker (its plugin
 * starts the breaker workflows) and the demo's collector workflows, each stopped by `life`.
 */
import { Client, Connection } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import type { BreakerConfig, BreakerStore, Logger } from '..';
import type { Stores } from '../app/stores';
import { createAppWorker } from '../app/worker';
import { breakerWorkflowId, connectionOptions, explainConnectError } from '../client';
import { CliError, connectNative, temporalSettings } from '../cli/temporal-client';
import type { AppConfig } from '../config/schema';
import type { DemoTemporal } from './dev-server';
import type { EventFeed } from './feed';
import type { Lifecycle } from './lifecycle';
import type { WorkflowBundle } from './services';
import { DEMO_COLLECTOR_INTERVAL_SECONDS, DEMO_COLLECTORS } from './settings';

/** A shared Redis may hold an earlier run's state: start the scenario from closed circuits. */
export async function resetLeftoverCircuits(untapped: BreakerStore, breakers: ReadonlyMap<string, BreakerConfig>, say: (text: string) => void): Promise<void> {
  for (const [name, cfg] of breakers) {
    const s = await untapped.load(cfg);
    if (s.state !== 'closed') {
      // Through the untapped store: housekeeping, not a state change of the scenario.
      await untapped.command(cfg, 'reset', Date.now());
      say(`${name} was ${s.state} (state left in Redis by an earlier run): reset it for the scenario`);
    }
  }
}

export interface AppOptions {
  config: AppConfig;
  env: NodeJS.ProcessEnv;
  /** The dev server the demo started, null on a Temporal of the user's. */
  temporal: DemoTemporal | null;
  breakers: ReadonlyMap<string, BreakerConfig>;
  stores: Stores;
  /** The breaker store the worker uses (tapped for the feed). */
  store: BreakerStore;
  logger: Logger;
  workflowBundle: WorkflowBundle;
  life: Lifecycle;
  feed: EventFeed;
  /** Called first when the worker fails (the demo then stops). */
  onWorkerFailure: (e: Error) => void;
}

/** Connects, runs the worker and starts the collector workflows; resolves to the client (for the scenario's signals). */
export async function startApp(o: AppOptions): Promise<Client> {
  const { config, temporal, breakers, life, feed } = o;
  const say = (text: string) => feed.emit('demo', text);
  // TLS, mutual TLS, API key: the SDK's client configuration (TEMPORAL_API_KEY, TEMPORAL_TLS_*, temporal.toml).
  const settings = temporalSettings(config, temporal ? {} : o.env); // the demo's own dev server: plain text
  const nativeConnection = await connectNative(settings);
  life.addCleanup('the worker connection', () => nativeConnection.close());
  const connection = await Connection.connect({ ...connectionOptions(settings), connectTimeout: 5_000 }).catch((e: unknown) => {
    throw new CliError(explainConnectError(e, settings));
  });
  life.addCleanup('the client connection', () => connection.close());
  const client = new Client({ connection, namespace: config.temporal.namespace });
  // The plugin registers the BreakerState search attribute and starts the breaker workflows when the worker runs.
  const { worker }: { worker: Worker } = await createAppWorker({
    config,
    connection: nativeConnection,
    store: o.store,
    results: o.stores.results,
    logger: o.logger,
    workflowBundle: o.workflowBundle,
    workerOptions: { shutdownGraceTime: '2 seconds', shutdownForceTime: '10 seconds' },
  });
  const running = worker.run().catch((e: Error) => {
    o.onWorkerFailure(e);
    feed.emit('error', `worker failed: ${e.message}`);
    life.requestStop('the worker failed');
  });
  life.addCleanup('the worker', async () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running;
  });
  const b0 = breakers.values().next().value!;
  say(
    `worker running on task queue '${config.temporal.taskQueue}', breakers ${[...breakers.keys()].join(', ')}: ` +
      `failure threshold ${b0.failureThreshold}, open ${b0.timeoutSeconds}s, backoff ×${b0.backoffMultiplier} up to ${b0.maxTimeoutSeconds}s, ` +
      `${b0.halfOpenSuccessThreshold} probe successes close (demo settings, through configuration)`,
  );

  for (const c of DEMO_COLLECTORS) {
    await client.workflow.start(c.type, {
      workflowId: c.workflowId,
      taskQueue: config.temporal.taskQueue,
      args: [c.input],
      workflowIdConflictPolicy: 'TERMINATE_EXISTING',
    });
  }
  if (!temporal) {
    // On a server of the user's, the collectors go with the demo (the breaker workflows stay, as in production).
    life.addCleanup('the demo collector workflows', () =>
      Promise.all(DEMO_COLLECTORS.map((c) => client.workflow.getHandle(c.workflowId).terminate('demo stopped').catch(() => undefined))),
    );
  }
  say(
    `workflows: ${[...breakers.keys()].map(breakerWorkflowId).join(', ')}; ` +
      DEMO_COLLECTORS.map((c) => `${c.workflowId} (${c.label}, every ${DEMO_COLLECTOR_INTERVAL_SECONDS}s)`).join(', '),
  );
  return client;
}
