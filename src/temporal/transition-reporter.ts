import type { Client } from '@temporalio/client';
import type { Transition } from '../breaker/transitions';
import type { Logger } from '../log/logger';
import { breakerWorkflowStart } from './breaker-workflows';
import { BREAKER_WORKFLOW_TYPE, TRANSITION_SIGNAL } from './names';

export interface TransitionReporter {
  /** Fire and forget: never throws, never delays the activity that caused the transition. */
  report(transition: Transition, taskQueue: string): void;
}

/** Retry schedule of a report Temporal did not take (it is down, or unreachable): 1 s doubling up to 5 s. */
export const REPORT_RETRY_MS = { first: 1_000, max: 5_000 } as const;
/** Most undelivered transitions kept per breaker (the oldest go first: the workflow re-reads the store anyway). */
export const MAX_UNDELIVERED_PER_BREAKER = 50;

/**
 * Signals the breaker's workflow (starting it if needed) so the transition lands in its history.
 * A report Temporal does not take (the server is down) is kept and sent again, in order, until it
 * is taken: a transition that happens during a Temporal outage reaches its workflow once the
 * server is back (the workflow then re-reads the store, so its status, memo and search attribute
 * catch up). Logged once when a breaker's reports start failing, once when they are delivered.
 */
export function signalingReporter(getClient: () => Client, logger: Logger, retry: { first: number; max: number } = REPORT_RETRY_MS): TransitionReporter {
  const queues = new Map<string, { items: { transition: Transition; taskQueue: string }[]; since: number; delayMs: number; timer?: NodeJS.Timeout; sending: boolean }>();

  const send = (transition: Transition, taskQueue: string): Promise<void> => {
    let client: Client;
    try {
      client = getClient();
    } catch (e) {
      return Promise.reject(new Error(`no client: ${(e as Error).message}`));
    }
    return client.workflow
      .signalWithStart(BREAKER_WORKFLOW_TYPE, {
        ...breakerWorkflowStart(transition.breaker, taskQueue),
        signal: TRANSITION_SIGNAL,
        signalArgs: [transition],
      })
      .then(() => undefined);
  };

  const drain = async (breaker: string): Promise<void> => {
    const q = queues.get(breaker);
    if (!q || q.sending) return;
    q.sending = true;
    q.timer = undefined;
    try {
      while (q.items.length > 0) {
        const { transition, taskQueue } = q.items[0]!;
        await send(transition, taskQueue);
        q.items.shift();
      }
      queues.delete(breaker);
      logger.info('breaker transitions delivered to their workflow after a failed report', { breaker, undeliveredForMs: Date.now() - q.since });
    } catch {
      q.delayMs = Math.min(q.delayMs * 2, retry.max);
      q.timer = setTimeout(() => void drain(breaker), q.delayMs);
      q.timer.unref?.();
    } finally {
      q.sending = false;
    }
  };

  return {
    report(transition, taskQueue) {
      const pending = queues.get(transition.breaker);
      if (pending) {
        // Behind undelivered ones: keep the order.
        pending.items.push({ transition, taskQueue });
        if (pending.items.length > MAX_UNDELIVERED_PER_BREAKER) pending.items.splice(0, pending.items.length - MAX_UNDELIVERED_PER_BREAKER);
        return;
      }
      send(transition, taskQueue).catch((e: Error) => {
        logger.warn('breaker transition not reported to its workflow: sending it again until Temporal takes it', {
          breaker: transition.breaker,
          event: transition.event,
          error: e.message.split('\n')[0],
        });
        const q = queues.get(transition.breaker);
        if (q) {
          q.items.push({ transition, taskQueue });
          return;
        }
        const fresh = { items: [{ transition, taskQueue }], since: Date.now(), delayMs: retry.first, sending: false, timer: undefined as NodeJS.Timeout | undefined };
        queues.set(transition.breaker, fresh);
        fresh.timer = setTimeout(() => void drain(transition.breaker), fresh.delayMs);
        fresh.timer.unref?.();
      });
    },
  };
}

export const noReporter: TransitionReporter = { report() {} };
