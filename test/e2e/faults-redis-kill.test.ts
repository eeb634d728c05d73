// `kill -9` the redis-server under a fleet of two worker processes while collectors run, restart it
// on the same port a few seconds later: no activity fails because of the breaker store, no worker
// crashes, every worker that lost Redis resyncs, and afterwards each breaker's totals in Redis
// equal what the simulator answered, the outcomes counted during the outage included (a record
// in flight at the kill, which the store reports as uncertain, is the only allowed excess).
//
// The redis-server is private to this file and persists with appendfsync=always, as a production
// Redis holding breaker state would: what was written before the kill survives it, so the totals
// can be compared with the simulator's counters over the whole run. The workers keep their
// collected results in the same Redis (REDIS_URL serves both stores): while it is down a collector
// attempt cannot check or store its result and fails with ResultStoreUnavailable (retried; not the
// provider's fault, so no breaker counts it).
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BreakerState } from '../../src/breaker/state';
import { startSimulator, type ProviderStats, type SimProvider, type Simulator } from '../../src/sim';
import { UNCERTAIN_OUTCOME_MESSAGE } from '../../src/store/redis-store';
import { RESULT_STORE_ERROR_TYPE } from '../../src/temporal/names';
import type { CollectorProgress, CollectorTotals } from '../../workflows/collectors';
import { activityFailures, Fleet, simulatorEnv, storedResults, tally, waitFor } from '../helpers/fleet';
import { newRedis, startRedisServer, type RedisServer } from '../helpers/redis';
import { createDevServerEnv } from '../helpers/temporal-env';

const CYCLES = 14;
const OUTAGE_MS = 4_000;
const id = randomUUID().slice(0, 8);
const taskQueue = `faults-redis-kill-${id}`;
const keyPrefix = `redis-kill-${id}:cb_state:`;

let env: TestWorkflowEnvironment;
let sim: Simulator;
let redis: RedisServer;
let fleet: Fleet;
let dir: string;
const redisArgs = () => ['--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tcb-redis-kill-'));
  [env, sim, redis] = await Promise.all([createDevServerEnv(), startSimulator({ port: 0 }), startRedisServer({ args: redisArgs() })]);
  fleet = new Fleet({
    TEMPORAL_ADDRESS: env.address,
    TEMPORAL_TASK_QUEUE: taskQueue,
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: keyPrefix,
    BREAKERS: 'moralis,glassnode,reddit',
    // This file is about the store, not about opening circuits: none opens, so every call the
    // collectors make reaches the simulator and is counted by exactly one store.
    BREAKER_FAILURE_THRESHOLD: '1000',
    BREAKER_TIMEOUT_SECONDS: '2',
    ...simulatorEnv(sim),
  });
});

