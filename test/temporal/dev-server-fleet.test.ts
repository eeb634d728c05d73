// A fleet on a real (dev) Temporal server: two `temporal-breaker worker` processes, one Redis, the
// upstream simulator. A circuit opened by failures seen through worker A short-circuits worker B's
// activities (B never saw a failure itself: only the shared Redis state can tell it), the provider
// receives no further call, and the breaker workflow's `BreakerState` search attribute is visible
// to a visibility query. The two workers poll different task queues so that which worker runs an
// activity is decided by the test, not by the matching service; the breaker state they share
// lives in one Redis key prefix.
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../src';
import { BreakerClient } from '../../src/client';
import { createStores, type Stores } from '../../src/app/stores';
import type { BreakerStatus } from '../../src/breaker/status';
import { breakerConfigs } from '../../src/config/breakers';
import { loadConfig } from '../../src/config/load';
import { PROVIDERS } from '../../src/providers';
import { silentLogger } from '../../src/log/logger';
import { startSimulator, type Simulator } from '../../src/sim';
import { BREAKER_STATE_ATTRIBUTE, CIRCUIT_OPEN_ERROR_TYPE } from '../../src/temporal/names';
import type { CollectorTotals, CollectorWorkflowInput } from '../../workflows/collectors';
import { deploymentEnv, processExists, stopAllWorkers, WorkerProcess, type LogLine } from '../helpers/processes';
import { redisUrl } from '../helpers/redis';
import { createDevServerEnv } from '../helpers/temporal-env';

const id = randomUUID().slice(0, 8);
const queueA = `fleet-${id}-a`;
const queueB = `fleet-${id}-b`;
const keyPrefix = `fleet-${id}:cb_state:`;

let env: TestWorkflowEnvironment;
let sim: Simulator;
let stores: Stores;
let workerA: WorkerProcess;
let workerB: WorkerProcess;
const startedAt = Date.now();

const workerEnv = (taskQueue: string) =>
  deploymentEnv({ temporalAddress: env.address, taskQueue, redisUrl: redisUrl(), keyPrefix, providers: sim.providers });

const config = () => loadConfig({}, { redis: { url: redisUrl(), keyPrefix } });
const moralisStatus = (): Promise<BreakerStatus> => new CircuitBreaker(breakerConfigs(config()).get('moralis')!, stores.breakers).getStatus(Date.now());
const calls = async (p: 'moralis' | 'glassnode') => (await sim.control.stats()).providers[p].calls;

let seq = 0;
async function collect(taskQueue: string, input: CollectorWorkflowInput): Promise<{ handle: WorkflowHandle; totals: CollectorTotals }> {
  const handle = await env.client.workflow.start('onChainCollectorWorkflow', {
    taskQueue,
    workflowId: `collect-${taskQueue}-${seq++}`,
    args: [{ maxCycles: 1, ...input }],
  });
  return { handle, totals: await handle.result() };
}

type Event = temporal.api.history.v1.IHistoryEvent;
/** The failed activity attempts of a workflow: failure type and the identity of the worker that ran it. */
async function failedAttempts(handle: WorkflowHandle): Promise<{ type: string | undefined; identity: string; activityType: string | undefined }[]> {
  const events: Event[] = (await handle.fetchHistory()).events ?? [];
  const scheduled = new Map(events.filter((e) => e.activityTaskScheduledEventAttributes).map((e) => [String(e.eventId), e.activityTaskScheduledEventAttributes!.activityType?.name ?? undefined]));
  return events
    .filter((e) => e.activityTaskFailedEventAttributes)
    .map((e) => {
      const a = e.activityTaskFailedEventAttributes!;
      return {
        type: a.failure?.applicationFailureInfo?.type ?? undefined,
        identity: a.identity ?? '',
        activityType: scheduled.get(String(a.scheduledEventId)),
      };
    });
}

/** The sorted workflow ids a visibility query returns, polled until `done` (visibility lags a little). */
async function listUntil(query: string, done: (ids: string[]) => boolean, timeoutMs = 30_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ids: string[] = [];
    for await (const wf of env.client.workflow.list({ query })) ids.push(wf.workflowId);
    ids.sort();
    if (done(ids) || Date.now() > deadline) return ids;
    await new Promise((r) => setTimeout(r, 250));
  }
}

const count = (text: string, re: RegExp) => (text.match(re) ?? []).length;
const opened = (l: LogLine) => l.breaker === 'moralis' && /^breaker opened/.test(l.msg ?? '');

