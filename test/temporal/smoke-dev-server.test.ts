import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSmokeActivities } from '../../activities/smoke';
import { smokeWorkflow } from '../../workflows';
import { workflowsPath } from '../helpers/paths';
import { createDevServerEnv, serverExecutableOf } from '../helpers/temporal-env';

describe('smoke: Temporal CLI dev server', () => {
  let env: TestWorkflowEnvironment;

  beforeAll(async () => {
    env = await createDevServerEnv();
  });

  afterAll(async () => {
    await env?.teardown();
  });

  it('runs the smoke workflow (activity + durable timer) on a full server', async () => {
    expect(env.supportsTimeSkipping).toBe(false);
    console.info(`[smoke] dev server executable: ${serverExecutableOf(env)?.description}`);

    const taskQueue = `smoke-${randomUUID()}`;
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowsPath,
      activities: createSmokeActivities(),
    });

    const workflowId = `smoke-dev-server-${randomUUID()}`;
    const result = await worker.runUntil(
      env.client.workflow.execute(smokeWorkflow, {
        taskQueue,
        workflowId,
        args: [{ name: 'dev-server', sleep: '1 second' }],
      }),
    );

    expect(result.greeting).toBe('hello, dev-server');
    expect(result.workflowElapsedMs).toBeGreaterThanOrEqual(1_000);

    // The server kept the history: the timer and the activity are in it.
    const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
    const events = history.events ?? [];
    expect(events.some((e) => e.activityTaskCompletedEventAttributes)).toBe(true);
    expect(events.some((e) => e.timerFiredEventAttributes)).toBe(true);
  });
});
