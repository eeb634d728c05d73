import type { BreakerConfig, OpeningMode } from './config';
import { openingRule } from './opening-rule';
import type { BreakerState, CircuitStateName } from './state';
import { openUntil } from './transitions';
import { failureRate, slowCallRate } from './window';

/** The wire format of `get_status()`: the seed's keys exactly, plus a few extras. */
export interface BreakerStatus {
  state: CircuitStateName;
  collector_name: string;
  failure_count: number;
  consecutive_successes: number;
  failure_threshold: number;
  timeout_seconds: number;
  last_failure_time: string | null;
  last_state_change: string | null;
  half_open: {
    attempts: number;
    successes: number;
    max_calls: number;
    success_threshold: number;
    success_rate: number;
  };
  statistics: {
    total_failures: number;
    total_successes: number;
    circuit_opens: number;
    successful_recoveries: number;
    failed_recoveries: number;
    time_in_open_state: number;
    last_open_time: string | null;
  };
  health_score: number;
  // extras
  forced: boolean;
  open_until: string | null;
  base_timeout_seconds: number;
  probes_in_flight: number;
  /** Rate modes only (absent in the consecutive mode, whose status keys are the seed's): how the circuit decides to open. */
  mode?: OpeningMode;
  /** Rate modes: percent of the window's calls that failed (0 with no calls; 0 while not closed: the window restarts on close). */
  failure_rate?: number;
  /** Rate modes: percent of the window's calls that were slow (≥ slowCallDurationMs), failed or not. */
  slow_call_rate?: number;
  /** Rate modes: the calls the window holds now. */
  window_calls?: number;
  /** Rate modes with a quorum (minFailingWorkers > 1): distinct workers with a failing or slow call in the window. */
  failing_workers?: number;
  /** Present (true) only while the store cannot reach the shared state and rejects every call. */
  store_unavailable?: true;
  /** With store_unavailable: the state this worker last saw in the shared store (null: none). */
  last_seen_state?: CircuitStateName | null;
}

/** The largest instant a JavaScript Date holds (±100,000,000 days from the epoch). */
const MAX_DATE_MS = 8.64e15;

/** ISO-8601 UTC to the second with a trailing Z, as the seed prints it; null for a time no Date can hold. */
export const isoSeconds = (ms: number | null): string | null =>
  ms === null || !(Math.abs(ms) <= MAX_DATE_MS) ? null : new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

export function healthScore(s: BreakerState): number {
  const total = s.stats.totalSuccesses + s.stats.totalFailures;
  return total === 0 ? 1 : round3(s.stats.totalSuccesses / total);
}

export function toStatus(cfg: BreakerConfig, s: BreakerState, now: number): BreakerStatus {
  const running = s.state === 'open' && s.openedAt !== null ? Math.max(0, now - s.openedAt) : 0;
  const { attempts, successes } = s.halfOpen;
  const status: BreakerStatus = {
    // While the store is unreachable and rejecting, the circuit is open as far as this worker goes.
    state: s.storeUnavailable ? 'open' : s.state,
    collector_name: cfg.collectorName,
    failure_count: s.failureCount,
    consecutive_successes: s.consecutiveSuccesses,
    failure_threshold: cfg.failureThreshold,
    timeout_seconds: s.timeoutSeconds,
    last_failure_time: isoSeconds(s.lastFailureTime),
    last_state_change: isoSeconds(s.lastStateChange),
    half_open: {
      attempts,
      successes,
      max_calls: cfg.halfOpenMaxCalls,
      success_threshold: cfg.halfOpenSuccessThreshold,
      success_rate: attempts === 0 ? 0 : round3(successes / attempts),
    },
    statistics: {
      total_failures: s.stats.totalFailures,
      total_successes: s.stats.totalSuccesses,
      circuit_opens: s.stats.circuitOpens,
      successful_recoveries: s.stats.successfulRecoveries,
      failed_recoveries: s.stats.failedRecoveries,
      time_in_open_state: round3((s.stats.timeInOpenStateMs + running) / 1000),
      last_open_time: isoSeconds(s.stats.lastOpenTime),
    },
    health_score: healthScore(s),
    forced: s.forced,
    open_until: isoSeconds(openUntil(s)),
    base_timeout_seconds: cfg.timeoutSeconds,
    probes_in_flight: Object.keys(s.halfOpen.leases).length,
  };
  const figures = openingRule(cfg).figures(cfg, s, now);
  if (figures !== null) {
    status.mode = cfg.mode;
    status.failure_rate = round3(failureRate(figures));
    status.slow_call_rate = round3(slowCallRate(figures));
    status.window_calls = figures.calls;
    if (cfg.minFailingWorkers > 1) status.failing_workers = figures.failingWorkers;
  }
  if (s.storeUnavailable) {
    status.store_unavailable = true;
    status.last_seen_state = s.storeUnavailable.lastSeen;
  }
  return status;
}
