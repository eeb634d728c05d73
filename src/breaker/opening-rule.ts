import type { BreakerConfig, OpeningMode } from './config';
import { consecutiveRule } from './consecutive-rule';
import { countWindowRule } from './count-window-rule';
import type { BreakerState, ClosedState } from './state';
import { timeWindowRule } from './time-window-rule';
import type { SlidingWindow, WindowFigures } from './window';

/** A counted outcome of a closed circuit, as an opening rule sees it. */
export interface ClosedOutcome {
  outcome: 'success' | 'failure';
  /** Lasted at least slowCallDurationMs (see isSlow). */
  slow: boolean;
  /** The worker's key (see workerKey). */
  worker: string;
  now: number;
}

/**
 * "When to open": one implementation per mode. Only this differs between modes; half-open,
 * backoff, forced-open, permits and statistics are shared (transitions.ts). `record` sees the
 * state with the shared counters (failureCount, consecutiveSuccesses, lastFailureTime) already
 * updated for the outcome, and returns the window to keep (undefined: none) and whether to open.
 */
export interface OpeningRule {
  readonly mode: OpeningMode;
  record(cfg: BreakerConfig, s: ClosedState, o: ClosedOutcome): { window: SlidingWindow | undefined; open: boolean };
  /** The window's figures at `now` (the status; a circuit that is not closed has an empty window), or null for a mode without a window. */
  figures(cfg: BreakerConfig, s: BreakerState, now: number): WindowFigures | null;
}

const RULES: Record<OpeningMode, OpeningRule> = {
  consecutive: consecutiveRule,
  'count-window': countWindowRule,
  'time-window': timeWindowRule,
};

export const openingRule = (cfg: BreakerConfig): OpeningRule => RULES[cfg.mode];
