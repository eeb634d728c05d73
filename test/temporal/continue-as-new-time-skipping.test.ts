// Long-running workflows bound their history: the breaker workflow and the collector workflows
// continue as new and carry their state across.
import { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BreakerStatus } from '../../src/breaker/status';
import type { AuditEntry } from '../../workflows/circuit-breaker';
import type { CollectorTotals } from '../../workflows/collectors';
import { startHarness, workflowBundle, type Harness } from '../helpers/breaker-harness';
import { createTimeSkippingEnv } from '../helpers/temporal-env';

let env: TestWorkflowEnvironment;
let h: Harness;
let worker: Worker;
let running: Promise<void>;

beforeAll(async () => {
  env = await createTimeSkippingEnv();
  h = await startHarness(env);
  worker = await h.newWorker();
  running = worker.run();
});

afterAll(async () => {
  if (worker?.getState() === 'RUNNING') worker.shutdown();
  await running;
  await h?.close();
  await env?.teardown();
});

describe('continue-as-new', () => {
  it('the breaker workflow continues as new before its history grows large, keeping status and audit', async () => {
    const handle = await env.client.workflow.start('circuitBreakerWorkflow', {
      taskQueue: h.taskQueue,
      workflowId: 'circuit-breaker:glassnode',
      args: [{ name: 'glassnode', maxEvents: 40, refreshSeconds: 60 }],
    });
    const firstRun = handle.firstExecutionRunId;
    await handle.signal('forceOpen', { reason: 'before continue-as-new' });
    await env.sleep('30 minutes'); // 30 refreshes: several runs of at most 40 events
    const latest = await env.client.workflow.getHandle('circuit-breaker:glassnode').describe();
    expect(latest.runId).not.toBe(firstRun);
    expect(latest.historyLength).toBeLessThan(60);
    const status = await handle.query<BreakerStatus>('status');
    expect(status).toMatchObject({ state: 'open', forced: true, collector_name: 'glassnode' });
    const audit = await handle.query<AuditEntry[]>('audit');
    expect(audit.map((a) => a.detail)).toContain('forceOpen (before continue-as-new) → open');
    const history = await env.client.workflow.getHandle('circuit-breaker:glassnode', firstRun).fetchHistory();
    const replay = Worker.runReplayHistories({ workflowBundle: await workflowBundle() }, [{ workflowId: 'circuit-breaker:glassnode', history }]);
    for await (const r of replay) expect(r.error).toBeUndefined();
    await handle.terminate('done');
  });

  it('a collector continues as new every cyclesPerRun cycles and keeps its totals', async () => {
    const plain = new Client({ connection: env.connection });
    const handle = await plain.workflow.start('socialCollectorWorkflow', {
      taskQueue: h.taskQueue,
      workflowId: `social-${h.taskQueue}`,
      args: [{ intervalSeconds: 10, maxCycles: 7, cyclesPerRun: 3 }],
    });
    await env.sleep('2 minutes');
    const totals = await handle.result() as CollectorTotals;
    expect(totals).toEqual({ cycles: 7, collected: 21, skipped: 0, failed: 0 });
    const latest = await plain.workflow.getHandle(`social-${h.taskQueue}`).describe();
    expect(latest.runId).not.toBe(handle.firstExecutionRunId);
    // idempotent storage: one result per source and cycle, across runs
    expect(await h.stores.results.count('twitter')).toBe(7);
  });
});
