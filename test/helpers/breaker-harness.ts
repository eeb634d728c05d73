/**
 * A whole breaker deployment inside a test: the upstream simulator, a real Redis store (a key
 * prefix of its own), and a worker with the collectors, the breaker-control activities and the
 * breaker interceptor, on a Temporal test environment.
 */
import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, type Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createStores, type Stores } from '../../src/app/stores';
import { createAppWorker } from '../../src/app/worker';
import type { BreakerConfig } from '../../src/breaker/config';
import { breakerConfigs } from '../../src/config/breakers';
import { loadConfig } from '../../src/config/load';
import type { AppConfig } from '../../src/config/schema';
import { jsonLogger, silentLogger, type Logger } from '../../src/log/logger';
import { startSimulator, simulatorProvidersConfig, type Simulator } from '../../src/sim';
import { breakerWorkflowId, registerSearchAttributes } from '../../src/worker';
import { workflowsPath } from './paths';
import { redisUrl } from './redis';

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
/** The workflow bundle, built once per test file. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath, logger: { trace() {}, debug() {}, info() {}, warn() {}, error: console.error } as never });
  return bundle;
}

export interface Harness {
  config: AppConfig;
  sim: Simulator;
  stores: Stores;
  breakers: ReadonlyMap<string, BreakerConfig>;
  taskQueue: string;
  newWorker(): Promise<Worker>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** Overrides of the app configuration (deep-merged over the test defaults). */
  config?: Record<string, unknown>;
  logger?: Logger;
  sim?: Simulator;
}

export async function startHarness(env: TestWorkflowEnvironment, opts: HarnessOptions = {}): Promise<Harness> {
  const sim = opts.sim ?? (await startSimulator({ port: 0 }));
  const id = randomUUID().slice(0, 8);
  const taskQueue = `tq-${id}`;
  const config = loadConfig(
    {},
    {
      temporal: { taskQueue, namespace: env.namespace ?? 'default' },
      redis: { url: redisUrl(), keyPrefix: `test-${id}:cb_state:` },
      providers: simulatorProvidersConfig(sim.url),
      ...opts.config,
    },
  );
  const logger = opts.logger ?? (process.env.TCB_TEST_LOGS ? jsonLogger('debug') : silentLogger);
  const stores = createStores(config, logger, { resultKeyPrefix: `test-${id}:result:` });
  const breakers = breakerConfigs(config);
  await registerSearchAttributes(env.connection, config.temporal.namespace);
  const newWorker = async () =>
    (
      await createAppWorker({
        config,
        connection: env.nativeConnection,
        store: stores.breakers,
        results: stores.results,
        logger,
        workflowBundle: await workflowBundle(),
      })
    ).worker;
  return {
    config,
    sim,
    stores,
    breakers,
    taskQueue: config.temporal.taskQueue,
    newWorker,
    async close() {
      // The plugin started a breaker workflow per breaker on this task queue. Left running, their
      // timers would fire on a queue no worker polls any more, which holds the time-skipping
      // server's clock still for every later test of the file.
      await Promise.all(
        [...breakers.keys()].map(async (name) => {
          const handle = env.client.workflow.getHandle(breakerWorkflowId(name));
          const d = await handle.describe().catch(() => null);
          if (d?.status.name === 'RUNNING' && d.taskQueue === taskQueue) await handle.terminate('test harness closed').catch(() => undefined);
        }),
      );
      await stores.close();
      if (!opts.sim) await sim.close();
    },
  };
}
