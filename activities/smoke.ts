/**
 * The smoke-test activity: proves a worker runs real activity code against a real server.
 * Built by a factory, like every activity here, so tests can pass their own dependencies.
 */
import { Context } from '@temporalio/activity';

export interface SmokeActivities {
  /** Greets `name`; reports the attempt's scheduled time (Temporal time, not the wall clock). */
  smokeGreet(name: string): Promise<{ greeting: string; scheduledTimeMs: number }>;
}

export function createSmokeActivities(): SmokeActivities {
  return {
    async smokeGreet(name) {
      const info = Context.current().info;
      return { greeting: `hello, ${name}`, scheduledTimeMs: info.currentAttemptScheduledTimestampMs };
    },
  };
}
