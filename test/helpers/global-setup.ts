/**
 * vitest globalSetup, once per run:
 * - provisions on first use: on a fresh machine `npm test` runs scripts/provision.sh itself
 *   (Temporal CLI, time-skipping server, redis-server), with its progress on the terminal;
 * - starts one throwaway redis-server for the whole run, unless REDIS_URL is set. The URL reaches
 *   the test workers through process.env.REDIS_URL (forks inherit it) and `inject('redisUrl')`.
 *   When redis-server cannot be started, the reason is passed on instead and every test that asks
 *   for Redis fails with it (tests that do not need Redis still run).
 * Runs once per vitest project; the first run does the work, the others reuse it.
 */
import type { TestProject } from 'vitest/node' with { 'resolution-mode': 'import' };
import { provisionIfMissing } from '../../src/dev/provision';
import { REDIS_UNAVAILABLE_ENV, startRedisServer, type RedisServer } from './redis';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

const PROVISIONED_ENV = 'TCB_TEST_PROVISION_CHECKED';

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | void> {
  if (!process.env[PROVISIONED_ENV]) {
    process.env[PROVISIONED_ENV] = '1';
    provisionIfMissing({ temporal: ['dev-server', 'time-skipping'], redis: true, browser: true, secure: true }, (l) => console.info(`[global-setup] ${l}`));
  }
  let server: RedisServer | undefined;
  if (!process.env.REDIS_URL && !process.env[REDIS_UNAVAILABLE_ENV]) {
    try {
      server = await startRedisServer();
      process.env.REDIS_URL = server.url;
      console.info(`[global-setup] redis-server ${server.url} (pid ${server.pid}) for this run`);
    } catch (err) {
      process.env[REDIS_UNAVAILABLE_ENV] = err instanceof Error ? err.message : String(err);
      console.error(`[global-setup] ${process.env[REDIS_UNAVAILABLE_ENV]}`);
    }
  }
  if (process.env.REDIS_URL) project.provide('redisUrl', process.env.REDIS_URL);
  if (!server) return;
  const started = server;
  return async () => {
    await started.stop();
    if (process.env.REDIS_URL === started.url) delete process.env.REDIS_URL;
  };
}
