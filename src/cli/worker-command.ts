import { defaultLogger } from '..';
import { installWorkerRuntime } from '../app/runtime';
import { createStores } from '../app/stores';
import { createAppWorker } from '../app/worker';
import type { AppConfig } from '../config/schema';
import { connectNative, temporalSettings } from './temporal-client';

export async function runWorker(config: AppConfig): Promise<void> {
  const logger = defaultLogger;
  await installWorkerRuntime(config, logger); // first: the SDK Runtime (metrics exporter) exists once per process
  const settings = temporalSettings(config);
  const connection = await connectNative(settings);
  logger.info(`connected to Temporal at ${settings.description}`, {});
  const stores = createStores(config, logger);
  logger.info(`breaker state in ${stores.description}`, {});
  // The plugin registers the BreakerState search attribute and starts the breaker workflows as the worker runs.
  const { worker, plugin } = await createAppWorker({ config, connection, store: stores.breakers, results: stores.results, logger });
  const stop = () => worker.shutdown();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const running = worker.run();
  try {
    // "running" once the breaker workflows exist too (the plugin starts them beside the worker).
    await Promise.race([plugin.whenPrepared(), running.then(() => undefined, () => undefined)]);
    logger.info('worker running', { taskQueue: config.temporal.taskQueue, breakers: [...plugin.breakers.keys()] });
    await running;
  } finally {
    await stores.close();
    await connection.close();
  }
}
