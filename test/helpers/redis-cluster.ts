/**
 * A real three-node Redis Cluster on loopback (three redis-server processes in cluster mode, no
 * replicas, all 16384 slots assigned), for the store conformance suite. Each node keeps its
 * cluster config in a temporary directory that is removed on stop.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Cluster } from 'ioredis';
import { startRedisServer, type RedisServer } from './redis';

const run = promisify(execFile);

export interface RedisClusterNodes {
  nodes: RedisServer[];
  client(): Cluster;
  stop(): Promise<void>;
}

export async function startRedisCluster(size = 3): Promise<RedisClusterNodes> {
  const dir = mkdtempSync(join(tmpdir(), 'tcb-cluster-'));
  const nodes: RedisServer[] = [];
  try {
    for (let i = 0; i < size; i++) {
      nodes.push(
        await startRedisServer({
          args: ['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `node-${i}.conf`), '--cluster-node-timeout', '2000', '--dir', dir],
        }),
      );
    }
    const cli = process.env.REDIS_CLI_PATH || 'redis-cli';
    await run(cli, ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes']);
    // wait until every node reports the cluster healthy
    const deadline = Date.now() + 15_000;
    for (;;) {
      const states = await Promise.all(nodes.map((n) => run(cli, ['-p', String(n.port), 'cluster', 'info']).then((r) => r.stdout)));
      if (states.every((s) => s.includes('cluster_state:ok'))) break;
      if (Date.now() > deadline) throw new Error(`Redis Cluster did not become healthy: ${states.join(' | ')}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  } catch (e) {
    await Promise.all(nodes.map((n) => n.stop()));
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    nodes,
    client: () => new Cluster(nodes.map((n) => ({ host: '127.0.0.1', port: n.port }))),
    async stop() {
      await Promise.all(nodes.map((n) => n.stop()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
