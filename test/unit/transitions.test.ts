import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  acquire,
  BreakerConfigError,
  command,
  decodeState,
  encodeState,
  initialState,
  parseBreakerConfig,
  record,
  type BreakerState,
  type Permit,
} from '../../src/breaker';

const cfg = parseBreakerConfig({ collectorName: 'glassnode' });
const T = 1_700_000_000_000;

function openState(): BreakerState {
  let s = initialState(cfg);
  for (let i = 0; i < 5; i++) {
    const a = acquire(cfg, s, T, 1000);
    if (!a.result.allowed) throw new Error('closed must admit');
    s = record(cfg, a.state, a.result.permit, 'failure', T).state;
  }
  return s;
}

function probe(s: BreakerState, now: number, leaseMs = 1000): { s: BreakerState; p: Permit } {
  const a = acquire(cfg, s, now, leaseMs);
  if (!a.result.allowed) throw new Error('expected a probe');
  return { s: a.state, p: a.result.permit };
}

describe('permits and generations', () => {
  it('a late outcome of a closed-state call counts in the totals and moves no state', () => {
    let s = initialState(cfg);
    const late = acquire(cfg, s, T, 1000);
    if (!late.result.allowed) throw new Error();
    s = openState();
    const r = record(cfg, s, late.result.permit, 'failure', T + 1);
    expect(r.result.counted).toBe(false);
    expect(r.transition).toBeNull();
    expect(r.state.stats.totalFailures).toBe(s.stats.totalFailures + 1);
    expect({ ...r.state, stats: s.stats }).toEqual(s);
  });

  it('opens exactly once however many closed-state failures arrive', () => {
    let s = initialState(cfg);
    const permits: Permit[] = [];
    for (let i = 0; i < 20; i++) {
      const a = acquire(cfg, s, T, 1000);
      if (a.result.allowed) permits.push(a.result.permit);
    }
    for (const p of permits) s = record(cfg, s, p, 'failure', T).state;
    expect(s.stats.circuitOpens).toBe(1);
    expect(s.stats.totalFailures).toBe(20);
    expect(s.failureCount).toBe(5);
  });

  it('an expired probe lease frees its slot without counting, and its late outcome is stale', () => {
    const first = probe(openState(), T + 300_000, 1000);
    const p = first.p;
    let s = probe(first.s, T + 300_000).s;
    s = probe(s, T + 300_000).s;
    expect(acquire(cfg, s, T + 300_500, 1000).result).toEqual({ allowed: false, state: 'half-open', retryAfterMs: 500 });
    const again = acquire(cfg, s, T + 301_000, 1000);
    expect(again.result).toMatchObject({ allowed: true, probe: true });
    expect(again.state.halfOpen.attempts).toBe(1);
    const late = record(cfg, again.state, p, 'failure', T + 301_001);
    expect(late.result.counted).toBe(false);
    expect(late.state.state).toBe('half-open');
  });

  it('an ignored probe outcome frees its slot; an ignored closed outcome changes nothing', () => {
    const { s, p } = probe(openState(), T + 300_000);
    const r = record(cfg, s, p, 'ignored', T + 300_001);
    expect(r.state.halfOpen.attempts).toBe(0);
    expect(r.state.stats).toEqual(s.stats);
    const c = initialState(cfg);
    const a = acquire(cfg, c, T, 1000);
    if (!a.result.allowed) throw new Error();
    expect(record(cfg, c, a.result.permit, 'ignored', T).state).toEqual(c);
  });

  it('forceOpen never turns half-open by itself; forceClose keeps the last failure time, reset clears it', () => {
    const forced = command(cfg, openState(), 'forceOpen', T + 1).state;
    expect(forced.stats.circuitOpens).toBe(1);
    expect(acquire(cfg, forced, T + 10 * 86_400_000, 1000).result).toEqual({ allowed: false, state: 'open', retryAfterMs: null });
    const closed = command(cfg, forced, 'forceClose', T + 2).state;
    expect(closed.lastFailureTime).toBe(T);
    expect(closed.stats.timeInOpenStateMs).toBe(2);
    expect(command(cfg, forced, 'reset', T + 2).state.lastFailureTime).toBeNull();
  });
});

