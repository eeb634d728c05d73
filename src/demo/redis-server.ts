/** A throwaway redis-server for the demo: from PATH (or REDIS_SERVER_PATH), no persistence, a free port. */
import { pingRedis } from '../dev/net';
import { findOnPath, freePort, sleep, spawnManaged, type ManagedProcess } from './processes';

export interface DemoRedis {
  url: string;
  process: ManagedProcess;
  executable: string;
}


/** The redis-server executable to use, or null when there is none. */
export function findRedisServer(env: NodeJS.ProcessEnv = process.env): string | null {
  return env.REDIS_SERVER_PATH || findOnPath('redis-server', env);
}

/** Starts redis-server and resolves once it answers PING; null when there is no redis-server. */
export async function startDemoRedis(signal: AbortSignal, env: NodeJS.ProcessEnv = process.env): Promise<DemoRedis | null> {
  const executable = findRedisServer(env);
  if (!executable) return null;
  const port = await freePort();
  // prettier-ignore
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--protected-mode', 'no', '--loglevel', 'warning'];
  const proc = await spawnManaged('redis-server', executable, args);
  const deadline = Date.now() + 10_000;
  while (!(await pingRedis(port))) {
    if (proc.done() || signal.aborted || Date.now() > deadline) {
      await proc.stop(1000);
      if (signal.aborted) throw new Error('aborted');
      throw new Error(`redis-server (${executable}) did not start on port ${port}: ${proc.output() || 'no output'}`);
    }
    await sleep(25);
  }
  return { url: `redis://127.0.0.1:${port}`, process: proc, executable };
}
