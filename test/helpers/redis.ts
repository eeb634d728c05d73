/**
 * Real Redis for tests. The vitest globalSetup (test/helpers/global-setup.ts) starts one
 * throwaway redis-server per run unless REDIS_URL is set, and exports REDIS_URL to the test
 * workers. Tests that kill and restart Redis start their own with startRedisServer().
 */
import { spawn, type ChildProcess } from 'node:child_process';
import Redis, { type RedisOptions } from 'ioredis';
import { freePort, pingRedis } from '../../src/dev/net';

export { freePort };

/** Set by the globalSetup when it could not start redis-server; redisUrl() throws it. */
export const REDIS_UNAVAILABLE_ENV = 'TCB_REDIS_UNAVAILABLE';

export const REDIS_HINT =
  'Set REDIS_URL to a Redis you can use, or install redis-server: `npm run provision` installs it from Debian ' +
  '(or `apt-get install -y redis-server`); REDIS_SERVER_PATH may point at the binary.';

/** The Redis the tests use: REDIS_URL (set by the globalSetup or by you). */
export function redisUrl(): string {
  const url = process.env.REDIS_URL;
  if (url) return url;
  const why = process.env[REDIS_UNAVAILABLE_ENV];
  throw new Error(
    why
      ? `No Redis for the tests: ${why}`
      : `No Redis for the tests: REDIS_URL is not set and the globalSetup did not run. ${REDIS_HINT}`,
  );
}

/** An ioredis client; the caller quits it. */
export function newRedis(url: string = redisUrl(), options: RedisOptions = {}): Redis {
  return new Redis(url, { maxRetriesPerRequest: 2, connectTimeout: 2_000, ...options });
}

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  readonly pid: number;
  readonly process: ChildProcess;
  /** SIGTERM and wait for exit (SIGKILL after 5 s). Idempotent. */
  stop(): Promise<void>;
  /** Kill abruptly (simulates a crash); resolves when the process is gone. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

const running = new Set<RedisServer>();



function waitForExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * Spawn a throwaway redis-server on 127.0.0.1 (a free port unless given), no persistence.
 * Resolves once it answers PING. Fails with a message saying how to get redis-server.
 */
export async function startRedisServer(opts: { port?: number; args?: string[] } = {}): Promise<RedisServer> {
  const port = opts.port ?? (await freePort());
  const bin = process.env.REDIS_SERVER_PATH || 'redis-server';
  const args = [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--save', '',
    '--appendonly', 'no',
    '--daemonize', 'no',
    '--protected-mode', 'no',
    '--loglevel', 'warning',
    ...(opts.args ?? []),
  ];
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));

  const deadline = Date.now() + 10_000;
  for (;;) {
    const failure = await Promise.race([
      spawnError,
      new Promise<undefined>((resolve) => setTimeout(resolve, 25, undefined)),
    ]);
    if (failure) {
      throw new Error(`Cannot start redis-server (${bin}): ${failure.message}. ${REDIS_HINT}`, { cause: failure });
    }
    if (child.exitCode !== null) {
      throw new Error(`redis-server exited with code ${child.exitCode} on port ${port}: ${output.trim()}. ${REDIS_HINT}`);
    }
    if (await pingRedis(port)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`redis-server did not answer PING on port ${port} within 10 s: ${output.trim()}`);
    }
  }

  const server: RedisServer = {
    port,
    url: `redis://127.0.0.1:${port}`,
    pid: child.pid ?? -1,
    process: child,
    async stop() {
      running.delete(server);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = waitForExit(child);
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      running.delete(server);
      const exited = waitForExit(child);
      child.kill(signal);
      await exited;
    },
  };
  running.add(server);
  return server;
}

/** Stop one server, or every server this process started when called without one. */
export async function stopRedisServer(server?: RedisServer): Promise<void> {
  const targets = server ? [server] : [...running];
  await Promise.all(targets.map((s) => s.stop()));
}
