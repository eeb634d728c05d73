/** A throwaway redis-server for the bench (no persistence), on a free port. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import Redis from 'ioredis';

export interface BenchRedis {
  url: string;
  stop(): Promise<void>;
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      srv.close(() => resolve(port));
    });
  });

export async function startBenchRedis(): Promise<BenchRedis> {
  const port = await freePort();
  const bin = process.env.REDIS_SERVER_PATH || 'redis-server';
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no', '--loglevel', 'warning'];
  const child: ChildProcess = spawn(bin, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  // Never outlive the bench, even when it crashes.
  const killChild = () => child.kill('SIGKILL');
  process.once('exit', killChild);
  child.once('exit', () => process.off('exit', killChild));
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (e) => reject(new Error(`cannot start ${bin}: ${e.message} (set REDIS_URL or REDIS_SERVER_PATH)`)));
    child.once('exit', (code) => reject(new Error(`${bin} exited with code ${code}`)));
  });
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    probe.on('error', () => undefined);
    try {
      await Promise.race([probe.connect().then(() => probe.ping()), failed]);
      probe.disconnect();
      break;
    } catch (e) {
      probe.disconnect();
      if (child.exitCode !== null || Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  failed.catch(() => undefined);
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.removeAllListeners('exit');
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
