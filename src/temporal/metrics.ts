/**
 * Per-breaker metrics through the SDK's metric meter. They are no-ops unless the worker installed
 * the SDK Runtime with a metrics exporter (src/app/runtime.ts: METRICS_PROMETHEUS_ADDRESS);
 * then the worker's Prometheus endpoint exports them under exactly these names (the SDK adds no
 * prefix or suffix to custom metrics), with the label `breaker` and the labels the SDK's activity
 * meter adds: `namespace`, `taskQueue` and (counters only) `activityType`.
 *
 * Counters count what this worker saw; summed over the fleet (`sum by (breaker)`), they match the
 * breaker's shared status: failures = statistics.total_failures, successes = total_successes,
 * opens = circuit_opens (as long as every outcome was recorded in the shared store).
 */
import { Context } from '@temporalio/activity';
import { noopMetricMeter, type MetricMeter, type MetricTags } from '@temporalio/common';
import type { Outcome } from '../breaker/permit';
import type { CircuitStateName } from '../breaker/state';
import type { Transition } from '../breaker/transitions';

/** Our metric names, as exported; the README and docs list them from here. */
export const BREAKER_METRICS = {
  state: { name: 'circuit_breaker_state', kind: 'gauge', unit: '', description: 'circuit state as this worker last saw it: 0 closed, 1 half-open, 2 open (forced open included)' },
  opens: { name: 'circuit_breaker_opens', kind: 'counter', unit: 'opens', description: 'times the circuit entered open (statistics.circuit_opens)' },
  rejections: { name: 'circuit_breaker_rejections', kind: 'counter', unit: 'calls', description: 'calls short-circuited by an open circuit (or a full half-open)' },
  probes: { name: 'circuit_breaker_probes', kind: 'counter', unit: 'calls', description: 'half-open probes admitted (collector calls and the breaker workflow’s probes)' },
  successes: { name: 'circuit_breaker_successes', kind: 'counter', unit: 'calls', description: 'calls that succeeded (statistics.total_successes)' },
  failures: { name: 'circuit_breaker_failures', kind: 'counter', unit: 'calls', description: 'calls that counted as failures (statistics.total_failures)' },
} as const;

export const STATE_VALUE: Readonly<Record<CircuitStateName, number>> = { closed: 0, 'half-open': 1, open: 2 };

export interface BreakerMetrics {
  /** A call was rejected; `state` is the state that rejected it (open or half-open). */
  rejected(state?: CircuitStateName): void;
  /** A half-open probe was admitted. */
  probe(): void;
  /** An outcome was recorded; `state` is the state after it. */
  outcome(outcome: Outcome, state?: CircuitStateName): void;
  /** A transition happened (counts an open when it enters open). */
  transition(t: Transition): void;
  /** The state as just read or decided: keeps the gauge current between transitions. */
  state(state: CircuitStateName): void;
}

/**
 * The activity meter tags every series with the activity type. The state gauge must have one
 * series per breaker (and worker), not one per activity type that last touched it, so its
 * `activityType` tag is removed (the SDK drops tags whose value is undefined).
 */
const WITHOUT_ACTIVITY_TYPE = { activityType: undefined } as unknown as MetricTags;

/** The metrics of one breaker on `meter` (in an activity: its context's `metricMeter`). Instruments are created on first use. */
export function breakerMetrics(meter: MetricMeter, breaker: string): BreakerMetrics {
  const tags: MetricTags = { breaker };
  const gaugeTags: MetricTags = { ...WITHOUT_ACTIVITY_TYPE, breaker };
  const counters = new Map<string, ReturnType<MetricMeter['createCounter']>>();
  const count = (m: (typeof BREAKER_METRICS)[Exclude<keyof typeof BREAKER_METRICS, 'state'>]) => {
    let c = counters.get(m.name);
    if (!c) counters.set(m.name, (c = meter.createCounter(m.name, m.unit, m.description)));
    c.add(1, tags);
  };
  let gauge: ReturnType<MetricMeter['createGauge']> | undefined;
  const setState = (s: CircuitStateName) => {
    gauge ??= meter.createGauge(BREAKER_METRICS.state.name, 'int', BREAKER_METRICS.state.unit, BREAKER_METRICS.state.description);
    gauge.set(STATE_VALUE[s], gaugeTags);
  };
  return {
    rejected(state) {
      count(BREAKER_METRICS.rejections);
      if (state) setState(state);
    },
    probe() {
      count(BREAKER_METRICS.probes);
    },
    outcome(outcome, state) {
      if (outcome === 'success') count(BREAKER_METRICS.successes);
      else if (outcome === 'failure') count(BREAKER_METRICS.failures);
      if (state) setState(state);
    },
    transition(t) {
      if (t.to === 'open' && t.from !== 'open') count(BREAKER_METRICS.opens);
      setState(t.to);
    },
    state: setState,
  };
}

/** The metrics of one breaker on the current activity's meter; no-ops outside an activity. */
export function activityBreakerMetrics(breaker: string): BreakerMetrics {
  let meter: MetricMeter = noopMetricMeter;
  try {
    meter = Context.current().metricMeter;
  } catch {
    // not in an activity (tests, CLI)
  }
  return breakerMetrics(meter, breaker);
}