afterAll(async () => {
  await fleet?.shutdown();
  await redis?.stop();
  await sim?.close();
  await env?.teardown();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const failuresOf = (s: ProviderStats) => Object.entries(s.byStatus).reduce((n, [status, k]) => (status.startsWith('2') ? n : n + k), 0) + s.aborted;

describe('kill -9 the redis-server mid-run, restart it on the same port', () => {
  it('no activity fails because of the breaker store, nothing crashes, the store resyncs, totals match the simulator', async () => {
    const started = Date.now();
    // Simulator faults: moralis fails 30% of its calls (retried until collected); every reddit call
    // fails after 1.5 s, so reddit calls are in flight when Redis dies and end during the outage:
    // their failures are counted by the in-process fallback and must be merged back.
    await sim.control.setFaults('moralis', { errorRate: 0.3 });
    await sim.control.setFaults('reddit', { errorRate: 1, latencyMs: 1_500 });
    await fleet.startReady(2);
    console.info(`[redis-kill] 2 workers ready in ${Date.now() - started} ms`);

    const onChain = await Promise.all(
      [0, 1].map((i) =>
        env.client.workflow.start('onChainCollectorWorkflow', {
          taskQueue,
          workflowId: `redis-kill-onchain-${i}-${id}`,
          args: [{ sources: ['moralis', 'glassnode'], intervalSeconds: 1, maxCycles: CYCLES, startToCloseSeconds: 10 }],
        }),
      ),
    );
    const failing = await env.client.workflow.start('socialCollectorWorkflow', {
      taskQueue,
      workflowId: `redis-kill-reddit-${id}`,
      args: [{ sources: ['reddit'], policy: { reddit: 'skip' }, skipMaxAttempts: 1, intervalSeconds: 1, maxCycles: CYCLES, startToCloseSeconds: 10 }],
    });

    // Mid-run: a few cycles done, and a reddit call that just arrived (it answers 1.5 s later).
    await waitFor(async () => {
      const p = await Promise.all(onChain.map((h) => h.query<CollectorProgress>('progress')));
      return p.every((x) => x.cycles >= 3);
    }, 'three collected cycles', 60_000);
    const arrivals = (await sim.control.stats()).providers.reddit.calls;
    await waitFor(async () => (await sim.control.stats()).providers.reddit.calls > arrivals, 'a new reddit call', 10_000, 10);
    const atKill = (await sim.control.stats()).providers;
    await redis.kill('SIGKILL');
    const killedAt = Date.now();
    expect(atKill.reddit.inFlight).toBeGreaterThanOrEqual(1);

    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    const atRestart = (await sim.control.stats()).providers;
    redis = await startRedisServer({ port: redis.port, args: redisArgs() });
    console.info(`[redis-kill] redis-server down for ${Date.now() - killedAt} ms, back on port ${redis.port}`);

    const totals = (await Promise.all([...onChain, failing].map((h) => h.result()))) as CollectorTotals[];
    const collectedAt = Date.now();

    // The collectors completed every cycle: on-chain sources all collected (wait policy), and each
    // reddit cycle failed only where the simulator failed it or the result store was down.
    for (const t of totals.slice(0, 2)) expect(t).toEqual({ cycles: CYCLES, collected: 2 * CYCLES, skipped: 0, failed: 0 });
    expect(totals[2]).toMatchObject({ cycles: CYCLES, collected: 0, skipped: 0, failed: CYCLES });
    const redditDetails = tally((await failing.query<CollectorProgress>('progress')).recent, (r) => r.detail ?? '');
    expect(Object.keys(redditDetails).every((d) => d === 'UpstreamServerError' || d === RESULT_STORE_ERROR_TYPE), JSON.stringify(redditDetails)).toBe(true);

    // No worker crashed; every worker that lost Redis said so and said when it was back.
    expect(fleet.crashed.map((w) => `${w.label}: ${JSON.stringify(w.exit)}\n${w.tail()}`)).toEqual([]);
    expect(fleet.alive).toHaveLength(2);
    await waitFor(
      () => fleet.workers.every((w) => !w.lines().some((l) => l.msg?.startsWith('Redis unreachable')) || w.lines().some((l) => l.msg?.startsWith('Redis reachable again'))),
      'every degraded worker to resync',
      15_000,
    );
    const degraded = fleet.workers.filter((w) => w.lines().some((l) => l.msg?.startsWith('Redis unreachable')));
    expect(degraded.length).toBeGreaterThanOrEqual(1);
    for (const w of degraded) {
      const lines = w.lines();
      const down = lines.findIndex((l) => l.msg?.startsWith('Redis unreachable'));
      const back = lines.findIndex((l) => l.msg === 'Redis reachable again: breaker decisions shared again');
      expect(back, `${w.label} resync line`).toBeGreaterThan(down);
      expect(lines[down]).toMatchObject({ level: 'error', policy: 'fallback' });
      expect(lines[back]!.downForMs).toBeGreaterThan(1_000);
    }
    const bad = fleet.lines().filter((l) => /running the activity unguarded|outcome not recorded|could not merge|still unreachable/.test(l.msg ?? ''));
    expect(bad.map((l) => l.raw)).toEqual([]);

    // Every failed attempt failed at the simulator (UpstreamServerError) or at the result store
    // while Redis was down; nothing failed because of the breaker store.
    const failures = fleet.workers.flatMap(activityFailures);
    const byType = tally(failures, (f) => f.type);
    console.info(`[redis-kill] failed activity attempts by type: ${JSON.stringify(byType)}`);
    expect(Object.keys(byType).sort()).toEqual([RESULT_STORE_ERROR_TYPE, 'UpstreamServerError'].filter((t) => byType[t]));
    expect(byType[RESULT_STORE_ERROR_TYPE]).toBeGreaterThan(0); // the outage was hit
    const uncertainOutcomes = (breaker: string, outcome: string) =>
      fleet.lines().filter((l) => l.msg === UNCERTAIN_OUTCOME_MESSAGE && l.breaker === breaker && l.outcome === outcome).length;
    const storeWrites = failures.filter((f) => f.type === RESULT_STORE_ERROR_TYPE && f.message.includes('cannot write'));

    // Totals: each breaker's statistics in Redis equal the simulator's answers. The only calls the
    // breakers do not count as successes are the ones answered 200 whose result could then not be
    // written (ResultStoreUnavailable on write: the attempt failed, not the provider).
    const admin = newRedis(redis.url);
    try {
      const sims = (await sim.control.stats()).providers;
      const report: Record<string, unknown> = {};
      for (const p of ['moralis', 'glassnode', 'reddit'] as SimProvider[]) {
        const raw = await admin.get(keyPrefix + p);
        expect(raw, `breaker state of ${p}`).not.toBeNull();
        const { stats } = JSON.parse(raw!) as BreakerState;
        const s = sims[p];
        const lostWrites = storeWrites.filter((f) => f.activityType.toLowerCase().endsWith(p)).length;
        expect(s.inFlight).toBe(0);
        // Exact, except for a record that was on the wire when Redis died: it may have run there
        // and is counted locally too. The store says so for each one; only those may count twice.
        const expected = { successes: (s.byStatus['200'] ?? 0) - lostWrites, failures: failuresOf(s) };
        const uncertain = { successes: uncertainOutcomes(p, 'success'), failures: uncertainOutcomes(p, 'failure') };
        const over = { successes: stats.totalSuccesses - expected.successes, failures: stats.totalFailures - expected.failures };
        const detail = JSON.stringify({ breaker: p, stats: { successes: stats.totalSuccesses, failures: stats.totalFailures }, expected, uncertain });
        expect(over.successes >= 0 && over.successes <= uncertain.successes, detail).toBe(true);
        expect(over.failures >= 0 && over.failures <= uncertain.failures, detail).toBe(true);
        report[p] = { calls: s.calls, byStatus: s.byStatus, totalSuccesses: stats.totalSuccesses, totalFailures: stats.totalFailures, lostWrites, uncertain };
      }
      // reddit calls answered while Redis was down: counted by the fallback, in Redis only through the merge.
      const mergedRedditFailures = failuresOf(atRestart.reddit) - failuresOf(atKill.reddit);
      expect(mergedRedditFailures).toBeGreaterThanOrEqual(1);
      console.info(`[redis-kill] totals ${JSON.stringify(report)}; reddit failures answered during the outage (merged on resync): ${mergedRedditFailures}`);

      // No result lost or stored twice across the outage: one stored result per collected cycle.
      for (const p of ['moralis', 'glassnode'] as const) {
        const { count, keys } = await storedResults(admin, p);
        const expected = onChain.flatMap((h) => Array.from({ length: CYCLES }, (_, c) => `${h.workflowId}:${c}:${p}`)).sort();
        expect(keys.filter((k) => !k.startsWith('probe:'))).toEqual(expected);
        expect(count).toBe(keys.length);
      }
    } finally {
      await admin.quit();
    }
    console.info(`[redis-kill] collectors done ${collectedAt - killedAt} ms after the kill; test ${Date.now() - started} ms`);
  });
});
