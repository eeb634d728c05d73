/**
 * Scripted demo scenarios. A scenario acts only from outside the breaker: it injects faults into
 * the upstream simulator and sends the same signals an operator would; everything else (opening,
 * probing, backoff, recovery) is the breaker's own doing under the demo's configuration.
 */
import type { BreakerConfig, BreakerStatus } from '..';
import type { SimulatorController, SimProvider } from '../sim';
import type { EventFeed } from './feed';
import { sleep } from './processes';

export type BreakerSignal = 'forceOpen' | 'forceClose' | 'reset';

export interface ScenarioContext {
  /** The latest status of a breaker (polled from the store), undefined before the first poll. */
  status(name: string): BreakerStatus | undefined;
  sim: SimulatorController;
  /** Sends a signal to the breaker's workflow, as `temporal workflow signal` would. */
  signal(breaker: string, signal: BreakerSignal, reason: string): Promise<void>;
  breakers: ReadonlyMap<string, BreakerConfig>;
}

export interface ScenarioStep {
  /** What the step does or waits for; printed when it starts. */
  title: string;
  run?(ctx: ScenarioContext): Promise<void>;
  /** The step is over once this holds (checked twice a second). */
  until?(ctx: ScenarioContext): boolean;
  /** Or once this many seconds have passed. */
  holdSeconds?: number;
  /** A step still waiting after this long fails the scenario. */
  timeoutSeconds?: number;
}

export interface Scenario {
  name: string;
  summary: string;
  /** The breakers the scenario is about (shown first). */
  focus: string[];
  /** Built when the scenario starts, from the statuses at that moment (counters only grow). */
  steps(ctx: ScenarioContext): ScenarioStep[];
}

const stat = (ctx: ScenarioContext, name: string) => ctx.status(name)?.statistics;

function warmUp(breaker: string): ScenarioStep {
  return {
    title: `warm-up: every provider healthy; waiting for a first successful ${breaker} collection`,
    until: (ctx) => (stat(ctx, breaker)?.total_successes ?? 0) >= 1,
    timeoutSeconds: 60,
  };
}

function outage(provider: SimProvider): Scenario {
  return {
    name: 'outage',
    summary: `${provider} goes down: the circuit opens, a probe fails (backoff), ${provider} comes back, the next probe closes it`,
    focus: [provider],
    steps(ctx) {
      const cfg = ctx.breakers.get(provider)!;
      const base = stat(ctx, provider) ?? { circuit_opens: 0, failed_recoveries: 0, successful_recoveries: 0 };
      const backedOff = Math.min(Math.floor(cfg.timeoutSeconds * cfg.backoffMultiplier), cfg.maxTimeoutSeconds);
      return [
        warmUp(provider),
        {
          title: `${provider} outage begins: the simulator answers 503 to every ${provider} call`,
          run: async (c) => void (await c.sim.setFaults(provider, { outage: true })),
        },
        {
          title: `waiting for the ${provider} circuit to open (${cfg.failureThreshold} failures in a row)`,
          until: (c) => (stat(c, provider)?.circuit_opens ?? 0) > base.circuit_opens,
          timeoutSeconds: 90,
        },
        {
          title: `outage kept through the first recovery probe (due ${cfg.timeoutSeconds}s after opening)`,
          until: (c) => (stat(c, provider)?.failed_recoveries ?? 0) > base.failed_recoveries,
          timeoutSeconds: cfg.timeoutSeconds + 60,
        },
        {
          title: `${provider} is back: the simulator answers normally again`,
          run: async (c) => void (await c.sim.clearFaults(provider)),
        },
        {
          title: `waiting for the next probe (after the backed-off ${backedOff}s) to close the circuit`,
          until: (c) => (stat(c, provider)?.successful_recoveries ?? 0) > base.successful_recoveries,
          timeoutSeconds: backedOff + 60,
        },
      ];
    },
  };
}

