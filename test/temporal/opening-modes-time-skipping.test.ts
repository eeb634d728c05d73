// When to open, end to end in the time-skipping environment (collector workflow → interceptor →
// Redis → simulator): a 30 % error rate opens a rate-based breaker and never the consecutive one;
// a slow provider opens on its slow-call rate; and a quorum keeps one sick worker from opening
// the fleet's circuit, while two open it.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import Redis from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CircuitBreaker, parseBreakerConfig, RedisBreakerStore, silentLogger, type BreakerConfigInput } from '../../src';
import { acquire, initialState, record } from '../../src/breaker';
import type { BreakerStatus } from '../../src/breaker/status';
import { startSimulator } from '../../src/sim';
import { deriveSeed, mulberry32 } from '../../src/sim/rng';
import { CircuitBreakerPlugin } from '../../src/worker';
import type { CollectorTotals } from '../../workflows/collectors';
import { startHarness, workflowBundle, type Harness } from '../helpers/breaker-harness';
import { redisUrl } from '../helpers/redis';
import { createTimeSkippingEnv } from '../helpers/temporal-env';

let env: TestWorkflowEnvironment;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  env = await createTimeSkippingEnv();
});

afterAll(async () => {
  // Every worker at once: each shutdown waits for its pollers to return.
  await Promise.all(cleanups.map((c) => c()));
  await env?.teardown();
}, 240_000);

const CYCLES = 40;
const RATE_SETTINGS = { mode: 'count-window', windowSize: 20, minimumNumberOfCalls: 20, failureRateThreshold: 30 } as const;
const RATE: BreakerConfigInput = { collectorName: 'glassnode', ...RATE_SETTINGS };

/** The simulator's error draws for a provider under `seed` (src/sim/server.ts: one draw per call). */
const failures = (seed: number, provider: string, n: number): boolean[] => {
  const rng = mulberry32(deriveSeed(seed, `errors:${provider}`));
  return Array.from({ length: n }, () => rng() < 0.3);
};

/** Where the pure model opens the rate breaker on this sequence (null: never). */
function modelOpensAt(seq: boolean[]): number | null {
  const cfg = parseBreakerConfig(RATE);
  let s = initialState(cfg);
  for (let i = 0; i < seq.length; i++) {
    const a = acquire(cfg, s, i, 1000);
    if (!a.result.allowed) return null;
    const r = record(cfg, a.state, a.result.permit, seq[i] ? 'failure' : 'success', i);
    s = r.state;
    if (r.transition) return i;
  }
  return null;
}

const longestRun = (seq: boolean[]): number => seq.reduce<[number, number]>(([best, run], f) => (f ? [Math.max(best, run + 1), run + 1] : [best, 0]), [0, 0])[0];

/**
 * A seed whose 30 % draws, for both providers, have exactly 30 % failures and never 5 in a row,
 * and on which the rate breaker (glassnode's) opens; the model says where.
 */
function pickSeed(): { seed: number; rated: boolean[]; opensAt: number } {
  for (let seed = 1; seed < 100_000; seed++) {
    const plain = failures(seed, 'moralis', CYCLES);
    const rated = failures(seed, 'glassnode', CYCLES);
    const ok = (seq: boolean[]) => longestRun(seq) <= 3 && seq.filter(Boolean).length === 0.3 * CYCLES;
    const opensAt = modelOpensAt(rated);
    if (ok(plain) && ok(rated) && opensAt !== null && opensAt < CYCLES - 5) return { seed, rated, opensAt };
  }
  throw new Error('no seed found');
}

async function harnessWith(breakers: Record<string, unknown>, seed = 1): Promise<{ h: Harness; status: (name: string) => Promise<BreakerStatus>; calls: (p: string) => Promise<number> }> {
  const sim = await startSimulator({ port: 0, seed });
  const h = await startHarness(env, { sim, config: { breakers } });
  const worker = await h.newWorker();
  const running = worker.run();
  cleanups.push(async () => {
    worker.shutdown();
    await running;
    await h.close();
    await sim.close();
  });
  return {
    h,
    status: (name) => new CircuitBreaker(h.breakers.get(name)!, h.stores.breakers).getStatus(Date.now()),
    calls: async (p) => (await h.sim.control.stats()).providers[p as 'moralis'].calls,
  };
}

/** One collector call per cycle, every second; an open circuit skips the cycle (no retries: each attempt is one call). */
const collect = (h: Harness, sources: string[], cycles: number): Promise<CollectorTotals> =>
  env.client.workflow.execute('onChainCollectorWorkflow', {
    taskQueue: h.taskQueue,
    workflowId: `collector-${h.taskQueue}-${sources.join('-')}`,
    args: [{ sources, maxCycles: cycles, intervalSeconds: 1, policy: Object.fromEntries(sources.map((s) => [s, 'skip'])), skipMaxAttempts: 1 }],
  });

