// A slow Redis, or a worker too busy to read Redis's answer in time: the Redis store's bound
// (timeoutMs) expires while the breaker script has run, or will run. The outcome it was recording
// must still count exactly once: not a second time through the in-process fallback's merge.
// (The soak test found this: under load, a record whose reply was late was counted twice.)
import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBreakerConfig } from '../../src/breaker/config';
import type { BreakerState } from '../../src/breaker/state';
import { jsonLogger } from '../../src/log/logger';
import { RedisBreakerStore } from '../../src/store/redis-store';
import { waitFor } from '../helpers/fleet';
import { startRedisServer, type RedisServer } from '../helpers/redis';

const prefix = `redis-slow-${randomUUID().slice(0, 8)}:cb_state:`;
let server: RedisServer;
let client: Redis;
let admin: Redis;
let store: RedisBreakerStore;
const logs: Record<string, unknown>[] = [];

beforeAll(async () => {
  server = await startRedisServer();
  // The workers' client settings (src/app/stores.ts).
  client = new Redis(server.url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000 });
  client.on('error', () => undefined);
  admin = new Redis(server.url);
  await new Promise<void>((resolve) => (client.status === 'ready' ? resolve() : client.once('ready', () => resolve())));
  store = new RedisBreakerStore({ redis: client, keyPrefix: prefix, timeoutMs: 100, retryIntervalMs: 200, logger: jsonLogger('debug', (l) => logs.push(JSON.parse(l) as Record<string, unknown>)) });
});

afterAll(async () => {
  process.kill(server.pid, 'SIGCONT');
  await store?.close();
  client?.disconnect();
  await admin?.quit();
  await server?.stop();
});

const stats = async (name: string) => (JSON.parse((await admin.get(prefix + name)) ?? 'null') as BreakerState | null)?.stats;

/** Drives the store until it has resynced (a store call is what makes it try Redis again). */
async function untilResynced(name: string) {
  const cfg = parseBreakerConfig({ collectorName: name });
  await waitFor(async () => (await store.load(cfg), !store.degraded), 'the store to resync', 10_000, 50);
}

describe('a late answer from Redis', () => {
  it('Redis stalled past the bound (SIGSTOP): the record runs when it resumes and counts once, not again on resync', async () => {
    const cfg = parseBreakerConfig({ collectorName: 'stalled' });
    const now = Date.now();
    const d1 = await store.acquire(cfg, now, 30_000);
    const d2 = await store.acquire(cfg, now, 30_000);
    if (!d1.result.allowed || !d2.result.allowed) throw new Error('expected admission');
    await store.record(cfg, d1.result.permit, 'success', now); // a baseline write: the key exists

    process.kill(server.pid, 'SIGSTOP');
    const started = Date.now();
    const reply = await store.record(cfg, d2.result.permit, 'failure', now + 1);
    expect(Date.now() - started).toBeLessThan(1_000); // the bound decided, not Redis
    expect(reply.result.counted).toBe(true); // counted by the in-process fallback meanwhile
    expect(store.degraded).toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    process.kill(server.pid, 'SIGCONT');

    await untilResynced('stalled');
    // The script ran once Redis resumed; the merge added nothing more.
    expect(await stats('stalled')).toMatchObject({ totalSuccesses: 1, totalFailures: 1 });
    expect(logs.some((l) => l.msg === 'Redis reachable again: breaker decisions shared again')).toBe(true);
  });

  it('an answer that arrived in time but was read late (the worker\'s event loop was busy) is not a timeout', async () => {
    const cfg = parseBreakerConfig({ collectorName: 'busy-loop' });
    const now = Date.now();
    const d = await store.acquire(cfg, now, 30_000);
    if (!d.result.allowed) throw new Error('expected admission');
    const { permit } = d.result;
    const before = logs.length;
    // From the check phase (setImmediate), the next event-loop turn starts with its timers: the
    // bound's timer is due before the poll phase reads the answer waiting in the socket.
    const pending = await new Promise<ReturnType<typeof store.record>>((resolve) =>
      setImmediate(() => {
        const p = store.record(cfg, permit, 'success', now);
        // Block this process well past the 100 ms bound; Redis answers meanwhile.
        const until = Date.now() + 300;
        while (Date.now() < until) {
          // busy
        }
        resolve(p);
      }),
    );
    const reply = await pending;
    expect(reply.result.counted).toBe(true);
    expect(store.degraded).toBe(false);
    expect(logs.slice(before).filter((l) => String(l.msg).startsWith('Redis unreachable'))).toEqual([]);
    expect(await stats('busy-loop')).toMatchObject({ totalSuccesses: 1, totalFailures: 0 });
  });
});
