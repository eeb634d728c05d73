/**
 * Activities the breaker workflows run: operator commands applied to the shared store (so every
 * worker sees them at once), the exact status, and the probe that drives recovery without traffic.
 */
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { BreakerConfig } from '../src/breaker/config';
import type { BreakerCommand, Outcome } from '../src/breaker/permit';
import type { BreakerState } from '../src/breaker/state';
import { toStatus, type BreakerStatus } from '../src/breaker/status';
import { openUntil, type Transition } from '../src/breaker/transitions';
import { defaultClassifyError, type ErrorVerdict } from '../src/temporal/failure-classification';
import { activityBreakerMetrics } from '../src/temporal/metrics';
import { temporalClock } from '../src/temporal/time';
import type { BreakerStore } from '../src/store/store';

export interface BreakerSnapshot {
  status: BreakerStatus;
  /** Exact end of the open period (ms), null unless open and not forced. */
  openUntilMs: number | null;
  /** The epoch and incarnation of the state read: the breaker workflow orders transitions by them. */
  epoch?: number;
  incarnation?: string;
}

export interface ProbeResult extends BreakerSnapshot {
  admitted: boolean;
  outcome: Outcome | null;
  transitions: Transition[];
}

export interface BreakerControlDeps {
  store: BreakerStore;
  breakers: ReadonlyMap<string, BreakerConfig>;
  /** A cheap real call to a breaker's upstream, by breaker name: the recovery probe. A breaker without one recovers through traffic. */
  probes?: Readonly<Record<string, (() => Promise<unknown>) | undefined>> | ReadonlyMap<string, () => Promise<unknown>>;
  classifyError?: (error: unknown) => ErrorVerdict;
  probeLeaseMs?: number;
}

export interface BreakerControlActivities {
  applyBreakerCommand(input: { name: string; command: BreakerCommand; reason?: string }): Promise<BreakerSnapshot>;
  readBreakerStatus(input: { name: string }): Promise<BreakerSnapshot>;
  probeBreaker(input: { name: string }): Promise<ProbeResult>;
}

const COMMANDS: readonly BreakerCommand[] = ['forceOpen', 'forceClose', 'reset'];

function clock(): () => number {
  try {
    return temporalClock(Context.current().info);
  } catch {
    return Date.now; // called outside an activity (tests, CLI)
  }
}

function probeOf(probes: BreakerControlDeps['probes'], name: string): (() => Promise<unknown>) | undefined {
  if (probes === undefined) return undefined;
  if (probes instanceof Map) return probes.get(name);
  const table = probes as Readonly<Record<string, (() => Promise<unknown>) | undefined>>;
  return Object.prototype.hasOwnProperty.call(table, name) ? table[name] : undefined;
}

/** The worker's identity as Temporal knows it (the activity context's client carries it), else the SDK's default form. */
function workerIdentity(): string {
  try {
    const identity = (Context.current().client as { options?: { identity?: unknown } } | undefined)?.options?.identity;
    if (typeof identity === 'string' && identity !== '') return identity;
  } catch {
    // outside an activity, or no client
  }
  return `${process.pid}@${hostname()}`;
}

export function createBreakerControlActivities(deps: BreakerControlDeps): BreakerControlActivities {
  const classify = deps.classifyError ?? defaultClassifyError;
  const configFor = (name: unknown): BreakerConfig => {
    const cfg = typeof name === 'string' ? deps.breakers.get(name) : undefined;
    if (!cfg) {
      const shown = String(name).length > 80 ? `${String(name).slice(0, 80)}…` : String(name);
      throw ApplicationFailure.nonRetryable(`unknown breaker '${shown}' (configured: ${[...deps.breakers.keys()].join(', ')})`, 'UnknownBreaker');
    }
    return cfg;
  };
  const snapshot = (cfg: BreakerConfig, state: BreakerState, now: number): BreakerSnapshot => ({
    status: toStatus(cfg, state, now),
    openUntilMs: openUntil(state),
    epoch: state.epoch,
    ...(state.incarnation === undefined ? {} : { incarnation: state.incarnation }),
  });

  return {
    async applyBreakerCommand({ name, command }) {
      const cfg = configFor(name);
      if (!COMMANDS.includes(command)) {
        throw ApplicationFailure.nonRetryable(`unknown breaker command '${String(command)}' (expected ${COMMANDS.join(', ')})`, 'InvalidCommand');
      }
      const now = clock();
      const reply = await deps.store.command(cfg, command, now());
      const metrics = activityBreakerMetrics(name);
      if (reply.transition) metrics.transition(reply.transition);
      metrics.state(reply.state.state);
      return snapshot(cfg, reply.state, now());
    },

    async readBreakerStatus({ name }) {
      const cfg = configFor(name);
      const now = clock();
      const state = await deps.store.load(cfg);
      activityBreakerMetrics(name).state(state.state);
      return snapshot(cfg, state, now());
    },

    async probeBreaker({ name }) {
      const cfg = configFor(name);
      const now = clock();
      const probe = probeOf(deps.probes, name);
      if (!probe) {
        // No way to test the upstream: recovery waits for real traffic.
        return { ...snapshot(cfg, await deps.store.load(cfg), now()), admitted: false, outcome: null, transitions: [] };
      }
      const transitions: Transition[] = [];
      const metrics = activityBreakerMetrics(name);
      const reply = await deps.store.acquire(cfg, now(), deps.probeLeaseMs ?? 30_000);
      if (reply.transition) transitions.push(reply.transition);
      if (reply.transition) metrics.transition(reply.transition);
      if (!reply.result.allowed) {
        metrics.state(reply.result.state); // not a rejected call: the workflow's probe simply was not needed or had no slot
        return { ...snapshot(cfg, reply.state ?? (await deps.store.load(cfg)), now()), admitted: false, outcome: null, transitions };
      }
      if (reply.result.probe) metrics.probe();
      let outcome: Outcome = 'success';
      const started = performance.now();
      try {
        await probe();
      } catch (e) {
        outcome = classify(e);
      }
      // A probe's outcome moves no window (half-open is shared by every mode), but it carries its duration like any call.
      const recorded = await deps.store.record(cfg, reply.result.permit, outcome, now(), { durationMs: performance.now() - started, worker: workerIdentity() });
      if (recorded.transition) transitions.push(recorded.transition);
      metrics.outcome(outcome, recorded.result.state);
      if (recorded.transition) metrics.transition(recorded.transition);
      return { ...snapshot(cfg, recorded.state ?? (await deps.store.load(cfg)), now()), admitted: true, outcome, transitions };
    },
  };
}
