import type { Client } from '@temporalio/client';
import type { Transition } from '../breaker/transitions';
import type { Logger } from '../log/logger';
import { breakerWorkflowStart } from './breaker-workflows';
import { BREAKER_WORKFLOW_TYPE, TRANSITION_SIGNAL } from './names';

export interface TransitionReporter {
  /** Fire and forget: never throws, never delays the activity that caused the transition. */
  report(transition: Transition, taskQueue: string): void;
}

/** Signals the breaker's workflow (starting it if needed) so the transition lands in its history. */
export function signalingReporter(getClient: () => Client, logger: Logger): TransitionReporter {
  return {
    report(transition, taskQueue) {
      let client: Client;
      try {
        client = getClient();
      } catch (e) {
        logger.warn('cannot report breaker transition: no client', { breaker: transition.breaker, error: (e as Error).message });
        return;
      }
      client.workflow
        .signalWithStart(BREAKER_WORKFLOW_TYPE, {
          ...breakerWorkflowStart(transition.breaker, taskQueue),
          signal: TRANSITION_SIGNAL,
          signalArgs: [transition],
        })
        .catch((e: Error) => logger.warn('breaker transition not reported to its workflow', { breaker: transition.breaker, event: transition.event, error: e.message }));
    },
  };
}

export const noReporter: TransitionReporter = { report() {} };
