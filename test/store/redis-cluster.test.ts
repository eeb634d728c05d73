// The Redis store on a real three-node Redis Cluster: each Lua call touches one key, so every
// breaker lives wholly on the node that owns its slot, and the conformance suite holds as is.
import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseBreakerConfig, RedisBreakerStore } from '../../src';
import { startRedisCluster, type RedisClusterNodes } from '../helpers/redis-cluster';
import { FUNCTION_NAME } from '../../src/store/breaker-script';
import { describeStoreConformance, redisConformance } from './conformance';

let cluster: RedisClusterNodes;
let client: Cluster;

beforeAll(async () => {
  cluster = await startRedisCluster(3);
  client = cluster.client();
  await new Promise<void>((resolve, reject) => {
    client.once('ready', () => resolve());
    client.once('error', reject);
  });
}, 60_000);

afterAll(async () => {
  client?.disconnect();
  await cluster?.stop();
});

describeStoreConformance('redis cluster', redisConformance(() => client, 'cluster:', 60, 40));

it('spreads breakers over the nodes (the test really exercises several nodes)', async () => {
  const store = new RedisBreakerStore({ redis: client, keyPrefix: 'spread:', timeoutMs: 2000 });
  const names = Array.from({ length: 30 }, (_, i) => `breaker-${i}`);
  for (const name of names) await store.command(parseBreakerConfig({ collectorName: name }), 'forceOpen', Date.now());
  const perNode = await Promise.all(client.nodes('master').map((n) => n.dbsize()));
  expect(perNode.filter((n) => n > 0).length).toBe(3);
  expect(perNode.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(names.length);
});

it('loads the script library on every master when none has it (after a FUNCTION FLUSH on all of them)', async () => {
  const names = Array.from({ length: 12 }, (_, i) => `library-${i}`);
  const masters = client.nodes('master');
  await Promise.all(masters.map((n) => n.function('FLUSH')));
  const store = new RedisBreakerStore({ redis: client, keyPrefix: 'library:', timeoutMs: 2000 });
  for (const name of names) await store.command(parseBreakerConfig({ collectorName: name }), 'forceOpen', Date.now());
  const loaded = async () => Promise.all(masters.map(async (n) => JSON.stringify(await n.function('LIST')).includes(FUNCTION_NAME)));
  expect(await loaded()).toEqual([true, true, true]);
  const states = await Promise.all(names.map(async (name) => (await store.load(parseBreakerConfig({ collectorName: name }))).state));
  expect(states.every((s) => s === 'open')).toBe(true);
});
