// SIGKILL a worker process while it holds the only half-open probe permit (its call to the
// provider hangs): the permit's lease is the collector activity's start-to-close timeout, so once
// it has passed another worker is admitted as a probe and, the provider healthy again, closes the
// circuit. A crashed worker cannot wedge a circuit in half-open.
//
// Setup: one breaker (moralis) shared through Redis by two worker processes on two task queues:
// the victim serves the collector that opens the circuit and takes the probe; the survivor serves
// the collector that recovers it. One probe slot (HALF_OPEN_MAX_CALLS=1, SUCCESS_THRESHOLD=1), so
// while the dead permit holds it nobody else is admitted. The breaker workflow
// `circuit-breaker:moralis` is parked on a task queue no worker polls, so its own recovery probe
// (an activity with a 30 s lease) stays out of this test: the permit at stake is the collector's.
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type Redis from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BreakerState } from '../../src/breaker/state';
import { startSimulator, type Simulator } from '../../src/sim';
import { BREAKER_WORKFLOW_TYPE, breakerWorkflowId } from '../../src/temporal/names';
import type { CollectorTotals } from '../../workflows/collectors';
import { Fleet, simulatorEnv, waitFor, type FleetWorker } from '../helpers/fleet';
import { newRedis, redisUrl } from '../helpers/redis';
import { createDevServerEnv } from '../helpers/temporal-env';

const LEASE_SECONDS = 5; // the collector's startToCloseSeconds: the probe permit's lease
const OPEN_SECONDS = 3;
const id = randomUUID().slice(0, 8);
const keyPrefix = `probe-crash-${id}:cb_state:`;
const queueA = `probe-crash-a-${id}`;
const queueB = `probe-crash-b-${id}`;

let env: TestWorkflowEnvironment;
let sim: Simulator;
let fleet: Fleet;
let redis: Redis;
const toClean: WorkflowHandle[] = [];

beforeAll(async () => {
  [env, sim] = await Promise.all([createDevServerEnv(), startSimulator({ port: 0 })]);
  redis = newRedis(redisUrl());
  fleet = new Fleet({
    TEMPORAL_ADDRESS: env.address,
    REDIS_URL: redisUrl(),
    REDIS_KEY_PREFIX: keyPrefix,
    BREAKERS: 'moralis',
    BREAKER_FAILURE_THRESHOLD: '3',
    BREAKER_TIMEOUT_SECONDS: String(OPEN_SECONDS),
    BREAKER_HALF_OPEN_MAX_CALLS: '1',
    BREAKER_HALF_OPEN_SUCCESS_THRESHOLD: '1',
    ...simulatorEnv(sim),
  });
});

afterAll(async () => {
  for (const h of toClean) await h.terminate('test over').catch(() => undefined);
  await fleet?.shutdown();
  await redis?.del(keyPrefix + 'moralis');
  await redis?.quit();
  await sim?.close();
  await env?.teardown();
});

const state = async (): Promise<BreakerState> => JSON.parse((await redis.get(keyPrefix + 'moralis')) ?? 'null') as BreakerState;
const collect = (queue: string, label: string) =>
  env.client.workflow.start('onChainCollectorWorkflow', {
    taskQueue: queue,
    workflowId: `probe-crash-${label}-${id}`,
    args: [{ sources: ['moralis'], maxCycles: 1, startToCloseSeconds: LEASE_SECONDS }],
  });

