import { NativeConnection } from '@temporalio/worker';
import { defaultLogger } from '..';
import { installWorkerRuntime } from '../app/runtime';
import { createStores } from '../app/stores';
import { createAppWorker } from '../app/worker';
import type { AppConfig } from '../config/schema';
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
  const stores = createStores(config, logger);
  logger.info(`breaker state in ${stores.redis ? `Redis (${redactUrl(config.redis.url!)})` : 'process memory (set REDIS_URL to share it)'}`, {});
  // The plugin registers the BreakerState search attribute and starts the breaker workflows as the worker runs.
  const { worker, plugin } = await createAppWorker({ config, connection, store: stores.breakers, results: stores.results, logger });
  logger.info('worker running', { taskQueue: config.temporal.taskQueue, breakers: [...plugin.breakers.keys()] });
  const stop = () => worker.shutdown();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await worker.run();
  } finally {
    await stores.close();
    await connection.close();
  }
}

/** A URL without its password, for logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}
