/**
 * One worker process of the throughput benchmark (forked by bench/temporal.ts with tsx): a bench
 * worker in the mode it is given, on its own task queue, until the parent disconnects.
 */
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { createStores } from '../src/app/stores';
import { loadConfig } from '../src/config/load';
import { silentLogger } from '../src/log/logger';
import { createBenchWorker, type Mode } from './bench-worker';

export interface ThroughputChildSpec {
  mode: Mode;
  address: string;
  namespace: string;
  taskQueue: string;
  redisUrl: string;
  keyPrefix: string;
  resultKeyPrefix: string;
  providers: Record<string, unknown>;
  bundlePath: string;
}

async function main(spec: ThroughputChildSpec): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const config = loadConfig({}, { temporal: { address: spec.address, namespace: spec.namespace, taskQueue: spec.taskQueue }, redis: { url: spec.redisUrl, keyPrefix: spec.keyPrefix }, providers: spec.providers });
  const stores = createStores(config, silentLogger, { resultKeyPrefix: spec.resultKeyPrefix });
  const connection = await NativeConnection.connect({ address: spec.address });
  const worker = await createBenchWorker({
    mode: spec.mode,
    config,
    stores,
    connection,
    taskQueue: spec.taskQueue,
    workflowBundle: { codePath: spec.bundlePath },
  });
  process.once('disconnect', () => worker.shutdown());
  const running = worker.run();
  process.send?.({ ready: true });
  await running;
  await stores.close();
  await connection.close();
}

process.once('message', (spec: ThroughputChildSpec) => {
  main(spec).then(
    () => process.exit(0),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
});
