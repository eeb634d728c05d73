// Restart every worker (SIGTERM all, start new processes): the breaker state in Redis and the
// breaker workflows carry on. The same `circuit-breaker:{name}` runs keep running (the new workers
// do not start new ones), their status query and the CLI answer as before, a forced-open circuit
// stays forced open (and keeps rejecting calls), an open circuit keeps its open period, and the
// statistics and the audit trail from before the restart are all still there.
import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type Redis from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BreakerState } from '../../src/breaker/state';
import type { BreakerStatus } from '../../src/breaker/status';
import { startSimulator, type Simulator } from '../../src/sim';
import { breakerWorkflowId } from '../../src/temporal/names';
import type { AuditEntry } from '../../workflows/circuit-breaker';
import type { CollectorTotals } from '../../workflows/collectors';
import { Fleet, runCli, simulatorEnv, type EnvVars } from '../helpers/fleet';
import { newRedis, redisUrl } from '../helpers/redis';
import { createDevServerEnv } from '../helpers/temporal-env';

const id = randomUUID().slice(0, 8);
const taskQueue = `faults-restart-${id}`;
const keyPrefix = `restart-${id}:cb_state:`;
const NAMES = ['moralis', 'glassnode'] as const;

let env: TestWorkflowEnvironment;
let sim: Simulator;
let fleet: Fleet;
let redis: Redis;
let vars: EnvVars;

beforeAll(async () => {
  [env, sim] = await Promise.all([createDevServerEnv(), startSimulator({ port: 0 })]);
  redis = newRedis(redisUrl());
  vars = {
    TEMPORAL_ADDRESS: env.address,
    TEMPORAL_TASK_QUEUE: taskQueue,
    REDIS_URL: redisUrl(),
    REDIS_KEY_PREFIX: keyPrefix,
    BREAKERS: NAMES.join(','),
    BREAKER_FAILURE_THRESHOLD: '3',
    // Long enough that glassnode is still in its first open period after the restart.
    BREAKER_TIMEOUT_SECONDS: '600',
    ...simulatorEnv(sim),
  };
  fleet = new Fleet(vars);
});

afterAll(async () => {
  await fleet?.shutdown();
  await redis?.del(...NAMES.map((n) => keyPrefix + n));
  await redis?.quit();
  await sim?.close();
  await env?.teardown();
});

