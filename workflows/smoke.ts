/**
 * Smoke workflow: runs one activity, then sleeps on a durable timer. In the time-skipping
 * environment an hour of Temporal time passes in about a second of wall time.
 */
import { proxyActivities, sleep } from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import type { SmokeActivities } from '../activities/smoke';

const { smokeGreet } = proxyActivities<SmokeActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 3 },
});

export interface SmokeInput {
  name: string;
  /** How long to sleep after the activity (Temporal time). */
  sleep: Duration;
}

export interface SmokeResult {
  greeting: string;
  /** Workflow time between start and end: covers the sleep. */
  workflowElapsedMs: number;
  activityScheduledTimeMs: number;
}

export async function smokeWorkflow(input: SmokeInput): Promise<SmokeResult> {
  const startedAt = Date.now(); // workflow time: deterministic, advanced by the server
  const { greeting, scheduledTimeMs } = await smokeGreet(input.name);
  await sleep(input.sleep);
  return { greeting, workflowElapsedMs: Date.now() - startedAt, activityScheduledTimeMs: scheduledTimeMs };
}