beforeAll(async () => {
  [env, sim] = await Promise.all([
    createDevServerEnv({ server: { searchAttributes: [defineSearchAttributeKey(BREAKER_STATE_ATTRIBUTE, SearchAttributeType.KEYWORD)] } }),
    startSimulator({ port: 0 }),
  ]);
  stores = createStores(config(), silentLogger);
  workerA = WorkerProcess.start('A', workerEnv(queueA));
  workerB = WorkerProcess.start('B', workerEnv(queueB));
  await Promise.all([workerA.ready(), workerB.ready()]);
  console.info(`[fleet] dev server and two worker processes ready in ${Date.now() - startedAt} ms`);
});

// A failed test shows what the workers said (TCB_TEST_LOGS=1: always).
afterEach((ctx) => {
  if (ctx.task.result?.state !== 'fail' && !process.env.TCB_TEST_LOGS) return;
  for (const w of [workerA, workerB]) if (w) console.info(`[fleet] worker ${w.label} (pid ${w.pid}) output:\n${w.output.split('\n').slice(-200).join('\n')}`);
});

afterAll(async () => {
  await stopAllWorkers();
  await stores?.close();
  await sim?.close();
  await env?.teardown();
  console.info(`[fleet] file wall time ${Date.now() - startedAt} ms`);
});

