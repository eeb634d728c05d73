import type { MetricMeter } from '@temporalio/common';
import type { Outcome } from '../breaker/permit';
import type { Transition } from '../breaker/transitions';

const STATE_VALUE = { closed: 0, 'half-open': 1, open: 2 } as const;

/** Per-breaker metrics through the SDK's meter (exported by the worker's Prometheus endpoint when configured). */
export function breakerMetrics(meter: MetricMeter, breaker: string) {
  const tags = { breaker };
  return {
    rejected: () => meter.createCounter('circuit_breaker_rejections', 'calls', 'calls short-circuited by an open circuit').add(1, tags),
    probe: () => meter.createCounter('circuit_breaker_probes', 'calls', 'half-open probes admitted').add(1, tags),
    outcome: (o: Outcome) => {
      if (o === 'success') meter.createCounter('circuit_breaker_successes', 'calls', 'calls that succeeded').add(1, tags);
      else if (o === 'failure') meter.createCounter('circuit_breaker_failures', 'calls', 'calls that counted as failures').add(1, tags);
    },
    transition: (t: Transition) => {
      if (t.to === 'open' && t.from !== 'open') meter.createCounter('circuit_breaker_opens', 'opens', 'times the circuit opened').add(1, tags);
      meter.createGauge('circuit_breaker_state', 'int', 'state: 0 closed, 1 half-open, 2 open').set(STATE_VALUE[t.to], tags);
    },
  };
}
