import { MAX_COUNT_WINDOW_CALLS, MAX_FAILING_WORKERS, MAX_TIME_WINDOW_SECONDS, type BreakerConfig } from '../breaker/config';
import { decodeState, initialState, type BreakerState } from '../breaker/state';
import { acquire, type Decision } from '../breaker/transitions';
import { TIME_BUCKETS } from '../breaker/window';
import type { Parsed } from './redis-script';

/** A JSON integer from 0 to 15 digits (below 2^53; no leading zeros), and one that may be null. */
const N = '(?:0|[1-9]\\d{0,14})';
const N_OR_NULL = `(?:${N}|null)`;

/**
 * A closed, not forced state in the script's canonical form (see lua/breaker.lua), matched whole:
 * the hot path reads the epoch without decoding. Anything else is decoded and validated.
 */
const CLOSED_PREFIX =
  `^\\{"v":1,"state":"closed","forced":false,"epoch":(${N}),"incarnation":"([A-Za-z0-9_-]{1,64})","failureCount":${N},"consecutiveSuccesses":${N},"lastFailureTime":${N_OR_NULL},` +
  `"stats":\\{"totalSuccesses":${N},"totalFailures":${N},"circuitOpens":${N},"successfulRecoveries":${N},"failedRecoveries":${N},"timeInOpenStateMs":${N},"lastOpenTime":${N_OR_NULL}\\},` +
  `"timeoutSeconds":[1-9]\\d{0,14},"openedAt":null,"lastStateChange":${N_OR_NULL},"halfOpen":\\{"attempts":0,"successes":0,"nextProbeId":0,"leases":\\{\\}\\}`;
const CLOSED_CANONICAL = new RegExp(`${CLOSED_PREFIX}\\}$`);

/** A rate mode's window, in the script's canonical form (see src/breaker/window.ts for its bounds). */
const WORKER = `"[0-9a-f]{8}":${N}`;
const WORKERS = `\\{(?:${WORKER}(?:,${WORKER}){0,${MAX_FAILING_WORKERS - 1}})?\\}`;
const BUCKET = `\\[${N},${N},${N}\\]`;
const WINDOW =
  `\\{"kind":"(?:(time)","size":([1-9]\\d{0,3}),"head":${N},"workers":${WORKERS},"buckets":\\[${BUCKET}(?:,${BUCKET}){0,${TIME_BUCKETS - 1}}\\]` +
  `|(count)","size":([1-9]\\d{0,3}),"seq":${N},"workers":${WORKERS},"ring":"[ofsx]{0,${MAX_COUNT_WINDOW_CALLS}}")\\}`;
/** A closed state with a window (a rate mode): tried only when CLOSED_CANONICAL does not match. */
const CLOSED_WINDOWED = new RegExp(`${CLOSED_PREFIX},"window":${WINDOW}\\}$`);

/** The closed state's epoch and incarnation, when `raw` is a closed state with a window in bounds; else null. */
function closedWindowed(raw: string): RegExpExecArray | null {
  const m = CLOSED_WINDOWED.exec(raw);
  if (m === null) return null;
  const size = Number(m[4] ?? m[6]);
  return size <= (m[3] === 'time' ? MAX_TIME_WINDOW_SECONDS : MAX_COUNT_WINDOW_CALLS) ? m : null;
}

/**
 * Acquire decisions that change nothing (admitted while closed; rejected while open, forced open,
 * or with every half-open slot taken) are taken from a plain GET of the state by the same pure
 * transition the memory store runs: a GET is atomic, so the decision is the one the script would
 * have taken at that instant, at a fraction of a script's cost in Redis. Decisions that write
 * (open → half-open, a probe's lease) and values that do not validate (the script repairs and
 * reports them) return null: the caller runs the script.
 */
export class SnapshotDecisions {
  /** Per key: the last value decoded and its state (an outage keeps one open state for minutes). */
  private readonly decoded = new Map<string, { raw: string; state: BreakerState }>();

  /** Replies all of one shape (result, transition, state, repaired): the hot path's property reads stay monomorphic. */
  decide(key: string, cfg: BreakerConfig, raw: string | null, now: number, leaseMs: number): Parsed<Decision> | null {
    if (raw === null) {
      // No key: the initial state, which the script would not write either.
      return readOnlyAcquire(cfg, initialState(cfg), now, leaseMs);
    }
    // A rate mode's closed state carries its window (until its first outcome, it may have none yet).
    const closed = cfg.mode === 'consecutive' ? CLOSED_CANONICAL.exec(raw) : (closedWindowed(raw) ?? CLOSED_CANONICAL.exec(raw));
    if (closed) {
      const permit = { breaker: cfg.collectorName, epoch: Number(closed[1]), incarnation: closed[2], probeId: null, issuedAt: now, leaseExpiresAt: null };
      return { result: { allowed: true, state: 'closed', probe: false, permit }, transition: null, state: undefined, repaired: '' };
    }
    const state = this.decode(key, raw);
    return state ? readOnlyAcquire(cfg, state, now, leaseMs) : null;
  }

  /** The state a stored value holds (the initial one for no value); undefined when it does not validate. */
  read(key: string, cfg: BreakerConfig, raw: string | null): BreakerState | undefined {
    if (raw === null) return initialState(cfg);
    return this.decode(key, raw);
  }

  private decode(key: string, raw: string): BreakerState | undefined {
    let hit = this.decoded.get(key);
    if (hit?.raw !== raw) {
      const d = decodeState(raw);
      if (!d.ok) return undefined;
      hit = { raw, state: d.state };
      this.decoded.set(key, hit);
    }
    return hit.state;
  }
}

/**
 * The acquire decision on `state` when it writes nothing (the reply carries the state unless it
 * admitted a call while closed); null when it would write (open → half-open, a probe's lease).
 */
export function readOnlyAcquire(cfg: BreakerConfig, state: BreakerState, now: number, leaseMs: number): Parsed<Decision> | null {
  const step = acquire(cfg, state, now, leaseMs);
  if (step.state !== state) return null;
  const kept = step.result.allowed && step.result.state === 'closed' ? undefined : state;
  return { result: step.result, transition: null, state: kept, repaired: '' };
}