describe('SIGKILL the worker that holds the half-open probe permit', () => {
  it('the permit expires after its lease and another worker probes and closes the circuit', async () => {
    const started = Date.now();
    toClean.push(
      await env.client.workflow.start(BREAKER_WORKFLOW_TYPE, { taskQueue: `parked-${id}`, workflowId: breakerWorkflowId('moralis'), args: [{ name: 'moralis' }] }),
    );
    const victim: FleetWorker = fleet.start({ TEMPORAL_TASK_QUEUE: queueA }, 'victim');
    const survivor: FleetWorker = fleet.start({ TEMPORAL_TASK_QUEUE: queueB }, 'survivor');
    await Promise.all([victim.ready(), survivor.ready()]);

    // 1. Open the circuit: three failures in a row on the victim's collector.
    await sim.control.setFaults('moralis', { outage: true });
    const first = await collect(queueA, 'opener');
    toClean.push(first);
    await waitFor(async () => (await state())?.state === 'open', 'the circuit to open', 30_000, 50);
    expect((await sim.control.stats()).providers.moralis.calls).toBe(3);

    // 2. The provider now hangs: the victim's retry, due when the open period ends, becomes the
    //    half-open probe and waits on a call that never answers.
    await sim.control.setFaults('moralis', { outage: false, timeout: true });
    const probing = await waitFor(async () => {
      const s = await state();
      return s?.state === 'half-open' && s.halfOpen.attempts === 1 && (await sim.control.stats()).providers.moralis.inFlight === 1 ? s : null;
    }, 'a hanging half-open probe', 30_000, 50);
    const [probeId, leaseExpiresAt] = Object.entries(probing.halfOpen.leases)[0]!;
    const issuedAt = leaseExpiresAt - LEASE_SECONDS * 1000;
    expect(Math.abs(issuedAt - Date.now())).toBeLessThan(1_500); // a 5 s lease, issued just now: the collector's
    expect(victim.lines().some((l) => l.breaker === 'moralis' && l.msg === 'breaker half-opened: open → half-open')).toBe(true);

    // 3. Kill the victim mid-probe. The dead permit still holds the only slot.
    const killed = await victim.kill('SIGKILL');
    const killedAt = Date.now();
    expect(killed.signal).toBe('SIGKILL');
    const held = await state();
    expect(held).toMatchObject({ state: 'half-open', halfOpen: { attempts: 1, leases: { [probeId]: leaseExpiresAt } } });

    // 4. The provider is healthy again; the survivor's collector asks for a probe. Until the lease
    //    expires it is told to come back then (nothing reaches the provider); after it, it is
    //    admitted, succeeds, and the circuit closes.
    await sim.control.clearFaults('moralis');
    const callsBefore = (await sim.control.stats()).providers.moralis.calls;
    const second = await collect(queueB, 'recoverer');
    toClean.push(second);
    const closed = await waitFor(async () => {
      const s = await state();
      return s?.state === 'closed' ? { s, at: Date.now() } : null;
    }, 'the circuit to close', 30_000, 50);
    expect(await second.result()).toMatchObject<Partial<CollectorTotals>>({ collected: 1, failed: 0 });

    const closedAfterLeaseMs = closed.at - leaseExpiresAt;
    console.info(
      `[probe-crash] probe issued ${new Date(issuedAt).toISOString()}, worker killed ${killedAt - issuedAt} ms later, ` +
        `lease expired ${leaseExpiresAt - killedAt} ms after the kill, circuit closed ${closedAfterLeaseMs} ms after the lease expired; test ${Date.now() - started} ms`,
    );
    // Not before the lease (the dead permit's slot was not freed early)...
    expect(closed.at).toBeGreaterThanOrEqual(leaseExpiresAt);
    // ...and soon after it: the survivor's retry waits exactly until the lease expires (plus the
    // dev server's ~1 s timer granularity).
    expect(closedAfterLeaseMs).toBeLessThan(3_000);
    // Only the survivor's one probe reached the provider after the crash.
    expect((await sim.control.stats()).providers.moralis.calls - callsBefore).toBe(1);

    // The recovery is the survivor's, in a new half-open period; the dead probe counted neither
    // as a success nor as a failure.
    expect(survivor.lines().some((l) => l.breaker === 'moralis' && l.msg === 'breaker recovered: half-open → closed')).toBe(true);
    expect(closed.s.stats).toMatchObject({ totalFailures: 3, totalSuccesses: 1, circuitOpens: 1, successfulRecoveries: 1, failedRecoveries: 0 });
    expect(fleet.crashed.map((w) => w.label)).toEqual([]);
    expect(survivor.alive).toBe(true);
  });
});
