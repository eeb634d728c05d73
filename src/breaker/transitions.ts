import type { BreakerConfig } from './config';
import { openingRule } from './opening-rule';
import type { BreakerCommand, Outcome, OutcomeDetails, Permit } from './permit';
import { emptyHalfOpen, type BreakerState, type BreakerStatistics, type CircuitStateName, type ClosedState, type ForcedOpenState, type HalfOpenState, type OpenState } from './state';
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
export const openUntil = (s: BreakerState): number | null => (s.state === 'open' && !s.forced ? s.openedAt + s.timeoutSeconds * 1000 : null);

function transition(cfg: BreakerConfig, from: BreakerState, to: BreakerState, event: TransitionEvent, at: number): Transition {
  const t: Transition = { breaker: cfg.collectorName, event, from: from.state, to: to.state, at, timeoutSeconds: to.timeoutSeconds, epoch: to.epoch };
  if (to.incarnation !== undefined) t.incarnation = to.incarnation;
  return t;
}

/**
 * Every change of state goes through here: it stamps the change, starts a new epoch and builds
 * the new state's own shape (no window but a closed circuit's fresh one, no probes but a
 * half-open circuit's, an opening time only while open).
 */
function moveTo(s: BreakerState, to: 'closed', now: number): ClosedState;
function moveTo(s: BreakerState, to: 'half-open', now: number): HalfOpenState;
function moveTo(s: BreakerState, to: 'open', now: number): OpenState;
function moveTo(s: BreakerState, to: CircuitStateName, now: number): ClosedState | HalfOpenState | OpenState {
  const stats = { ...s.stats };
  if (s.state === 'open' && to !== 'open') stats.timeInOpenStateMs += Math.max(0, now - s.openedAt);
  const enteringOpen = s.state !== 'open' && to === 'open';
  if (enteringOpen) {
    stats.circuitOpens += 1;
    stats.lastOpenTime = now;
  }
  const base = {
    v: 1 as const,
    epoch: s.epoch + 1,
    ...(s.incarnation === undefined ? {} : { incarnation: s.incarnation }),
    failureCount: s.failureCount,
    consecutiveSuccesses: s.consecutiveSuccesses,
    timeoutSeconds: s.timeoutSeconds,
    lastFailureTime: s.lastFailureTime,
    lastStateChange: now,
    stats,
    forced: false as const,
    halfOpen: emptyHalfOpen(),
  };
  if (to === 'open') return { ...base, state: 'open', openedAt: s.state === 'open' ? s.openedAt : now };
  return { ...base, state: to, openedAt: null } as ClosedState | HalfOpenState;
}

/** Frees the half-open slots whose lease ran out; they count as neither success nor failure. */
function expireLeases(s: HalfOpenState, now: number): HalfOpenState {
  let expired = 0;
  const leases: Record<string, number> = {};
  for (const [id, expiresAt] of Object.entries(s.halfOpen.leases)) {
    if (expiresAt <= now) expired += 1;
    else leases[id] = expiresAt;
  }
  if (expired === 0) return s;
  return { ...s, halfOpen: { ...s.halfOpen, attempts: s.halfOpen.attempts - expired, leases } };
}

function earliestLease(s: HalfOpenState): number | null {
  const all = Object.values(s.halfOpen.leases);
  return all.length ? Math.min(...all) : null;
}

