// The seed's eight scenarios end to end: collector workflows → breaker interceptor → Redis →
// simulator, with the breaker workflow's timer and probes, signals and queries, in the
// time-skipping environment with the real 300 s timeout (skipped, never shortened).
import { Client, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../src';
import type { BreakerStatus } from '../../src/breaker/status';
import { ensureBreakerWorkflows } from '../../src/temporal/breaker-workflows';
import type { AuditEntry } from '../../workflows/circuit-breaker';
import type { CollectorTotals } from '../../workflows/collectors';
import { startHarness, workflowBundle, type Harness } from '../helpers/breaker-harness';
import { createTimeSkippingEnv } from '../helpers/temporal-env';

let env: TestWorkflowEnvironment;
let h: Harness;
let worker: Worker;
let running: Promise<void>;
const histories: { workflowId: string; history: unknown }[] = [];
const started: WorkflowHandle[] = [];

async function freshDeployment() {
  h = await startHarness(env);
  worker = await h.newWorker();
  running = worker.run();
  await ensureBreakerWorkflows(env.client, ['moralis'], h.taskQueue);
}

beforeAll(async () => {
  env = await createTimeSkippingEnv();
});

afterEach(async () => {
  // Keep every history for the replay test, then clear the breaker workflow for the next test.
  if (!h) return;
  for (const handle of [...started, env.client.workflow.getHandle('circuit-breaker:moralis')]) {
    try {
      histories.push({ workflowId: handle.workflowId, history: await handle.fetchHistory() });
      await handle.terminate('test over').catch(() => undefined);
    } catch {
      // never started
    }
  }
  started.length = 0;
  if (worker?.getState() === 'RUNNING') worker.shutdown();
  await running;
  await h?.close();
});

afterAll(async () => {
  await env?.teardown();
});

const breaker = () => new CircuitBreaker(h.breakers.get('moralis')!, h.stores.breakers);
const status = (): Promise<BreakerStatus> => breaker().getStatus(Date.now());
const calls = async () => (await h.sim.control.stats()).providers.moralis.calls;
const breakerHandle = () => env.client.workflow.getHandle('circuit-breaker:moralis');
const audit = () => breakerHandle().query<AuditEntry[]>('audit');
const transitions = async () => (await audit()).filter((a) => a.kind === 'transition').map((a) => a.detail);

/**
 * One collector cycle that skips an open circuit. Time is advanced by exactly `advance` and the
 * result read through a plain client: awaiting a result through the time-skipping client would
 * let the server skip on to the breaker's next timer (a probe) before the test looks.
 */
async function collectOnce(policy: 'skip' | 'wait' = 'skip', skipMaxAttempts = 10, advance = '1 second'): Promise<CollectorTotals> {
  const plain = new Client({ connection: env.connection, namespace: h.config.temporal.namespace });
  const handle = await plain.workflow.start('onChainCollectorWorkflow', {
    taskQueue: h.taskQueue,
    workflowId: `collect-${h.taskQueue}-${started.length}`,
    args: [{ sources: ['moralis'], maxCycles: 1, policy: { moralis: policy }, skipMaxAttempts }],
  });
  started.push(handle);
  await env.sleep(advance);
  return handle.result();
}

async function openCircuit(): Promise<void> {
  await h.sim.control.setFaults('moralis', { outage: true });
  // failures at 0, 1, 3, 7 and 15 s open the circuit; the attempt at 31 s is short-circuited
  const totals = await collectOnce('skip', 10, '35 seconds');
  expect(totals).toMatchObject({ skipped: 1, collected: 0 });
}

describe('seed scenarios through Temporal', () => {
  it('1. basic failure tracking: five failures open the circuit; the sixth attempt is short-circuited', async () => {
    await freshDeployment();
    await openCircuit();
    const s = await status();
    expect(s).toMatchObject({ state: 'open', failure_count: 5, failure_threshold: 5 });
    expect(s.statistics).toMatchObject({ circuit_opens: 1, total_failures: 5 });
    expect(await calls()).toBe(5);
    // a further collector run is rejected without reaching the provider
    expect(await collectOnce('skip')).toMatchObject({ skipped: 1 });
    expect(await calls()).toBe(5);
  });

  it('2 + 4. half-open entry after 300 s, failed recovery reopens with 450 s', async () => {
    await freshDeployment();
    await openCircuit();
    const openedAt = Date.parse((await status()).statistics.last_open_time!);
    await env.sleep('305 seconds'); // the breaker workflow's timer fires; its probe fails
    const s = await status();
    expect(s.state).toBe('open');
    expect(s.timeout_seconds).toBe(450);
    expect(s.statistics.failed_recoveries).toBe(1);
    expect(await transitions()).toEqual(['opened: closed → open (timeout 300s)', 'half-opened: open → half-open (timeout 300s)', 'reopened: half-open → open (timeout 450s)']);
    const halfOpened = (await audit()).find((a) => a.detail.startsWith('half-opened'))!;
    expect(halfOpened.at - openedAt).toBeGreaterThanOrEqual(300_000);
    expect(await calls()).toBe(6); // five failures and one probe
  });

  it('3. gradual recovery: two successful probes of at most three close the circuit, without traffic', async () => {
    await freshDeployment();
    await openCircuit();
    await h.sim.control.clearFaults('moralis');
    await env.sleep('301 seconds');
    const s = await status();
    expect(s.state).toBe('closed');
    expect(s.statistics.successful_recoveries).toBe(1);
    expect(s.timeout_seconds).toBe(300);
    const probes = (await calls()) - 5;
    expect(probes).toBeGreaterThanOrEqual(2);
    expect(probes).toBeLessThanOrEqual(3);
    expect(await transitions()).toContain('recovered: half-open → closed (timeout 300s)');
    // The breaker workflow's probe activity carries a summary for the Temporal UI.
    const events = (await breakerHandle().fetchHistory()).events ?? [];
    const probeTasks = events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'probeBreaker');
    expect(probeTasks.length).toBeGreaterThanOrEqual(1);
    const summary = probeTasks[0].userMetadata?.summary;
    expect(summary?.data && Buffer.from(summary.data).toString('utf8')).toBe(JSON.stringify("recovery probe of 'moralis'"));
  });

  it('5. exponential backoff across failed recoveries: 450, 675, 1012, 1518, 2277, 3415, 3600, 3600', async () => {
    await freshDeployment();
    await openCircuit();
    const periods = [300, 450, 675, 1012, 1518, 2277, 3415, 3600];
    for (const p of periods) await env.sleep(`${p + 2} seconds`);
    const reopened = (await transitions()).filter((t) => t.startsWith('reopened')).map((t) => Number(/timeout (\d+)s/.exec(t)![1]));
    expect(reopened).toEqual([450, 675, 1012, 1518, 2277, 3415, 3600, 3600]);
    // exactly one probe per open period reached the provider
    expect(await calls()).toBe(5 + periods.length);
  });

  it('6. manual controls: forceOpen holds past the timeout, forceClose closes, reset keeps statistics', async () => {
    await freshDeployment();
    await breakerHandle().signal('forceOpen', { reason: 'provider maintenance' });
    await env.sleep('2 seconds');
    expect(await status()).toMatchObject({ state: 'open', forced: true });
    await env.sleep('3600 seconds');
    expect(await status()).toMatchObject({ state: 'open', forced: true });
    expect(await collectOnce('skip')).toMatchObject({ skipped: 1 });
    expect(await calls()).toBe(0);

    await breakerHandle().signal('forceClose', { reason: 'maintenance over' });
    await env.sleep('2 seconds');
    expect(await status()).toMatchObject({ state: 'closed', forced: false });
    expect(await collectOnce('skip')).toMatchObject({ collected: 1 });

    await openCircuit();
    // (time may skip to the probe time between two steps: compare with what was there just before)
    const before = (await status()).statistics;
    expect(before).toMatchObject({ total_failures: 5, total_successes: 1, circuit_opens: 2 });
    await breakerHandle().signal('reset');
    await env.sleep('2 seconds');
    const s = await status();
    expect(s).toMatchObject({ state: 'closed', failure_count: 0, timeout_seconds: 300 });
    expect(s.statistics.total_failures).toBeGreaterThanOrEqual(before.total_failures);
    expect(s.statistics.total_successes).toBe(before.total_successes);
    expect(s.statistics.circuit_opens).toBeGreaterThanOrEqual(before.circuit_opens);
    const commands = (await audit()).filter((a) => a.kind === 'command').map((a) => a.detail);
    expect(commands).toEqual(['forceOpen (provider maintenance) → open', 'forceClose (maintenance over) → closed', 'reset → closed']);

    // a malformed signal payload is named in the audit log and loses nothing
    await breakerHandle().signal('forceOpen', 42 as never);
    await env.sleep('2 seconds');
    expect((await audit()).filter((a) => a.kind === 'rejected-input').map((a) => a.detail)).toEqual([
      'forceOpen signal: expected { reason?: string }, got 42; the command is applied without a reason',
    ]);
    expect((await status()).forced).toBe(true);
  });

  it('7. persistence: a new worker with a new Redis client sees the open circuit', async () => {
    await freshDeployment();
    await openCircuit();
    worker.shutdown();
    await running;
    const prefix = h.config.redis.keyPrefix;
    await h.stores.close();
    const h2 = await startHarness(env, { sim: h.sim, config: { redis: { url: h.config.redis.url, keyPrefix: prefix }, temporal: { taskQueue: h.taskQueue } } });
    h = { ...h2, close: async () => { await h2.close(); } } as Harness;
    worker = await h.newWorker();
    running = worker.run();
    expect((await status()).state).toBe('open');
    expect(await collectOnce('skip')).toMatchObject({ skipped: 1 });
    expect(await calls()).toBe(5);
  });

  it('8. statistics: health score and the status query keep the seed shape', async () => {
    await freshDeployment();
    for (let i = 0; i < 3; i++) expect(await collectOnce('skip')).toMatchObject({ collected: 1 });
    await openCircuit();
    const q = await breakerHandle().query<BreakerStatus>('status');
    expect(Object.keys(q).slice(0, 12)).toEqual([
      'state', 'collector_name', 'failure_count', 'consecutive_successes', 'failure_threshold', 'timeout_seconds',
      'last_failure_time', 'last_state_change', 'half_open', 'statistics', 'health_score', 'forced',
    ]);
    expect(q.state).toBe('open');
    expect(q.health_score).toBe(0.375);
    expect(q.statistics).toMatchObject({ total_successes: 3, total_failures: 5, circuit_opens: 1 });
    expect(q.last_failure_time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });
});

describe('replay', () => {
  beforeAll(() => {
    h = undefined as unknown as Harness;
  });

  it('every recorded workflow history replays clean', async () => {
    expect(histories.length).toBeGreaterThan(8);
    const results = Worker.runReplayHistories({ workflowBundle: await workflowBundle() }, histories as never);
    let n = 0;
    for await (const r of results) {
      expect(r.error, `${r.workflowId}: ${r.error?.message}`).toBeUndefined();
      n++;
    }
    expect(n).toBe(histories.length);
  });
});
