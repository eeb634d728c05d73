import type { BreakerConfig } from '../breaker/config';
import { initialState, type BreakerState } from '../breaker/state';

/**
 * The state a store reports while it cannot reach the shared state and rejects every call (the
 * `reject` policy): the last state it saw (fresh statistics when it saw none with them), marked
 * so that the status says the store is unavailable and the circuit open, never closed. Never stored.
 */
export function unavailableState(cfg: BreakerConfig, seen: BreakerState | undefined): BreakerState {
  return { ...(seen ?? initialState(cfg)), storeUnavailable: { lastSeen: seen === undefined ? null : seen.state } };
}