export function acquire(cfg: BreakerConfig, s0: BreakerState, now: number, leaseMs: number): Step<Decision> {
  let t: Transition | null = null;
  if (s0.state === 'closed') {
    const permit: Permit = { breaker: cfg.collectorName, epoch: s0.epoch, probeId: null, issuedAt: now, leaseExpiresAt: null };
    if (s0.incarnation !== undefined) permit.incarnation = s0.incarnation;
    return { state: s0, result: { allowed: true, state: 'closed', probe: false, permit }, transition: null };
  }
  let s: HalfOpenState;
  if (s0.state === 'open') {
    const until = openUntil(s0);
    if (until === null) return { state: s0, result: { allowed: false, state: 'open', retryAfterMs: null }, transition: null };
    if (now < until) return { state: s0, result: { allowed: false, state: 'open', retryAfterMs: until - now }, transition: null };
    s = moveTo(s0, 'half-open', now);
    t = transition(cfg, s0, s, 'half-opened', now);
  } else {
    s = s0;
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

/** The totals after an outcome. Built as a literal, as closedWith: object spread costs several times more on Node 20. */
function countedIn(st: BreakerStatistics, outcome: Outcome): BreakerStatistics {
  return {
    totalFailures: outcome === 'failure' ? st.totalFailures + 1 : st.totalFailures,
    totalSuccesses: outcome === 'success' ? st.totalSuccesses + 1 : st.totalSuccesses,
    circuitOpens: st.circuitOpens,
    successfulRecoveries: st.successfulRecoveries,
    failedRecoveries: st.failedRecoveries,
    timeInOpenStateMs: st.timeInOpenStateMs,
    lastOpenTime: st.lastOpenTime,
  };
}

/**
 * A closed state with these counters, as an explicit literal rather than a spread: every outcome
 * of a closed circuit builds one, and spreading the state cost ~3.8x the calls/s of the memory
 * store's `execute` (bench:store, memory rows, 2026-12-01: 0.66 M/s spread, 2.5 M/s literal).
 * It keeps the window; an opening rule replaces it.
 */
function closedWith(s: ClosedState, stats: BreakerStatistics, failureCount: number, consecutiveSuccesses: number, lastFailureTime: number | null): ClosedState {
  const c: ClosedState = {
    v: 1,
    state: 'closed',
    forced: false,
    epoch: s.epoch,
    failureCount,
    consecutiveSuccesses,
    timeoutSeconds: s.timeoutSeconds,
    openedAt: null,
    lastFailureTime,
    lastStateChange: s.lastStateChange,
    halfOpen: s.halfOpen,
    stats,
  };
  if (s.incarnation !== undefined) c.incarnation = s.incarnation;
  if (s.window !== undefined) c.window = s.window;
  return c;
}

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
  const stats = countedIn(s0.stats, outcome);
  if (s0.state === 'closed') {
    if (!issuedIn(s0, permit) || outcome === 'ignored') {
      const kept = closedWith(s0, stats, s0.failureCount, s0.consecutiveSuccesses, s0.lastFailureTime);
      return { state: kept, result: { counted: false, state: 'closed' }, transition: null };
    }
    const counted =
      outcome === 'success'
        ? closedWith(s0, stats, 0, s0.consecutiveSuccesses + 1, s0.lastFailureTime)
        : closedWith(s0, stats, s0.failureCount + 1, 0, now);
    const verdict = openingRule(cfg).record(cfg, counted, { outcome, slow: isSlow(cfg, details?.durationMs), worker: cfg.minFailingWorkers > 1 ? workerKey(details?.worker) : '', now });
    if (verdict.window !== undefined) counted.window = verdict.window;
    else if (counted.window !== undefined) delete counted.window; // a rate window the consecutive mode finds
    if (!verdict.open) return { state: counted, result: { counted: true, state: 'closed' }, transition: null };
    const opened = moveTo(counted, 'open', now);
    return { state: opened, result: { counted: true, state: 'open' }, transition: transition(cfg, counted, opened, 'opened', now) };
  }
  const s: BreakerState = s0.state === 'half-open' ? expireLeases({ ...s0, stats }, now) : { ...s0, stats };
  const stale = (): Step<RecordResult> => ({ state: s, result: { counted: false, state: s.state }, transition: null });
  if (!issuedIn(s, permit)) return stale();

  if (s.state !== 'half-open' || permit.probeId === null) return stale();
  const key = String(permit.probeId);
  // The lease must be this permit's own: after a restore, a new probe can hold the same id.
  if (!(key in s.halfOpen.leases) || (permit.leaseExpiresAt != null && s.halfOpen.leases[key] !== permit.leaseExpiresAt)) return stale();
  const leases = { ...s.halfOpen.leases };
  delete leases[key];
  if (outcome === 'ignored') {
    const freed: HalfOpenState = { ...s, halfOpen: { ...s.halfOpen, attempts: s.halfOpen.attempts - 1, leases } };
    return { state: freed, result: { counted: false, state: 'half-open' }, transition: null };
  }

  if (outcome === 'success') {
    const successes = s.halfOpen.successes + 1;
    const probed: HalfOpenState = { ...s, consecutiveSuccesses: s.consecutiveSuccesses + 1, halfOpen: { ...s.halfOpen, successes, leases } };
    if (successes < cfg.halfOpenSuccessThreshold) return { state: probed, result: { counted: true, state: 'half-open' }, transition: null };
    const closed = moveTo(probed, 'closed', now);
    const recovered: ClosedState = {
      ...closed,
      failureCount: 0,
      timeoutSeconds: cfg.timeoutSeconds,
      stats: { ...closed.stats, successfulRecoveries: closed.stats.successfulRecoveries + 1 },
    };
    return { state: recovered, result: { counted: true, state: 'closed' }, transition: transition(cfg, probed, recovered, 'recovered', now) };
  }

  const backedOff = Math.min(Math.floor(s.timeoutSeconds * cfg.backoffMultiplier), cfg.maxTimeoutSeconds);
  const failed: HalfOpenState = {
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
    // Already open (forced or not): the same open period, a new epoch; else it opens now.
    const opened: OpenState = s.state === 'open' ? { ...s, forced: false, epoch: s.epoch + 1, lastStateChange: now } : moveTo(s, 'open', now);
    const forced: ForcedOpenState = { ...opened, forced: true };
    return { state: forced, result: null, transition: transition(cfg, s, forced, 'forced-open', now) };
  }
  const closed = moveTo(s, 'closed', now);
  const cleared: ClosedState = {
    ...closed,
    failureCount: 0,
    consecutiveSuccesses: 0,
    timeoutSeconds: cfg.timeoutSeconds,
    lastFailureTime: cmd === 'reset' ? null : s.lastFailureTime,
  };
  return { state: cleared, result: null, transition: transition(cfg, s, cleared, cmd === 'reset' ? 'reset' : 'forced-closed', now) };
}
