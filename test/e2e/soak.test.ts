// Soak: N collector activity executions (SOAK_ACTIVITIES, default 2000; 10000 for the full run)
// across 4 worker processes sharing breaker state through Redis, against a flaky simulator (20%
// random errors on every provider) with two provider outages (moralis, then twitter) on the way.
// Afterwards:
// - no activity result lost or stored twice: per source, the result store holds exactly one result
//   per collected (workflow, cycle, source) and nothing else (its counter equals its keys);
// - each breaker's statistics equal the simulator's counters exactly: total_successes == the 2xx
//   answers, total_failures == the error answers, for that provider (rejected calls never reach
//   the simulator, and every call that does is counted once, by one worker).
// The two outage providers run under the `skip` policy (an open circuit skips the cycle; three
// attempts for ordinary errors), the other three under `wait` (every cycle collected in the end).
// Under `wait`, each rejection while a circuit is open is an activity attempt, so an activity that
// waited through an outage retries its next ordinary error after up to the retry policy's 1-minute
// maximum interval: fine in production, too slow for a CI soak.
// The breaker workflows' own recovery probes are real calls too: they appear on both sides, and
// their results are stored under `probe:` keys, counted apart.
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type Redis from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BreakerState } from '../../src/breaker/state';
import { PROVIDERS, type Provider } from '../../src/providers';
import { startSimulator, type ProviderStats, type Simulator } from '../../src/sim';
import type { CollectorProgress, CollectorTotals, OpenCircuitPolicy } from '../../workflows/collectors';
import { activityFailures, Fleet, simulatorEnv, storedResults, tally, waitFor } from '../helpers/fleet';
import { newRedis, startRedisServer, type RedisServer } from '../helpers/redis';
import { createDevServerEnv } from '../helpers/temporal-env';

const ACTIVITIES = Number(process.env.SOAK_ACTIVITIES ?? 2000);
const WORKERS = 4;
// 10 cycles × 5 sources = 50 records: exactly what a collector's progress query keeps (`recent`).
const CYCLES = 10;
const WORKFLOWS = Math.ceil(ACTIVITIES / (CYCLES * PROVIDERS.length));
const EXECUTIONS = WORKFLOWS * CYCLES * PROVIDERS.length;
const OUTAGES: { provider: Provider; atFraction: number; seconds: number }[] = [
  { provider: 'moralis', atFraction: 0.25, seconds: 4 },
  { provider: 'twitter', atFraction: 0.6, seconds: 4 },
];
const POLICY: Record<Provider, OpenCircuitPolicy> = Object.fromEntries(
  PROVIDERS.map((p) => [p, OUTAGES.some((o) => o.provider === p) ? 'skip' : 'wait']),
) as Record<Provider, OpenCircuitPolicy>;
const id = randomUUID().slice(0, 8);
const taskQueue = `soak-${id}`;
const keyPrefix = `soak-${id}:cb_state:`;

let env: TestWorkflowEnvironment;
let sim: Simulator;
let redisServer: RedisServer;
let redis: Redis;
let fleet: Fleet;

beforeAll(async () => {
  // A private redis-server: the workers' result counters (`tcb_result:{source}:count`) are this run's alone.
  [env, sim, redisServer] = await Promise.all([createDevServerEnv(), startSimulator({ port: 0, seed: 2026 }), startRedisServer()]);
  redis = newRedis(redisServer.url);
  fleet = new Fleet({
    TEMPORAL_ADDRESS: env.address,
    TEMPORAL_TASK_QUEUE: taskQueue,
    REDIS_URL: redisServer.url,
    REDIS_KEY_PREFIX: keyPrefix,
    BREAKER_TIMEOUT_SECONDS: '2',
    BREAKER_MAX_TIMEOUT_SECONDS: '8',
    ...simulatorEnv(sim),
  });
});

afterAll(async () => {
  await fleet?.shutdown();
  await redis?.quit();
  await redisServer?.stop();
  await sim?.close();
  await env?.teardown();
});