describe('when to open, on a real Temporal server', () => {
  it('a 30 % error rate opens a count-window breaker and never the consecutive one', async () => {
    const { seed, rated, opensAt } = pickSeed();
    // moralis: the seed's consecutive breaker; glassnode: a count window. Both see 30 % errors.
    const t = await harnessWith({ moralis: {}, glassnode: RATE_SETTINGS }, seed);
    await t.h.sim.control.setFaults('moralis', { errorRate: 0.3 });
    await t.h.sim.control.setFaults('glassnode', { errorRate: 0.3 });

    const totals = await collect(t.h, ['moralis', 'glassnode'], CYCLES);

    // The consecutive breaker saw every call, 30 % failures, never 5 in a row: it never opened.
    const failed = 0.3 * CYCLES;
    const m = await t.status('moralis');
    expect(m.statistics).toMatchObject({ total_failures: failed, total_successes: CYCLES - failed, circuit_opens: 0 });
    expect(m.state).toBe('closed');
    expect(await t.calls('moralis')).toBe(CYCLES);

    // The rate breaker opened where the model says (its 20-call window at ≥ 30 %), once; every
    // later cycle was skipped without calling the provider.
    const g = await t.status('glassnode');
    expect(g.state).toBe('open');
    expect(g.statistics.circuit_opens).toBe(1);
    expect(await t.calls('glassnode')).toBe(opensAt + 1);
    expect(g.statistics.total_failures).toBe(rated.slice(0, opensAt + 1).filter(Boolean).length);
    expect(totals).toMatchObject({ cycles: CYCLES, failed: failed + g.statistics.total_failures, skipped: CYCLES - opensAt - 1 });
  });

  it('a slow provider opens a time-window breaker on its slow-call rate (a consecutive breaker sees only successes)', async () => {
    const slow = await harnessWith({
      moralis: { mode: 'time-window', windowSize: 60, minimumNumberOfCalls: 5, slowCallDurationMs: 200, slowCallRateThreshold: 50 },
      glassnode: {},
    });
    await slow.h.sim.control.setFaults('moralis', { latencyMs: 300 });
    await slow.h.sim.control.setFaults('glassnode', { latencyMs: 300 });
    const totals = await collect(slow.h, ['moralis', 'glassnode'], 10);
    const m = await slow.status('moralis');
    expect(m.state).toBe('open');
    expect(m.statistics).toMatchObject({ circuit_opens: 1, total_failures: 0, total_successes: 5 });
    expect(await slow.calls('moralis')).toBe(5);
    const g = await slow.status('glassnode');
    expect(g.statistics).toMatchObject({ circuit_opens: 0, total_successes: 10 });
    expect(totals).toMatchObject({ collected: 15, skipped: 5 });
  });

  it('quorum: one worker whose own calls all fail does not open the circuit; a second failing worker does', async () => {
    const redis = new Redis(redisUrl());
    const store = new RedisBreakerStore({ redis, keyPrefix: `quorum-${Date.now()}:`, timeoutMs: 2000, logger: silentLogger });
    const breakers = { quorum: { mode: 'count-window' as const, windowSize: 10, minimumNumberOfCalls: 4, failureRateThreshold: 50, minFailingWorkers: 2 } };
    const bundle = await workflowBundle();
    const sickWorker = async (identity: string, taskQueue: string) => {
      const plugin = new CircuitBreakerPlugin({
        store,
        breakers,
        activities: { smokeGreet: 'quorum' },
        startBreakerWorkflows: false,
        registerSearchAttribute: false,
        reporter: { report: () => undefined },
        logger: silentLogger,
      });
      const activities = {
        async smokeGreet(): Promise<never> {
          throw new Error(`${identity}: its own network is down`);
        },
      };
      const w = await Worker.create({ connection: env.nativeConnection, taskQueue, identity, activities, workflowBundle: bundle, plugins: [plugin] });
      const running = w.run();
      cleanups.push(async () => {
        w.shutdown();
        await running;
      });
    };
    cleanups.push(async () => void (await redis.quit()));
    const tag = Date.now();
    await sickWorker('1111@sick-host-a', `quorum-a-${tag}`);
    await sickWorker('2222@sick-host-b', `quorum-b-${tag}`);
    const observer = new CircuitBreaker({ collectorName: 'quorum', ...breakers.quorum }, store);
    // smokeWorkflow: its activity up to 3 attempts, so 3 failures per workflow.
    const fail = async (taskQueue: string, i: number) => {
      const err = await env.client.workflow
        .execute('smokeWorkflow', { taskQueue, workflowId: `quorum-${taskQueue}-${i}`, args: [{ name: 'x', sleep: '1 second' }] })
        .then(() => null, (e: unknown) => e);
      expect(err).not.toBeNull();
    };

    for (let i = 0; i < 3; i++) await fail(`quorum-a-${tag}`, i);
    let s = await observer.getStatus(Date.now());
    // 9 failures of 9 calls, 100 %, well past the minimum: but all from one worker.
    expect(s).toMatchObject({ state: 'closed', window_calls: 9, failure_rate: 100, failing_workers: 1 });
    expect(s.statistics).toMatchObject({ total_failures: 9, circuit_opens: 0 });

    // The second worker's first failure opens it. (Not awaited: time does not skip, so the retry
    // the open circuit sends 300 s ahead stays there while the status is read.)
    const b = await env.client.workflow.start('smokeWorkflow', { taskQueue: `quorum-b-${tag}`, workflowId: `quorum-b-${tag}`, args: [{ name: 'x', sleep: '1 second' }] });
    for (let i = 0; i < 200 && s.state !== 'open'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      s = await observer.getStatus(Date.now());
    }
    await b.terminate('test done');
    expect(s).toMatchObject({ state: 'open' });
    expect(s.statistics).toMatchObject({ total_failures: 10, circuit_opens: 1 });
  });
});