describe('a fleet of two worker processes sharing one Redis, on the dev server', () => {
  it('both workers start the same breaker workflows (one each, not two)', async () => {
    const expected = PROVIDERS.map((p) => `circuit-breaker:${p}`).sort();
    expect(await listUntil(`WorkflowType="circuitBreakerWorkflow" AND ExecutionStatus="Running"`, (ids) => ids.length >= expected.length)).toEqual(expected);
  });

  it('a circuit opened through worker A short-circuits worker B, and the provider sees no further call', async () => {
    await sim.control.setFaults('moralis', { outage: true });

    // Five collectors on A's queue, one attempt each: five failures open the circuit.
    const first = await Promise.all(Array.from({ length: 5 }, () => collect(queueA, { sources: ['moralis'], policy: { moralis: 'skip' }, skipMaxAttempts: 1 })));
    for (const r of first) expect(r.totals).toMatchObject({ failed: 1, skipped: 0, collected: 0 });
    for (const r of first) {
      expect(await failedAttempts(r.handle)).toEqual([
        { type: 'UpstreamServerError', identity: expect.stringMatching(new RegExp(`^${workerA.identityPrefix}`)), activityType: 'collectMoralis' },
      ]);
    }
    expect(await calls('moralis')).toBe(5);
    expect(await moralisStatus()).toMatchObject({ state: 'open', failure_count: 5, statistics: { circuit_opens: 1, total_failures: 5 } });
    // A saw the fifth failure and logged the transition, with the breaker name on the line.
    await workerA.waitForLine(opened, "'breaker opened' for moralis", 10_000);
    expect(workerB.lines().some(opened)).toBe(false);

    // Collectors on B's queue (and one more on A's): moralis is short-circuited on both workers,
    // glassnode (its own closed circuit) is still collected.
    const glassnodeBefore = await calls('glassnode');
    const both = { sources: ['moralis', 'glassnode'], policy: { moralis: 'skip', glassnode: 'skip' } } satisfies CollectorWorkflowInput;
    const onB = await Promise.all(Array.from({ length: 3 }, () => collect(queueB, both)));
    const onA = await collect(queueA, both);
    for (const r of [...onB, onA]) expect(r.totals).toMatchObject({ cycles: 1, skipped: 1, collected: 1, failed: 0 });
    expect(await calls('moralis')).toBe(5);
    expect(await calls('glassnode')).toBe(glassnodeBefore + 4);

    // The history names the worker that rejected each attempt: B rejected B's, A rejected A's.
    for (const r of onB) {
      const failed = await failedAttempts(r.handle);
      expect(failed).toEqual([{ type: CIRCUIT_OPEN_ERROR_TYPE, identity: expect.stringMatching(new RegExp(`^${workerB.identityPrefix}`)), activityType: 'collectMoralis' }]);
    }
    expect(await failedAttempts(onA.handle)).toEqual([
      { type: CIRCUIT_OPEN_ERROR_TYPE, identity: expect.stringMatching(new RegExp(`^${workerA.identityPrefix}`)), activityType: 'collectMoralis' },
    ]);

    // Rejections do not move the shared state: still one opening, five failures.
    expect(await moralisStatus()).toMatchObject({ state: 'open', failure_count: 5, statistics: { circuit_opens: 1, total_failures: 5 } });
    // B never saw a failure of its own and never opened anything: its rejections came from Redis.
    expect(workerB.lines().some(opened)).toBe(false);
    expect(workerB.lines().filter((l) => l.level === 'error')).toEqual([]);
    // Each worker's log shows the rejections it made, one breaker line each: three on B, one on A.
    // The SDK logs every failed attempt with its failure type at WARN — A's five upstream failures —
    // but a rejection is a BENIGN failure: the SDK logs it at DEBUG only, so no WARN line at all.
    const shortCircuited = (l: { msg?: string; breaker?: unknown }) => l.msg === 'call short-circuited' && l.breaker === 'moralis';
    await workerB.waitForOutput(() => workerB.lines().filter(shortCircuited).length >= 3, 'three short-circuit lines', 10_000);
    await workerA.waitForOutput(() => workerA.lines().filter(shortCircuited).length >= 1, 'a short-circuit line', 10_000);
    expect(workerB.lines().filter(shortCircuited)).toHaveLength(3);
    expect(workerA.lines().filter(shortCircuited)).toHaveLength(1);
    expect(count(workerB.output, /type: 'CircuitOpenError'/g)).toBe(0);
    expect(count(workerA.output, /type: 'CircuitOpenError'/g)).toBe(0);
    expect(count(workerA.output, /type: 'UpstreamServerError'/g)).toBe(5);
    expect(count(workerB.output, /type: 'UpstreamServerError'/g)).toBe(0);
  });

  it('BreakerState="open" is visible through a visibility query', async () => {
    expect(await listUntil(`${BREAKER_STATE_ATTRIBUTE}="open"`, (ids) => ids.includes('circuit-breaker:moralis'))).toEqual(['circuit-breaker:moralis']);
    const closed = ['glassnode', 'lunarcrush', 'reddit', 'twitter'].map((p) => `circuit-breaker:${p}`);
    expect(await listUntil(`${BREAKER_STATE_ATTRIBUTE}="closed"`, (ids) => ids.length >= closed.length)).toEqual(closed);

    const described = await env.client.workflow.getHandle('circuit-breaker:moralis').describe();
    expect(described.searchAttributes[BREAKER_STATE_ATTRIBUTE]).toEqual(['open']);
    expect(described.memo).toMatchObject({ state: 'open', forced: false, circuit_opens: 1 });
  });

  it('BreakerClient lists the running breakers with their exact status; the UI gets a summary and current details', async () => {
    const breakers = new BreakerClient({ client: env.client });
    const listed = await breakers.list();
    expect(listed.map((s) => s.collector_name)).toEqual(['glassnode', 'lunarcrush', 'moralis', 'reddit', 'twitter']);
    expect(listed.find((s) => s.collector_name === 'moralis')).toMatchObject({ state: 'open', statistics: { circuit_opens: 1 } });
    // Filtered by task queue: each breaker workflow runs on the queue of the worker whose plugin
    // started it first (both workers start them at once, with USE_EXISTING: either may win each one).
    const queueOf = new Map<string, string>();
    for (const p of PROVIDERS) queueOf.set(p, (await env.client.workflow.getHandle(`circuit-breaker:${p}`).describe()).taskQueue);
    const queues = new Set(queueOf.values());
    for (const queue of queues) {
      const names = (await new BreakerClient({ client: env.client, taskQueue: queue }).list()).map((s) => s.collector_name);
      expect(names).toEqual([...PROVIDERS].filter((p) => queueOf.get(p) === queue).sort());
    }
    const [queue] = queues;
    expect(await new BreakerClient({ client: env.client, taskQueue: `${queue}-none` }).list()).toEqual([]);

    const handle = env.client.workflow.getHandle('circuit-breaker:moralis');
    const described = await handle.describe();
    expect(await described.staticSummary()).toBe("Circuit breaker 'moralis'");
    const metadata = (await handle.query<{ currentDetails: string }>('__temporal_workflow_metadata')).currentDetails;
    expect(metadata).toMatch(/\*\*moralis\*\*: open/);
    expect(metadata).toMatch(/health 0\.\d{3}/);
    expect(metadata).toMatch(/open until: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/);
    expect(metadata).toMatch(/last transition: opened: closed → open/);
  });

  it('both workers shut down cleanly on SIGTERM and leave no process behind', async () => {
    const [a, b] = await Promise.all([workerA.stop(), workerB.stop()]);
    expect(a).toEqual({ code: 0, signal: null, killed: false });
    expect(b).toEqual({ code: 0, signal: null, killed: false });
    expect(processExists(workerA.pid)).toBe(false);
    expect(processExists(workerB.pid)).toBe(false);
  });
});
