import type { BreakerConfig } from './config';
import { openingRule } from './opening-rule';
import type { BreakerCommand, Outcome, OutcomeDetails, Permit } from './permit';
import { emptyHalfOpen, type BreakerState, type CircuitStateName } from './state';
import { isSlow, workerKey } from './window';

export type TransitionEvent =
  | 'opened' // closed → open (the mode's opening rule: failure threshold, or a rate over the window)
  | 'half-opened' // open → half-open (timeout elapsed, first probe admitted)
  | 'recovered' // half-open → closed
  | 'reopened' // half-open → open (probe failed, timeout backed off)
  | 'forced-open'
  | 'forced-closed'
  | 'reset';

export interface Transition {
  breaker: string;
  event: TransitionEvent;
  from: CircuitStateName;
  to: CircuitStateName;
  at: number;
  /** The open period after this transition (seconds), when it leads to open. */
  timeoutSeconds: number;
  /**
   * The epoch (and incarnation) of the state this transition led to, as the store issued them:
   * what orders transitions (`at` is a worker's clock, and workers' clocks differ).
   */
  epoch: number;
  incarnation?: string;
}

export type Decision =
  | { allowed: true; state: CircuitStateName; probe: boolean; permit: Permit }
  | { allowed: false; state: CircuitStateName; retryAfterMs: number | null };

export interface Step<R> {
  state: BreakerState;
  result: R;
  transition: Transition | null;
}

/** The instant from which an open, unforced circuit admits a probe. */
export const openUntil = (s: BreakerState): number | null =>
  s.state === 'open' && !s.forced && s.openedAt !== null ? s.openedAt + s.timeoutSeconds * 1000 : null;

function transition(cfg: BreakerConfig, from: BreakerState, to: BreakerState, event: TransitionEvent, at: number): Transition {
  const t: Transition = { breaker: cfg.collectorName, event, from: from.state, to: to.state, at, timeoutSeconds: to.timeoutSeconds, epoch: to.epoch };
  if (to.incarnation !== undefined) t.incarnation = to.incarnation;
  return t;
}

/** Every change of state goes through here: it stamps the change, starts a new epoch and drops the window (a closed circuit's). */
function moveTo(s: BreakerState, to: CircuitStateName, now: number): BreakerState {
  const leavingOpen = s.state === 'open' && to !== 'open';
  const enteringOpen = s.state !== 'open' && to === 'open';
  const stats = { ...s.stats };
  if (leavingOpen && s.openedAt !== null) stats.timeInOpenStateMs += Math.max(0, now - s.openedAt);
  if (enteringOpen) {
    stats.circuitOpens += 1;
    stats.lastOpenTime = now;
  }
  return {
    ...s,
    state: to,
    forced: false,
    epoch: s.epoch + 1,
    lastStateChange: now,
    openedAt: enteringOpen ? now : to === 'open' ? s.openedAt : null,
    halfOpen: emptyHalfOpen(),
    stats,
    window: undefined,
  };
}

/** Frees the half-open slots whose lease ran out; they count as neither success nor failure. */
function expireLeases(s: BreakerState, now: number): BreakerState {
  if (s.state !== 'half-open') return s;
  let expired = 0;
  const leases: Record<string, number> = {};
  for (const [id, expiresAt] of Object.entries(s.halfOpen.leases)) {
    if (expiresAt <= now) expired += 1;
    else leases[id] = expiresAt;
  }
  if (expired === 0) return s;
  return { ...s, halfOpen: { ...s.halfOpen, attempts: s.halfOpen.attempts - expired, leases } };
}

function earliestLease(s: BreakerState): number | null {
  const all = Object.values(s.halfOpen.leases);
  return all.length ? Math.min(...all) : null;
}

