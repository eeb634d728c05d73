// When to open: the consecutive rule (the seed's), the count and time windows with their failure
// and slow-call rates, and the quorum of failing workers. Pure model; the stores are held to the
// same results by the conformance suite (test/store/conformance.ts).
import { describe, expect, it } from 'vitest';
import {
  acquire,
  BreakerConfigError,
  decodeState,
  encodeState,
  initialState,
  parseBreakerConfig,
  record,
  toStatus,
  workerKey,
  type BreakerConfig,
  type BreakerConfigInput,
  type BreakerState,
  type OutcomeDetails,
} from '../../src/breaker';

const T = Date.UTC(2026, 0, 1, 12);

/** One call: acquire, then record `outcome` with `details`; returns the state and whether it opened. */
function call(cfg: BreakerConfig, s: BreakerState, now: number, outcome: 'success' | 'failure', details?: OutcomeDetails): { s: BreakerState; opened: boolean } {
  const a = acquire(cfg, s, now, 1000);
  if (!a.result.allowed) throw new Error(`rejected at ${now}`);
  const r = record(cfg, a.state, a.result.permit, outcome, now, details);
  return { s: r.state, opened: r.transition?.event === 'opened' };
}

/** 30 % failures, spread so that no two come in a row: 3 in every 10. */
const thirtyPercent = (i: number): 'success' | 'failure' => ([1, 4, 7].includes(i % 10) ? 'failure' : 'success');

function run(input: Omit<BreakerConfigInput, 'collectorName'>, calls: number, outcomeOf: (i: number) => 'success' | 'failure', stepMs = 100, details: (i: number) => OutcomeDetails | undefined = () => undefined) {
  const cfg = parseBreakerConfig({ collectorName: 'rules', ...input });
  let s = initialState(cfg);
  for (let i = 0; i < calls; i++) {
    if (s.state !== 'closed') return { cfg, s, openedAt: i - 1 };
    const r = call(cfg, s, T + i * stepMs, outcomeOf(i), details(i));
    s = r.s;
    if (r.opened) return { cfg, s, openedAt: i };
  }
  return { cfg, s, openedAt: null };
}

