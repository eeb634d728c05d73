import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Context } from '@temporalio/activity';
import type { ActivityExecuteInput, ActivityInboundCallsInterceptor, ActivityInterceptorsFactory, Next } from '@temporalio/worker';
import type { OutcomeDetails, Permit } from '../breaker/permit';
import { toStatus } from '../breaker/status';
import type { Transition } from '../breaker/transitions';
import { defaultLogger, type Logger } from '../log/logger';
import type { BreakerStore } from '../store/store';
import { resolveActivityBreakers, resolveBreakers, type ActivityBreakersOption, type BreakersOption } from './breaker-registry';
import { circuitOpenFailure } from './circuit-open-failure';
import { classifyWithContext, defaultClassifyError, type ErrorVerdict } from './failure-classification';
import { defaultClassifyResult, type ResultVerdict } from './result-classification';
import { retryDelayWithin } from './retry-delay';
import { signalingReporter, type TransitionReporter } from './transition-reporter';
import { temporalClock } from './time';
import { breakerMetrics } from './metrics';

export interface BreakerInterceptorOptions {
  store: BreakerStore;
  /** Every breaker, by name: settings (the seed's defaults fill what is left out) or full configs. */
  breakers: BreakersOption;
  /** Activity type → breaker name, or a function of the activity's info. No breaker: the activity runs untouched. */
  activities?: ActivityBreakersOption;
  /** The former name of `activities`. */
  breakerFor?: ActivityBreakersOption;
  /**
   * Whether an activity's error counts as an upstream failure. Default: see defaultClassifyError.
   * Whatever it says, a paused, reset or cancelled activity and a worker shutdown never count.
   */
  classifyError?: (error: unknown) => ErrorVerdict;
  /** Whether a completed activity counts as a success; default: `{ upstreamCalled: false }` is ignored. */
  classifyResult?: (result: unknown) => ResultVerdict;
  /** Retry delay for activities rejected by a forced-open circuit (it has no end time). Default 60 s. */
  forcedOpenRecheckMs?: number;
  /** Cap on the retry delay while every half-open probe slot is taken. Default 5 s. */
  halfOpenRecheckMs?: number;
  /** Probe lease when the activity has no start-to-close timeout. Default 60 s. */
  defaultProbeLeaseMs?: number;
  /**
   * This worker's identity for a rate mode's quorum (minFailingWorkers): default, the worker's
   * identity as Temporal knows it (the activity context's client, which the worker builds with its
   * own identity), else `pid@hostname` as the SDK's default is.
   */
  workerIdentity?: string | ((ctx: Context) => string);
  /** Where transitions go; default: a signal to the breaker's workflow through the activity context's client. */
  reporter?: TransitionReporter;
  logger?: Logger;
}

/**
 * The activity interceptors to pass to `Worker.create({ interceptors: { activity: [...] } })`:
 * each mapped activity acquires a permit before it runs and records its outcome after.
 * `CircuitBreakerPlugin` registers the same thing (and the breaker workflows' activities).
 */
export function createBreakerInterceptors(options: BreakerInterceptorOptions): { activity: ActivityInterceptorsFactory[] } {
  return { activity: [breakerInterceptorFactory(options)] };
}