function operator(breaker: string): Scenario {
  return {
    name: 'operator',
    summary: `an operator force-opens ${breaker} through its workflow's signal, holds it, then force-closes it`,
    focus: [breaker],
    steps: () => [
      warmUp(breaker),
      {
        title: `operator: forceOpen signal to circuit-breaker:${breaker} (reason "demo: maintenance window")`,
        run: (c) => c.signal(breaker, 'forceOpen', 'demo: maintenance window'),
      },
      {
        title: `waiting for ${breaker} to be held open`,
        until: (c) => c.status(breaker)?.forced === true,
        timeoutSeconds: 30,
      },
      {
        title: `holding ${breaker} open for 15s: its collector's calls are rejected and wait`,
        holdSeconds: 15,
      },
      {
        title: `operator: forceClose signal to circuit-breaker:${breaker} (reason "demo: maintenance over")`,
        run: (c) => c.signal(breaker, 'forceClose', 'demo: maintenance over'),
      },
      {
        title: `waiting for ${breaker} to close`,
        until: (c) => c.status(breaker)?.state === 'closed' && !c.status(breaker)?.forced,
        timeoutSeconds: 30,
      },
    ],
  };
}

export const SCENARIOS: Readonly<Record<string, Scenario>> = {
  outage: outage('moralis'),
  operator: operator('glassnode'),
};

export class UnknownScenarioError extends Error {
  override readonly name = 'UnknownScenarioError';
}

export function scenarioByName(name: string): Scenario {
  const s = Object.prototype.hasOwnProperty.call(SCENARIOS, name) ? SCENARIOS[name] : undefined;
  if (!s) {
    const valid = Object.values(SCENARIOS).map((x) => `${x.name} (${x.summary})`);
    throw new UnknownScenarioError(`unknown scenario '${name}'; valid scenarios: ${valid.join('; ')}`);
  }
  return s;
}

export interface ScenarioProgress {
  index: number;
  total: number;
  title: string;
  startedAt: number;
}

export type ScenarioResult = { outcome: 'complete'; at: number } | { outcome: 'failed'; reason: string } | { outcome: 'stopped' };

/** Plays the steps in order; `progress` is called as each starts. Resolves when done, failed or stopped. */
export async function playScenario(
  scenario: Scenario,
  ctx: ScenarioContext,
  feed: EventFeed,
  signal: AbortSignal,
  progress: (p: ScenarioProgress | null) => void,
): Promise<ScenarioResult> {
  const steps = scenario.steps(ctx);
  feed.emit('scenario', `'${scenario.name}': ${scenario.summary}`);
  for (const [index, step] of steps.entries()) {
    if (signal.aborted) return { outcome: 'stopped' };
    const startedAt = Date.now();
    progress({ index, total: steps.length, title: step.title, startedAt });
    feed.emit('scenario', `step ${index + 1}/${steps.length}: ${step.title}`);
    try {
      await step.run?.(ctx);
    } catch (e) {
      const reason = `step ${index + 1} (${step.title}) failed: ${(e as Error).message}`;
      feed.emit('error', `scenario ${reason}`);
      return { outcome: 'failed', reason };
    }
    const deadline = step.timeoutSeconds !== undefined ? startedAt + step.timeoutSeconds * 1000 : Infinity;
    const holdUntil = step.holdSeconds !== undefined ? startedAt + step.holdSeconds * 1000 : null;
    for (;;) {
      if (signal.aborted) return { outcome: 'stopped' };
      if (step.until ? step.until(ctx) : holdUntil === null || Date.now() >= holdUntil) break;
      if (Date.now() > deadline) {
        const reason = `step ${index + 1} (${step.title}) still waiting after ${step.timeoutSeconds}s`;
        feed.emit('error', `scenario ${reason}`);
        return { outcome: 'failed', reason };
      }
      await sleep(250, signal);
    }
  }
  progress(null);
  const at = Date.now();
  feed.emit('scenario', `'${scenario.name}' complete`);
  return { outcome: 'complete', at };
}