describe('when to open', () => {
  it('a 30 % error rate never opens the consecutive mode, and opens both rate modes once the window holds the minimum', () => {
    expect(run({}, 2000, thirtyPercent).openedAt).toBeNull();
    const count = run({ mode: 'count-window', windowSize: 20, minimumNumberOfCalls: 20, failureRateThreshold: 30 }, 2000, thirtyPercent);
    // calls 0..19 already hold 6 failures (30 %), but only a failure re-evaluates: call 21 (calls 2..21 hold 6)
    expect(count.openedAt).toBe(21);
    const time = run({ mode: 'time-window', windowSize: 10, minimumNumberOfCalls: 50, failureRateThreshold: 30 }, 2000, thirtyPercent);
    // 10 calls a second in 1 s buckets: call 51 is the first failure with ≥ 50 calls in the window (16 of 52, 30.8 %)
    expect(time.openedAt).toBe(51);
    expect(time.s.stats.circuitOpens).toBe(1);
  });

  it('below the threshold, or before the minimum number of calls, a rate mode stays closed', () => {
    expect(run({ mode: 'count-window', windowSize: 20, minimumNumberOfCalls: 20, failureRateThreshold: 35 }, 3000, thirtyPercent).openedAt).toBeNull();
    // every call fails, but the window never holds the minimum (it holds 10)
    expect(run({ mode: 'count-window', windowSize: 10, minimumNumberOfCalls: 10, failureRateThreshold: 100 }, 9, () => 'failure').openedAt).toBeNull();
    expect(run({ mode: 'count-window', windowSize: 10, minimumNumberOfCalls: 10, failureRateThreshold: 100 }, 10, () => 'failure').openedAt).toBe(9);
  });

  it('slow calls open on the slow-call rate whether they succeed or fail; a fast success never opens', () => {
    const slow = (i: number) => ({ durationMs: i % 2 === 0 ? 25_000 : 200 });
    const r = run({ mode: 'time-window', windowSize: 60, minimumNumberOfCalls: 10, slowCallDurationMs: 5_000, slowCallRateThreshold: 50 }, 100, () => 'success', 100, slow);
    expect(r.openedAt).toBe(10); // call 10 (slow) makes 6 slow calls out of 11
    expect(toStatus(r.cfg, r.s, T).statistics.total_failures).toBe(0);
    // a failure counts as slow too (its duration is what it is)
    const f = run({ mode: 'count-window', windowSize: 4, minimumNumberOfCalls: 4, failureRateThreshold: 100, slowCallDurationMs: 1000, slowCallRateThreshold: 50 }, 100, (i) => (i % 4 === 3 ? 'failure' : 'success'), 100, (i) => ({ durationMs: i % 4 === 3 || i % 4 === 2 ? 1000 : 10 }));
    expect(f.openedAt).toBe(3);
    // no duration: never slow
    expect(run({ mode: 'count-window', windowSize: 4, minimumNumberOfCalls: 1, slowCallDurationMs: 1, slowCallRateThreshold: 1 }, 50, () => 'success').openedAt).toBeNull();
  });

  it('quorum: failures from one worker never open the circuit; a second failing worker does', () => {
    const q = { mode: 'count-window' as const, windowSize: 10, minimumNumberOfCalls: 5, failureRateThreshold: 50, minFailingWorkers: 2 };
    const sick = run(q, 200, () => 'failure', 100, () => ({ worker: '4242@host-a' }));
    expect(sick.openedAt).toBeNull();
    expect(toStatus(sick.cfg, sick.s, T)).toMatchObject({ state: 'closed', failure_rate: 100, window_calls: 10, failing_workers: 1 });
    const two = run(q, 200, () => 'failure', 100, (i) => ({ worker: i < 50 ? '4242@host-a' : '77@host-b' }));
    expect(two.openedAt).toBe(50);
    // a worker whose failures left the window no longer counts toward the quorum
    const cfg = parseBreakerConfig({ collectorName: 'q', ...q });
    let s = initialState(cfg);
    s = call(cfg, s, T, 'failure', { worker: 'b' }).s;
    for (let i = 1; i <= 10; i++) s = call(cfg, s, T + i, 'success', { worker: 'a' }).s;
    // b's failure has left the 10-call window: a's 5 failures (50 %) are one worker's
    for (let i = 11; i <= 15; i++) s = call(cfg, s, T + i, 'failure', { worker: 'a' }).s;
    expect(s.state).toBe('closed');
    expect(toStatus(cfg, s, T + 15)).toMatchObject({ failure_rate: 50, failing_workers: 1 });
    expect(call(cfg, s, T + 16, 'failure', { worker: 'b' }).opened).toBe(true);
    // time window too
    const tq = run({ ...q, mode: 'time-window', windowSize: 30 }, 200, () => 'failure', 100, (i) => ({ worker: i < 20 ? 'a' : 'b' }));
    expect(tq.openedAt).toBe(20);
  });

  it("a time window's state stays small at any call rate, and a count window's is one byte per call", () => {
    const cfg = parseBreakerConfig({ collectorName: 'size', mode: 'time-window', windowSize: 3600, minimumNumberOfCalls: 1e9, minFailingWorkers: 16 });
    let s = initialState(cfg);
    // a million calls an hour, in every bucket, from 40 workers (the quorum remembers 16)
    for (let i = 0; i < 200_000; i++) s = call(cfg, s, T + i * 20, i % 3 === 0 ? 'failure' : 'success', { worker: `worker-${i % 40}@a-rather-long-hostname.example.internal`, durationMs: i % 7 === 0 ? 70_000 : 5 }).s;
    const w = s.state === 'closed' ? s.window : undefined;
    expect(w?.kind === 'time' && w.buckets.length).toBe(20);
    expect(Object.keys(w!.workers)).toHaveLength(16);
    expect(Buffer.byteLength(encodeState(s))).toBeLessThan(2048);
  });

  it('a value without a window (written by the consecutive mode, or before the rate modes) reads, and a rate mode starts its window from it', () => {
    const plain = initialState(parseBreakerConfig({ collectorName: 'old' }));
    const d = decodeState(encodeState(plain));
    expect(d).toEqual({ ok: true, state: plain });
    const cfg = parseBreakerConfig({ collectorName: 'old', mode: 'count-window', windowSize: 5, minimumNumberOfCalls: 2 });
    const s = call(cfg, plain, T, 'success').s;
    expect(s.state === 'closed' && s.window).toEqual({ kind: 'count', size: 5, seq: 1, workers: {}, ring: 'o' });
    const back = decodeState(encodeState(s));
    expect(back.ok && back.state).toEqual(JSON.parse(encodeState(s)));
    // the consecutive mode drops a window it finds
    const c = call(parseBreakerConfig({ collectorName: 'old' }), s, T, 'failure').s;
    expect(c.state === 'closed' ? c.window : 'not closed').toBeUndefined();
    // a corrupt window is a corrupt value
    expect(decodeState(JSON.stringify({ ...s, window: { kind: 'count', size: 5, seq: 1, workers: {}, ring: 'oops' } })).ok).toBe(false);
  });

  it('every change of state drops the window; the status adds the rates in a rate mode only', () => {
    const r = run({ mode: 'count-window', windowSize: 4, minimumNumberOfCalls: 4 }, 100, () => 'failure');
    expect(r.s.state).toBe('open');
    expect(r.s).not.toHaveProperty('window');
    expect(toStatus(r.cfg, r.s, T)).toMatchObject({ mode: 'count-window', failure_rate: 0, slow_call_rate: 0, window_calls: 0 });
    const consecutive = toStatus(parseBreakerConfig({ collectorName: 'c' }), initialState(parseBreakerConfig({ collectorName: 'c' })), T);
    expect(Object.keys(consecutive)).not.toContain('failure_rate');
    expect(Object.keys(consecutive)).not.toContain('mode');
    // a time window's status counts only what is still in the window at `now`
    const cfg = parseBreakerConfig({ collectorName: 't', mode: 'time-window', windowSize: 10, minimumNumberOfCalls: 100 });
    let s = initialState(cfg);
    for (let i = 0; i < 10; i++) s = call(cfg, s, T + i * 1000, i < 3 ? 'failure' : 'success').s;
    expect(toStatus(cfg, s, T + 9_000)).toMatchObject({ window_calls: 10, failure_rate: 30 });
    expect(toStatus(cfg, s, T + 12_000)).toMatchObject({ window_calls: 7, failure_rate: 0 });
    expect(toStatus(cfg, s, T + 60_000)).toMatchObject({ window_calls: 0 });
  });

  it('worker keys are 8 hex digits of the UTF-8 identity', () => {
    expect(workerKey(undefined)).toBe('00001505');
    expect(workerKey('a')).toBe((5381 * 33 + 97).toString(16).padStart(8, '0'));
    expect(workerKey('wörker')).toMatch(/^[0-9a-f]{8}$/);
    expect(workerKey('1234@host')).not.toBe(workerKey('1235@host'));
  });
});