export function acquire(cfg: BreakerConfig, s0: BreakerState, now: number, leaseMs: number): Step<Decision> {
  let s = s0;
  let t: Transition | null = null;
  if (s.state === 'closed') {
    const permit: Permit = { breaker: cfg.collectorName, epoch: s.epoch, probeId: null, issuedAt: now, leaseExpiresAt: null };
    if (s.incarnation !== undefined) permit.incarnation = s.incarnation;
    return { state: s, result: { allowed: true, state: 'closed', probe: false, permit }, transition: null };
  }
  if (s.state === 'open') {
    const until = openUntil(s);
    if (until === null) return { state: s, result: { allowed: false, state: 'open', retryAfterMs: null }, transition: null };
    if (now < until) return { state: s, result: { allowed: false, state: 'open', retryAfterMs: until - now }, transition: null };
    const next = moveTo(s, 'half-open', now);
    t = transition(cfg, s, next, 'half-opened', now);
    s = next;
  }
  s = expireLeases(s, now);
  if (s.halfOpen.attempts >= cfg.halfOpenMaxCalls) {
    const lease = earliestLease(s);
    const retryAfterMs = lease === null ? 1000 : Math.max(1, lease - now);
    return { state: s, result: { allowed: false, state: 'half-open', retryAfterMs }, transition: t };
  }
  const probeId = s.halfOpen.nextProbeId;
  const leaseExpiresAt = now + leaseMs;
  s = {
    ...s,
    halfOpen: {
      ...s.halfOpen,
      attempts: s.halfOpen.attempts + 1,
      nextProbeId: probeId + 1,
      leases: { ...s.halfOpen.leases, [String(probeId)]: leaseExpiresAt },
    },
  };
  const permit: Permit = { breaker: cfg.collectorName, epoch: s.epoch, probeId, issuedAt: now, leaseExpiresAt };
  if (s.incarnation !== undefined) permit.incarnation = s.incarnation;
  return { state: s, result: { allowed: true, state: 'half-open', probe: true, permit }, transition: t };
}

export interface RecordResult {
  /** False when the permit belonged to an earlier period (or its lease ran out): totals only. */
  counted: boolean;
  state: CircuitStateName;
}

/**
 * The hot path (a success while closed), built as explicit literals: object spread costs ~50×
 * more on Node 20, and this path runs once per successful call.
 */
function closedSuccess(s: BreakerState): BreakerState {
  const st = s.stats;
  return {
    v: 1,
    state: 'closed',
    forced: s.forced,
    epoch: s.epoch,
    incarnation: s.incarnation,
    failureCount: 0,
    consecutiveSuccesses: s.consecutiveSuccesses + 1,
    timeoutSeconds: s.timeoutSeconds,
    openedAt: s.openedAt,
    lastFailureTime: s.lastFailureTime,
    lastStateChange: s.lastStateChange,
    halfOpen: s.halfOpen,
    stats: {
      totalFailures: st.totalFailures,
      totalSuccesses: st.totalSuccesses + 1,
      circuitOpens: st.circuitOpens,
      successfulRecoveries: st.successfulRecoveries,
      failedRecoveries: st.failedRecoveries,
      timeInOpenStateMs: st.timeInOpenStateMs,
      lastOpenTime: st.lastOpenTime,
    },
  };
}

const COUNTED_CLOSED: RecordResult = Object.freeze({ counted: true, state: 'closed' });

/**
 * Whether a permit was issued in the state's current period: its epoch, and its incarnation when
 * it has one (a permit issued before the state had an incarnation is checked by its epoch alone).
 */
const issuedIn = (s: BreakerState, permit: RecordedPermit): boolean =>
  permit.epoch === s.epoch && (permit.incarnation === undefined || permit.incarnation === s.incarnation);

export type RecordedPermit = Pick<Permit, 'epoch' | 'probeId'> & Partial<Pick<Permit, 'incarnation' | 'leaseExpiresAt'>>;

/**
 * An outcome. `details` (a duration, a worker) matter to the rate modes only: a closed circuit's
 * counted outcome goes through the mode's opening rule (opening-rule.ts), everything else is shared.
 */