describe('invariants (property-based)', () => {
  it('attempts never exceed halfOpenMaxCalls and the timeout stays within [base, max]', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('acq', 'ok', 'fail', 'adv', 'cmd'), fc.nat(1000)), { maxLength: 200, size: 'max' }),
        (ops) => {
          let s = initialState(cfg);
          let now = T;
          const permits: Permit[] = [];
          for (const [op, n] of ops) {
            if (op === 'adv') now += n * 1000;
            else if (op === 'acq') {
              const a = acquire(cfg, s, now, 30_000);
              s = a.state;
              if (a.result.allowed) permits.push(a.result.permit);
            } else if (op === 'cmd') s = command(cfg, s, (['forceOpen', 'forceClose', 'reset'] as const)[n % 3], now).state;
            else if (permits.length) s = record(cfg, s, permits.splice(n % permits.length, 1)[0], op === 'ok' ? 'success' : 'failure', now).state;
            expect(s.halfOpen.attempts).toBeLessThanOrEqual(cfg.halfOpenMaxCalls);
            expect(s.halfOpen.attempts).toBeGreaterThanOrEqual(0);
            expect(s.timeoutSeconds).toBeGreaterThanOrEqual(cfg.timeoutSeconds);
            expect(s.timeoutSeconds).toBeLessThanOrEqual(cfg.maxTimeoutSeconds);
            expect(decodeState(encodeState(s))).toEqual({ ok: true, state: s });
          }
        },
      ),
    );
  });
});

describe('serialization', () => {
  it('round-trips every state', () => {
    const closed = initialState(cfg);
    const open = openState();
    const half = probe(open, T + 300_000).s;
    const forced = command(cfg, half, 'forceOpen', T + 300_001).state;
    for (const s of [closed, open, half, forced]) expect(decodeState(encodeState(s))).toEqual({ ok: true, state: s });
  });

  it('reports why a stored value is corrupt and keeps readable statistics', () => {
    expect(decodeState('{nope')).toMatchObject({ ok: false, stats: null });
    const s = openState();
    const bad = decodeState(JSON.stringify({ ...s, state: 'sideways' }));
    expect(bad).toMatchObject({ ok: false, stats: s.stats });
    if (!bad.ok) expect(bad.reason).toContain('state');
    const noOpening = decodeState(JSON.stringify({ ...s, openedAt: null }));
    expect(noOpening).toMatchObject({ ok: false, stats: s.stats });
    if (!noOpening.ok) expect(noOpening.reason).toContain('openedAt: an open circuit needs its opening time');
  });
});

describe('configuration', () => {
  it('applies the seed defaults', () => {
    expect(parseBreakerConfig({ collectorName: 'moralis' })).toEqual({
      collectorName: 'moralis',
      failureThreshold: 5,
      timeoutSeconds: 300,
      halfOpenMaxCalls: 3,
      halfOpenSuccessThreshold: 2,
      backoffMultiplier: 1.5,
      maxTimeoutSeconds: 3600,
      mode: 'consecutive',
      windowSize: 100,
      minimumNumberOfCalls: 100,
      failureRateThreshold: 50,
      slowCallDurationMs: 60_000,
      slowCallRateThreshold: 100,
      minFailingWorkers: 1,
    });
  });

  it.each([
    [{ collectorName: 'bad name!' }, 'collectorName: collectorName must match [A-Za-z0-9_.-]+'],
    [{ collectorName: 'x', failureThreshold: 0 }, 'failureThreshold: failureThreshold must be greater than 0'],
    [{ collectorName: 'x', timeoutSeconds: 1.5 }, 'timeoutSeconds: timeoutSeconds must be a whole number'],
    [{ collectorName: 'x', halfOpenMaxCalls: 2, halfOpenSuccessThreshold: 3 }, 'halfOpenSuccessThreshold: halfOpenSuccessThreshold (3) must be ≤ halfOpenMaxCalls (2)'],
    [{ collectorName: 'x', backoffMultiplier: 0.5 }, 'backoffMultiplier: backoffMultiplier must be at least 1'],
    [{ collectorName: 'x', maxTimeoutSeconds: 10 }, 'maxTimeoutSeconds: maxTimeoutSeconds (10) must be ≥ timeoutSeconds (300)'],
    [{ collectorName: 'x', failureTreshold: 3 }, 'failureTreshold'],
    [{ failureThreshold: 'five' }, 'failureThreshold: failureThreshold must be a number'],
  ])('rejects %j naming the field and the rule', (input, message) => {
    expect(() => parseBreakerConfig(input)).toThrow(BreakerConfigError);
    expect(() => parseBreakerConfig(input)).toThrow(message);
  });
});
