import { NativeConnection } from '@temporalio/worker';
import { Client, Connection } from '@temporalio/client';
import { createActivities } from '../app/activities';
import { createStores } from '../app/stores';
import { breakerConfigs } from '../config/breakers';
import type { AppConfig } from '../config/schema';
import { defaultLogger } from '../log/logger';
import { ensureBreakerWorkflows, registerSearchAttributes } from '../temporal/breaker-workflows';
import { installWorkerRuntime } from '../temporal/runtime';
import { createBreakerWorker } from '../temporal/worker';
import { CliError } from './temporal-client';

export async function runWorker(config: AppConfig): Promise<void> {
  const logger = defaultLogger;
  await installWorkerRuntime(config, logger); // first: the SDK Runtime (metrics exporter) exists once per process
  const address = config.temporal.address;
  let connection: NativeConnection;
  try {
    connection = await NativeConnection.connect({ address });
  } catch (e) {
    throw new CliError(`cannot reach Temporal at ${address}: ${(e as Error).message.split('\n')[0]} (set TEMPORAL_ADDRESS)`);
  }
  const clientConnection = await Connection.connect({ address });
  const client = new Client({ connection: clientConnection, namespace: config.temporal.namespace });
  const breakers = breakerConfigs(config);
  const stores = createStores(config, logger);
  logger.info(`breaker state in ${stores.redis ? `Redis (${config.redis.url})` : 'process memory (set REDIS_URL to share it)'}`, {});
  await registerSearchAttributes(clientConnection, config.temporal.namespace).catch((e: Error) =>
    logger.warn('could not register the BreakerState search attribute', { error: e.message }),
  );
  const worker = await createBreakerWorker({
    config,
    connection,
    store: stores.breakers,
    breakers,
    activities: createActivities(config, stores.breakers, stores.results, breakers),
    logger,
  });
  await ensureBreakerWorkflows(client, breakers.keys(), config.temporal.taskQueue);
  logger.info('worker running', { taskQueue: config.temporal.taskQueue, breakers: [...breakers.keys()] });
  const stop = () => worker.shutdown();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await worker.run();
  } finally {
    await stores.close();
    await clientConnection.close();
    await connection.close();
  }
}