export function record(cfg: BreakerConfig, s0: BreakerState, permit: RecordedPermit, outcome: Outcome, now: number, details?: OutcomeDetails): Step<RecordResult> {
  if (outcome === 'success' && s0.state === 'closed' && cfg.mode === 'consecutive' && issuedIn(s0, permit)) {
    return { state: closedSuccess(s0), result: COUNTED_CLOSED, transition: null };
  }
  const stats = { ...s0.stats };
  if (outcome === 'success') stats.totalSuccesses += 1;
  else if (outcome === 'failure') stats.totalFailures += 1;
  let s = expireLeases({ ...s0, stats }, now);
  const stale = (): Step<RecordResult> => ({ state: s, result: { counted: false, state: s.state }, transition: null });
  if (!issuedIn(s, permit)) return stale();

  if (s.state === 'closed') {
    if (outcome === 'ignored') return stale();
    s =
      outcome === 'success'
        ? { ...s, failureCount: 0, consecutiveSuccesses: s.consecutiveSuccesses + 1 }
        : { ...s, failureCount: s.failureCount + 1, consecutiveSuccesses: 0, lastFailureTime: now };
    const verdict = openingRule(cfg).record(cfg, s, { outcome, slow: isSlow(cfg, details?.durationMs), worker: cfg.minFailingWorkers > 1 ? workerKey(details?.worker) : '', now });
    s = { ...s, window: verdict.window };
    if (!verdict.open) return { state: s, result: { counted: true, state: 'closed' }, transition: null };
    const opened = moveTo(s, 'open', now);
    return { state: opened, result: { counted: true, state: 'open' }, transition: transition(cfg, s, opened, 'opened', now) };
  }

  if (s.state !== 'half-open' || permit.probeId === null) return stale();
  const key = String(permit.probeId);
  // The lease must be this permit's own: after a restore, a new probe can hold the same id.
  if (!(key in s.halfOpen.leases) || (permit.leaseExpiresAt != null && s.halfOpen.leases[key] !== permit.leaseExpiresAt)) return stale();
  const leases = { ...s.halfOpen.leases };
  delete leases[key];
  if (outcome === 'ignored') {
    s = { ...s, halfOpen: { ...s.halfOpen, attempts: s.halfOpen.attempts - 1, leases } };
    return { state: s, result: { counted: false, state: 'half-open' }, transition: null };
  }

  if (outcome === 'success') {
    const successes = s.halfOpen.successes + 1;
    s = { ...s, consecutiveSuccesses: s.consecutiveSuccesses + 1, halfOpen: { ...s.halfOpen, successes, leases } };
    if (successes < cfg.halfOpenSuccessThreshold) return { state: s, result: { counted: true, state: 'half-open' }, transition: null };
    const closed = moveTo(s, 'closed', now);
    const recovered: BreakerState = {
      ...closed,
      failureCount: 0,
      timeoutSeconds: cfg.timeoutSeconds,
      stats: { ...closed.stats, successfulRecoveries: closed.stats.successfulRecoveries + 1 },
    };
    return { state: recovered, result: { counted: true, state: 'closed' }, transition: transition(cfg, s, recovered, 'recovered', now) };
  }

  const backedOff = Math.min(Math.floor(s.timeoutSeconds * cfg.backoffMultiplier), cfg.maxTimeoutSeconds);
  const failed: BreakerState = {
    ...s,
    failureCount: s.failureCount + 1,
    consecutiveSuccesses: 0,
    lastFailureTime: now,
    timeoutSeconds: backedOff,
    stats: { ...s.stats, failedRecoveries: s.stats.failedRecoveries + 1 },
  };
  const reopened = moveTo(failed, 'open', now);
  return { state: reopened, result: { counted: true, state: 'open' }, transition: transition(cfg, s, reopened, 'reopened', now) };
}

/** Operator commands. forceOpen holds until forceClose or reset; both of those keep statistics. */
export function command(cfg: BreakerConfig, s: BreakerState, cmd: BreakerCommand, now: number): Step<null> {
  if (cmd === 'forceOpen') {
    const opened = s.state === 'open' ? { ...s, epoch: s.epoch + 1, lastStateChange: now } : moveTo(s, 'open', now);
    const forced: BreakerState = { ...opened, forced: true };
    return { state: forced, result: null, transition: transition(cfg, s, forced, 'forced-open', now) };
  }
  const closed = moveTo(s, 'closed', now);
  const cleared: BreakerState = {
    ...closed,
    failureCount: 0,
    consecutiveSuccesses: 0,
    timeoutSeconds: cfg.timeoutSeconds,
    lastFailureTime: cmd === 'reset' ? null : s.lastFailureTime,
  };
  return { state: cleared, result: null, transition: transition(cfg, s, cleared, cmd === 'reset' ? 'reset' : 'forced-closed', now) };
}
