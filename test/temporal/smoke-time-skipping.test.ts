import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSmokeActivities } from '../../activities/smoke';
import { smokeWorkflow } from '../../workflows';
import { workflowsPath } from '../helpers/paths';
import { createTimeSkippingEnv, serverExecutableOf } from '../helpers/temporal-env';

const HOUR_MS = 60 * 60 * 1000;

describe('smoke: time-skipping test server', () => {
  let env: TestWorkflowEnvironment;

  beforeAll(async () => {
    env = await createTimeSkippingEnv();
  });

  afterAll(async () => {
    await env?.teardown();
  });

  it('runs an activity and sleeps one hour of Temporal time in seconds of wall time', async () => {
    expect(env.supportsTimeSkipping).toBe(true);
    console.info(`[smoke] time-skipping server executable: ${serverExecutableOf(env)?.description}`);

    const taskQueue = `smoke-${randomUUID()}`;
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowsPath,
      activities: createSmokeActivities(),
    });

    const serverTimeBefore = await env.currentTimeMs();
    let wallMs = 0;
    const result = await worker.runUntil(async () => {
      const started = Date.now();
      const out = await env.client.workflow.execute(smokeWorkflow, {
        taskQueue,
        workflowId: `smoke-time-skipping-${randomUUID()}`,
        args: [{ name: 'time-skipping', sleep: '1 hour' }],
      });
      wallMs = Date.now() - started;
      return out;
    });

    expect(result.greeting).toBe('hello, time-skipping');
    expect(result.workflowElapsedMs).toBeGreaterThanOrEqual(HOUR_MS);
    expect(result.activityScheduledTimeMs).toBeGreaterThanOrEqual(serverTimeBefore - 1_000);
    expect(wallMs).toBeLessThan(10_000);
    console.info(
      `[smoke] slept ${result.workflowElapsedMs / 1000} s of Temporal time in ${wallMs} ms of wall time`,
    );
  });
});