const errorsOf = (s: ProviderStats) => Object.entries(s.byStatus).reduce((n, [status, k]) => (status.startsWith('2') ? n : n + k), 0) + s.aborted;
const okOf = (s: ProviderStats) => Object.entries(s.byStatus).reduce((n, [status, k]) => (status.startsWith('2') ? n + k : n), 0);

describe(`soak: ${EXECUTIONS} collector activity executions, ${WORKERS} worker processes, 20% errors and two outages`, () => {
  it('no result lost or stored twice; every breaker statistic equals the simulator counter', { timeout: Math.max(300_000, EXECUTIONS * 120) }, async () => {
    const started = Date.now();
    for (const p of PROVIDERS) await sim.control.setFaults(p, { errorRate: 0.2 });
    await fleet.startReady(WORKERS);
    const readyAt = Date.now();

    const handles: WorkflowHandle[] = [];
    for (let i = 0; i < WORKFLOWS; i++) {
      handles.push(
        await env.client.workflow.start('onChainCollectorWorkflow', {
          taskQueue,
          workflowId: `soak-${i}-${id}`,
          args: [{ sources: [...PROVIDERS], policy: POLICY, intervalSeconds: 1, maxCycles: CYCLES, startToCloseSeconds: 10 }],
        }),
      );
    }
    const done = Promise.all(handles.map((h) => h.result() as Promise<CollectorTotals>));

    // The two outages, each once the run has made that much progress (simulator calls so far).
    const totalCalls = async () => Object.values((await sim.control.stats()).providers).reduce((n, s) => n + s.calls, 0);
    for (const o of OUTAGES) {
      await waitFor(async () => (await totalCalls()) >= o.atFraction * EXECUTIONS, `${o.atFraction * 100}% progress`, 600_000, 100);
      await sim.control.setFaults(o.provider, { outage: true });
      await new Promise((r) => setTimeout(r, o.seconds * 1000));
      await sim.control.setFaults(o.provider, { outage: false });
      console.info(`[soak] ${o.provider} outage of ${o.seconds} s at ${Math.round((Date.now() - readyAt) / 1000)} s`);
    }
    const totals = await done;
    const finishedAt = Date.now();

    // Every (workflow, cycle, source) has an outcome; the `wait` sources were all collected.
    const sum = totals.reduce((a, t) => ({ cycles: a.cycles + t.cycles, collected: a.collected + t.collected, skipped: a.skipped + t.skipped, failed: a.failed + t.failed }));
    expect(sum.cycles).toBe(WORKFLOWS * CYCLES);
    expect(sum.collected + sum.skipped + sum.failed).toBe(EXECUTIONS);
    const records = (await Promise.all(handles.map(async (h) => ((await h.query<CollectorProgress>('progress')).recent).map((r) => ({ ...r, key: `${h.workflowId}:${r.cycle}:${r.source}` }))))).flat();
    expect(records).toHaveLength(EXECUTIONS);
    const outcomes = Object.fromEntries(PROVIDERS.map((p) => [p, tally(records.filter((r) => r.source === p), (r) => r.outcome)]));
    for (const p of PROVIDERS) if (POLICY[p] === 'wait') expect({ [p]: outcomes[p] }).toEqual({ [p]: { collected: WORKFLOWS * CYCLES } });

    // Quiet: nothing in flight, and the counters stable (a breaker workflow may still be probing).
    const snapshot = async () => {
      const sims = (await sim.control.stats()).providers;
      const states = Object.fromEntries(
        await Promise.all(PROVIDERS.map(async (p) => [p, JSON.parse((await redis.get(keyPrefix + p)) ?? 'null') as BreakerState | null] as const)),
      ) as Record<Provider, BreakerState | null>;
      return { sims, states, key: JSON.stringify([sims, Object.values(states).map((s) => s?.stats)]) };
    };
    let last = await snapshot();
    await waitFor(async () => {
      const now = await snapshot();
      const stable = now.key === last.key && PROVIDERS.every((p) => now.sims[p].inFlight === 0);
      last = now;
      return stable;
    }, 'the counters to settle', 30_000, 500);
    // Every worker that ever fell back to its in-process breaker has merged back what it counted.
    const degraded = fleet.workers.filter((w) => w.lines().some((l) => l.msg?.startsWith('Redis unreachable')));
    for (const w of degraded) {
      const ls = w.lines();
      const down = ls.map((l, i) => (l.msg?.startsWith('Redis unreachable') ? i : -1)).filter((i) => i >= 0).pop()!;
      expect(ls.slice(down).some((l) => l.msg?.startsWith('Redis reachable again')), `${w.label} resynced`).toBe(true);
    }

    const failures = fleet.workers.flatMap(activityFailures);
    const byType = tally(failures, (f) => f.type);
    if (process.env.SOAK_DUMP) for (const w of fleet.workers) writeFileSync(`${process.env.SOAK_DUMP}-${w.label}.log`, w.output);
    const report: Record<string, unknown> = {};
    for (const p of PROVIDERS) {
      const s = last.sims[p];
      const st = last.states[p]!.stats;
      const failedAttempts = tally(failures.filter((f) => f.activityType.toLowerCase().endsWith(p)), (f) => f.type);
      // Each breaker's statistics equal the simulator's counters for that provider, exactly.
      expect(
        { [p]: { successes: st.totalSuccesses, failures: st.totalFailures } },
        `${p}: simulator ${JSON.stringify(s)}; failed attempts ${JSON.stringify(failedAttempts)}`,
      ).toEqual({ [p]: { successes: okOf(s), failures: errorsOf(s) } });
      expect(last.states[p]!.state).toBe('closed');

      // No result lost or stored twice: one stored result per collected (workflow, cycle, source),
      // none for a skipped or failed one, and the counter equals the keys.
      const { count, keys } = await storedResults(redis, p);
      const probeKeys = keys.filter((k) => k.startsWith('probe:'));
      const cycleKeys = keys.filter((k) => !k.startsWith('probe:'));
      const collected = records.filter((r) => r.source === p && r.outcome === 'collected').map((r) => r.key).sort();
      expect(cycleKeys.length).toBe(collected.length);
      expect(cycleKeys).toEqual(collected);
      expect(count).toBe(keys.length);
      report[p] = {
        policy: POLICY[p],
        outcomes: outcomes[p],
        calls: s.calls,
        byStatus: s.byStatus,
        totalSuccesses: st.totalSuccesses,
        totalFailures: st.totalFailures,
        opens: st.circuitOpens,
        recoveries: st.successfulRecoveries,
        failedRecoveries: st.failedRecoveries,
        stored: count,
        probeResults: probeKeys.length,
      };
    }
    for (const o of OUTAGES) expect(last.states[o.provider]!.stats.circuitOpens, `${o.provider} opened during its outage`).toBeGreaterThanOrEqual(1);

    expect(fleet.crashed.map((w) => `${w.label}: ${JSON.stringify(w.exit)}\n${w.tail()}`)).toEqual([]);
    expect(Object.keys(byType).filter((t) => !['UpstreamServerError', 'CircuitOpenError'].includes(t))).toEqual([]);
    const anomalies = fleet.lines().filter((l) => /unguarded|not recorded|could not merge|Redis unreachable/.test(l.msg ?? ''));

    const seconds = (finishedAt - readyAt) / 1000;
    const calls = PROVIDERS.reduce((n, p) => n + last.sims[p].calls, 0);
    console.info(
      `[soak] ${EXECUTIONS} activity executions (${WORKFLOWS} workflows × ${CYCLES} cycles × ${PROVIDERS.length} sources) on ${WORKERS} workers in ${seconds.toFixed(1)} s ` +
        `(${(EXECUTIONS / seconds).toFixed(0)}/s; workers ready in ${((readyAt - started) / 1000).toFixed(1)} s); ${calls} simulator calls; ` +
        `outcomes ${JSON.stringify(sum)}; failed attempts by type ${JSON.stringify(byType)}; store fallbacks ${degraded.length} (${anomalies.length} anomaly lines)\n` +
        `[soak] per provider ${JSON.stringify(report)}`,
    );
  });
});
