/**
 * A Redis Sentinel group for the failover tests: one primary, one replica, three sentinels
 * (Debian's redis-server and redis-sentinel; `npm run provision` installs them), every one on a
 * free port of 127.0.0.1 with its files in a temp dir, the data nodes and the sentinels each behind
 * a password. Started and stopped by the test; `killPrimary()` is the fault.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Redis from 'ioredis';
import { freePort } from '../../src/dev/net';

export const SENTINEL_MASTER = 'mymaster';

interface Node {
  port: number;
  child: ChildProcess;
  output: () => string;
}

export interface SentinelGroup {
  primaryPort: number;
  replicaPort: number;
  sentinelPorts: number[];
  /** REDIS_SENTINELS */
  sentinels: string;
  password: string;
  sentinelPassword: string;
  /** A client of one data node (not through the sentinels), for the test's own reads. */
  node(port: number): Redis;
  /** A client of a sentinel. */
  sentinel(i?: number): Redis;
  /** host:port of the primary the sentinels name now. */
  currentPrimary(): Promise<string | null>;
  /** SIGKILL the primary; resolves when it is gone. */
  killPrimary(): Promise<void>;
  stop(): Promise<void>;
  logs(): string;
}

function start(name: string, bin: string, args: string[]): Node & { name: string } {
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  child.once('error', (e) => (out += `spawn error: ${e.message}`));
  return { name, port: 0, child, output: () => out };
}

async function until<T>(probe: () => Promise<T | null | undefined | false>, what: string, timeoutMs: number, logs: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`sentinel group: no ${what} within ${timeoutMs} ms\n${logs()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function startSentinelGroup(opts: { dir: string; password: string; sentinelPassword: string; downAfterMs?: number }): Promise<SentinelGroup> {
  const { dir, password, sentinelPassword } = opts;
  const serverBin = process.env.REDIS_SERVER_PATH || 'redis-server';
  const sentinelBin = process.env.REDIS_SENTINEL_PATH || 'redis-sentinel';
  const [primaryPort, replicaPort, ...sentinelPorts] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  const nodes: (Node & { name: string })[] = [];
  const logs = () => nodes.map((n) => `--- ${n.name} (port ${n.port}, exit ${n.child.exitCode ?? n.child.signalCode ?? 'running'})\n${n.output().split('\n').slice(-15).join('\n')}`).join('\n');
  const dataArgs = (port: number, sub: string) => {
    mkdirSync(join(dir, sub), { recursive: true });
    return ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', join(dir, sub), '--requirepass', password, '--masterauth', password, '--loglevel', 'notice'];
  };
  const primary = start('primary', serverBin, dataArgs(primaryPort!, 'primary'));
  primary.port = primaryPort!;
  nodes.push(primary);
  const replica = start('replica', serverBin, [...dataArgs(replicaPort!, 'replica'), '--replicaof', '127.0.0.1', String(primaryPort)]);
  replica.port = replicaPort!;
  nodes.push(replica);
  const clients: Redis[] = [];
  const node = (port: number) => {
    const c = new Redis({ host: '127.0.0.1', port, password, maxRetriesPerRequest: 1, connectTimeout: 1000, retryStrategy: () => null, lazyConnect: false, connectionName: 'test-admin' });
    c.on('error', () => undefined);
    clients.push(c);
    return c;
  };
  const sentinelClient = (i = 0) => {
    const c = new Redis({ host: '127.0.0.1', port: sentinelPorts[i]!, password: sentinelPassword, maxRetriesPerRequest: 1, connectTimeout: 1000, retryStrategy: () => null });
    c.on('error', () => undefined);
    clients.push(c);
    return c;
  };
  const ask = async <T>(port: number, run: (c: Redis) => Promise<T>, sentinel = false): Promise<T> => {
    const c = sentinel ? sentinelClient(sentinelPorts.indexOf(port)) : node(port);
    try {
      return await run(c);
    } finally {
      c.disconnect();
      clients.splice(clients.indexOf(c), 1);
    }
  };

  await until(() => ask(replicaPort!, async (c) => /master_link_status:up/.test(await c.info('replication'))), 'replica in sync', 15_000, logs);

  sentinelPorts.forEach((port, i) => {
    const sub = join(dir, `sentinel-${i}`);
    mkdirSync(sub, { recursive: true });
    const conf = join(sub, 'sentinel.conf');
    writeFileSync(
      conf,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${sub}`,
        `requirepass ${sentinelPassword}`,
        `sentinel sentinel-pass ${sentinelPassword}`,
        `sentinel monitor ${SENTINEL_MASTER} 127.0.0.1 ${primaryPort} 2`,
        `sentinel auth-pass ${SENTINEL_MASTER} ${password}`,
        `sentinel down-after-milliseconds ${SENTINEL_MASTER} ${opts.downAfterMs ?? 1000}`,
        `sentinel failover-timeout ${SENTINEL_MASTER} 10000`,
        `sentinel parallel-syncs ${SENTINEL_MASTER} 1`,
        '',
      ].join('\n'),
    );
    const s = start(`sentinel-${i}`, sentinelBin, [conf]);
    s.port = port;
    nodes.push(s);
  });
  // Ready for a failover once every sentinel knows the replica and the two other sentinels.
  for (const port of sentinelPorts) {
    await until(
      () =>
        ask(
          port,
          async (c) => {
            const replicas = (await c.call('SENTINEL', 'REPLICAS', SENTINEL_MASTER)) as unknown[];
            const others = (await c.call('SENTINEL', 'SENTINELS', SENTINEL_MASTER)) as unknown[];
            return replicas.length === 1 && others.length === 2;
          },
          true,
        ),
      `sentinel on ${port} aware of the replica and the other sentinels`,
      30_000,
      logs,
    );
  }

  const currentPrimary = () =>
    ask(
      sentinelPorts[0]!,
      async (c) => {
        const r = (await c.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', SENTINEL_MASTER)) as [string, string] | null;
        return r ? `${r[0]}:${r[1]}` : null;
      },
      true,
    );

  return {
    primaryPort: primaryPort!,
    replicaPort: replicaPort!,
    sentinelPorts,
    sentinels: sentinelPorts.map((p) => `127.0.0.1:${p}`).join(','),
    password,
    sentinelPassword,
    node,
    sentinel: sentinelClient,
    currentPrimary,
    logs,
    async killPrimary() {
      if (primary.child.exitCode !== null || primary.child.signalCode !== null) return;
      const gone = new Promise((r) => primary.child.once('exit', r));
      primary.child.kill('SIGKILL');
      await gone;
    },
    async stop() {
      for (const c of clients.splice(0)) c.disconnect();
      await Promise.all(
        nodes.map(async (n) => {
          if (n.child.exitCode !== null || n.child.signalCode !== null) return;
          const gone = new Promise((r) => n.child.once('exit', r));
          n.child.kill('SIGTERM');
          const t = setTimeout(() => n.child.kill('SIGKILL'), 5_000);
          await gone;
          clearTimeout(t);
        }),
      );
    },
  };
}