export function breakerInterceptorFactory(options: BreakerInterceptorOptions): ActivityInterceptorsFactory {
  const logger = options.logger ?? defaultLogger;
  const classify = options.classifyError ?? defaultClassifyError;
  const classifyResult = options.classifyResult ?? defaultClassifyResult;
  const breakers = resolveBreakers(options.breakers);
  const mapping = options.activities ?? options.breakerFor;
  if (mapping === undefined) throw new TypeError('createBreakerInterceptors: `activities` (activity type → breaker name) is required');
  const resolve = resolveActivityBreakers(mapping, breakers);
  const forcedRecheck = options.forcedOpenRecheckMs ?? 60_000;
  const halfOpenRecheck = options.halfOpenRecheckMs ?? 5_000;
  const defaultLease = options.defaultProbeLeaseMs ?? 60_000;

  const identityOf = (ctx: Context): string => {
    const own = options.workerIdentity;
    if (typeof own === 'string') return own;
    if (own) return own(ctx);
    try {
      const identity = (ctx.client as { options?: { identity?: unknown } } | undefined)?.options?.identity;
      if (typeof identity === 'string' && identity !== '') return identity;
    } catch {
      // no client in this context (a test environment): the SDK's default identity below
    }
    return `${process.pid}@${hostname()}`;
  };

  return (ctx: Context) => {
    const reporter = options.reporter ?? signalingReporter(() => ctx.client, logger);
    const inbound: ActivityInboundCallsInterceptor = {
      async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
        const name = resolve(ctx.info);
        if (name === undefined) return next(input);
        const cfg = breakers.get(name);
        if (!cfg) {
          logger.error('activity mapped to an unknown breaker; running it unguarded', { breaker: name, activityType: ctx.info.activityType });
          return next(input);
        }
        const now = temporalClock(ctx.info);
        const metrics = breakerMetrics(ctx.metricMeter, name);
        const report = (t: Transition | null) => {
          if (!t) return;
          metrics.transition(t);
          logger.info(`breaker ${t.event}: ${t.from} → ${t.to}`, { breaker: name, event: t.event, timeoutSeconds: t.timeoutSeconds, activityType: ctx.info.activityType });
          try {
            reporter.report(t, ctx.info.taskQueue);
          } catch (e) {
            logger.warn('breaker transition not reported', { breaker: name, error: (e as Error).message });
          }
        };

        let permit: Permit | undefined;
        try {
          const leaseMs = ctx.info.startToCloseTimeoutMs > 0 ? ctx.info.startToCloseTimeoutMs : defaultLease;
          const reply = await options.store.acquire(cfg, now(), leaseMs);
          report(reply.transition);
          if (!reply.result.allowed) {
            metrics.rejected(reply.result.state);
            const state = reply.state;
            const wanted = reply.result.retryAfterMs === null ? forcedRecheck : reply.result.state === 'half-open' ? Math.min(reply.result.retryAfterMs, halfOpenRecheck) : reply.result.retryAfterMs;
            const at = now();
            const delay = retryDelayWithin(ctx.info, wanted, at);
            if (delay.capped) {
              logger.warn(`the circuit's wait does not fit the activity's schedule-to-close: it ends ${Math.ceil(delay.wantedMs / 1000)} s from now, the activity's deadline in ${Math.ceil(delay.ms / 1000)} s; give it a longer ScheduleToClose (or none) to wait for the probe`, {
                breaker: name,
                activityType: ctx.info.activityType,
                wantedMs: delay.wantedMs,
                retryInMs: delay.ms,
              });
            }
            logger.info('call short-circuited', { breaker: name, activityType: ctx.info.activityType, state: reply.result.state, retryInMs: delay.ms });
            throw circuitOpenFailure(toStatus(cfg, state, at), delay.ms);
          }
          permit = reply.result.permit;
          if (reply.result.probe) metrics.probe();
          metrics.state(reply.result.state);
        } catch (e) {
          if (permit === undefined && (e as { type?: string }).type === 'CircuitOpenError') throw e;
          // The breaker must never be the reason an activity fails: run it unguarded.
          logger.error('breaker store failed; running the activity unguarded', { breaker: name, error: (e as Error).message });
          return next(input);
        }

        // A rate mode reads the attempt's duration (slow calls, on a monotonic clock) and, with a quorum, the worker.
        const started = cfg.mode === 'consecutive' ? undefined : performance.now();
        const finish = async (outcome: 'success' | 'failure' | 'ignored') => {
          try {
            let details: OutcomeDetails | undefined;
            if (started !== undefined) {
              details = { durationMs: performance.now() - started };
              if (cfg.minFailingWorkers > 1) details.worker = identityOf(ctx);
            }
            const reply = await options.store.record(cfg, permit!, outcome, now(), details);
            metrics.outcome(outcome, reply.result.state);
            report(reply.transition);
          } catch (e) {
            logger.error('breaker outcome not recorded', { breaker: name, outcome, error: (e as Error).message });
          }
        };
        let result: unknown;
        try {
          result = await next(input);
        } catch (error) {
          await finish(classifyWithContext(classify, error, ctx));
          throw error;
        }
        await finish(classifyResult(result));
        return result;
      },
    };
    return { inbound };
  };
}