const rawState = async (name: string) => JSON.parse((await redis.get(keyPrefix + name)) ?? 'null') as BreakerState;
const handle = (name: string) => env.client.workflow.getHandle(breakerWorkflowId(name));
const cli = async (...args: string[]) => {
  const r = await runCli(args, vars);
  expect(r.code, `temporal-breaker ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
};
let runs = 0;
const collect = (sources: string[], policy: 'wait' | 'skip', maxCycles = 1, intervalSeconds = 1) =>
  env.client.workflow.start('onChainCollectorWorkflow', {
    taskQueue,
    workflowId: `restart-collector-${runs++}-${id}`,
    args: [{ sources, maxCycles, intervalSeconds, policy: Object.fromEntries(sources.map((s) => [s, policy])), skipMaxAttempts: 3, startToCloseSeconds: 10 }],
  });

describe('restart every worker', () => {
  it('breaker state and breaker workflows carry on; forced-open survives', async () => {
    const started = Date.now();
    const gen1 = await fleet.startReady(2);

    // Before: moralis has two successes and is forced open by an operator; glassnode opened on
    // three failures (open for 600 s).
    expect(await (await collect(['moralis'], 'wait', 2)).result()).toMatchObject({ collected: 2 });
    const forced = JSON.parse(await cli('force-open', 'moralis', '--reason', 'maintenance window', '--json')) as BreakerStatus;
    expect(forced).toMatchObject({ state: 'open', forced: true, statistics: { total_successes: 2 } });
    await sim.control.setFaults('glassnode', { outage: true });
    expect(await (await collect(['glassnode'], 'skip')).result()).toMatchObject<Partial<CollectorTotals>>({ failed: 1 });
    await sim.control.clearFaults('glassnode');
    const before = {
      runs: Object.fromEntries(await Promise.all(NAMES.map(async (n) => [n, (await handle(n).describe()).runId]))),
      state: Object.fromEntries(await Promise.all(NAMES.map(async (n) => [n, await rawState(n)]))),
      calls: (await sim.control.stats()).providers,
    };
    expect(before.state.glassnode).toMatchObject({ state: 'open', forced: false, stats: { totalFailures: 3, circuitOpens: 1 } });
    expect(before.state.moralis).toMatchObject({ state: 'open', forced: true, stats: { totalSuccesses: 2 } });

    // A collector that spans the restart: both circuits open, so every cycle is skipped.
    const spanning = await collect([...NAMES], 'skip', 4, 2);

    // Restart: SIGTERM every worker (each shuts down by itself, exit code 0), then new processes.
    const exits = await fleet.stopAll();
    expect(exits.map((e) => ({ code: e.code, killed: e.killed }))).toEqual(gen1.map(() => ({ code: 0, killed: false })));
    expect(fleet.alive).toEqual([]);
    for (const n of NAMES) expect((await handle(n).describe()).status.name).toBe('RUNNING');
    const gen2 = await fleet.startReady(2);
    expect(gen2.map((w) => w.pid).some((p) => gen1.some((o) => o.pid === p))).toBe(false);
    console.info(`[restart] ${gen1.length} workers stopped, ${gen2.length} new ones running, ${Date.now() - started} ms into the test`);

    // The same breaker workflow runs carry on; the new workers started none.
    for (const n of NAMES) {
      const d = await handle(n).describe();
      expect({ [n]: d.runId }).toEqual({ [n]: before.runs[n] });
      expect(d.status.name).toBe('RUNNING');
    }
    // The breaker state in Redis is exactly what it was.
    for (const n of NAMES) expect({ [n]: await rawState(n) }).toEqual({ [n]: before.state[n] });

    // The status query (the workflow's last snapshot) and the CLI (a fresh read, through the new
    // workers) agree: moralis forced open with its statistics, glassnode still in its open period.
    const queried = await handle('moralis').query<BreakerStatus | null>('status');
    expect(queried).toMatchObject({ state: 'open', forced: true, statistics: { total_successes: 2 } });
    const statuses = JSON.parse(await cli('status', '--json')) as BreakerStatus[];
    const byName = Object.fromEntries(statuses.map((s) => [s.collector_name, s]));
    expect(byName.moralis).toMatchObject({ state: 'open', forced: true, open_until: null, statistics: { total_successes: 2, circuit_opens: 1 } });
    expect(byName.glassnode).toMatchObject({ state: 'open', forced: false, statistics: { total_failures: 3, circuit_opens: 1 } });
    expect(byName.glassnode!.open_until).toBe(new Date(Math.floor((before.state.glassnode.openedAt! + 600_000) / 1000) * 1000).toISOString().replace('.000Z', 'Z'));
    expect((await handle('glassnode').query<BreakerStatus | null>('status'))?.state).toBe('open');

    // Forced open still rejects: the spanning collector and a new one skip moralis, nothing reaches it.
    expect(await spanning.result()).toMatchObject({ cycles: 4, collected: 0, skipped: 8, failed: 0 });
    expect(await (await collect(['moralis'], 'skip')).result()).toMatchObject({ collected: 0, skipped: 1 });
    expect((await sim.control.stats()).providers.moralis.calls).toBe(before.calls.moralis.calls);
    expect((await sim.control.stats()).providers.glassnode.calls).toBe(before.calls.glassnode.calls);

    // The workflow's history goes on: the audit trail from before the restart is there, and the
    // breaker obeys a new command.
    const closed = JSON.parse(await cli('force-close', 'moralis', '--reason', 'maintenance over', '--json')) as BreakerStatus;
    expect(closed).toMatchObject({ state: 'closed', forced: false, statistics: { total_successes: 2, circuit_opens: 1 } });
    expect(await (await collect(['moralis'], 'wait')).result()).toMatchObject({ collected: 1 });
    const audit = await handle('moralis').query<AuditEntry[]>('audit');
    const commands = audit.filter((a) => a.kind === 'command').map((a) => a.detail);
    expect(commands).toEqual(['forceOpen (maintenance window) → open', 'forceClose (maintenance over) → closed']);
    expect((await handle('moralis').describe()).runId).toBe(before.runs.moralis);
    expect(await rawState('moralis')).toMatchObject({ state: 'closed', stats: { totalSuccesses: 3 } });

    expect(fleet.crashed.map((w) => w.label)).toEqual([]);
    console.info(`[restart] test ${Date.now() - started} ms`);
  });
});