describe('rate-mode configuration', () => {
  const issues = (input: Record<string, unknown>) => {
    try {
      parseBreakerConfig({ collectorName: 'x', ...input });
    } catch (e) {
      return (e as BreakerConfigError).issues;
    }
    return [];
  };
  it.each([
    [{ mode: 'rolling' }, 'mode', 'mode must be one of consecutive, count-window, time-window'],
    [{ mode: 'count-window', windowSize: 1001, minimumNumberOfCalls: 10 }, 'windowSize', 'windowSize (1001) must be at most 1000 calls in count-window mode'],
    [{ mode: 'time-window', windowSize: 3601 }, 'windowSize', 'windowSize must be at most 3600'],
    [{ mode: 'count-window', windowSize: 10 }, 'minimumNumberOfCalls', 'minimumNumberOfCalls (100) must be ≤ windowSize (10): a count window never holds more calls'],
    [{ failureRateThreshold: 0 }, 'failureRateThreshold', 'failureRateThreshold must be greater than 0 (a percentage)'],
    [{ slowCallRateThreshold: 120 }, 'slowCallRateThreshold', 'slowCallRateThreshold must be at most 100 (a percentage)'],
    [{ slowCallDurationMs: 0.5 }, 'slowCallDurationMs', 'slowCallDurationMs must be a whole number'],
    [{ minFailingWorkers: 2 }, 'minFailingWorkers', 'minFailingWorkers (2) needs a window: set mode to count-window or time-window'],
    [{ mode: 'time-window', minFailingWorkers: 17 }, 'minFailingWorkers', 'minFailingWorkers must be at most 16'],
  ])('%j → %s', (input, field, message) => {
    expect(issues(input)).toContainEqual({ field, message });
  });

  it('a time window of more than 20 seconds keeps 20 buckets; a count window of 10 calls with 10 as its minimum is valid', () => {
    expect(() => parseBreakerConfig({ collectorName: 'x', mode: 'count-window', windowSize: 10, minimumNumberOfCalls: 10, minFailingWorkers: 3 })).not.toThrow();
    expect(parseBreakerConfig({ collectorName: 'x', mode: 'time-window', windowSize: 60 }).minimumNumberOfCalls).toBe(100);
  });
});
