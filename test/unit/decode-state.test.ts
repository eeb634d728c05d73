// Decoding a stored value: a corrupt one reports why, and keeps every statistic that can be read
// (only the bad ones are replaced). A state whose only fault is a statistic is kept as it is,
// with that statistic replaced. Values written before incarnations existed still read.
import { describe, expect, it } from 'vitest';
import { IMPOSSIBLE_STATES } from '../fixtures/impossible-states';
import { acquire, decodeState, encodeState, initialState, parseBreakerConfig, record, type BreakerState } from '../../src/breaker';

const cfg = parseBreakerConfig({ collectorName: 'decode', failureThreshold: 1 });
const T = 1_700_000_000_000;

function withStatistics(): BreakerState {
  let s = initialState(cfg);
  for (let i = 0; i < 10; i++) {
    const a = acquire(cfg, s, T + i, 1000);
    if (!a.result.allowed) throw new Error('closed must admit');
    s = record(cfg, a.state, a.result.permit, 'success', T + i).state;
  }
  const a = acquire(cfg, s, T + 20, 1000);
  if (!a.result.allowed) throw new Error('closed must admit');
  return record(cfg, a.state, a.result.permit, 'failure', T + 20).state; // open, one circuit_opens
}

describe('decodeState', () => {
  it('keeps the state and six statistics when one statistic is corrupt ("circuitOpens":"x")', () => {
    const s = withStatistics();
    const raw = JSON.stringify({ ...s, stats: { ...s.stats, circuitOpens: 'x' } });
    const d = decodeState(raw);
    expect(d.ok).toBe(false);
    if (d.ok) return;
    expect(d.reason).toMatch(/stats\.circuitOpens/);
    expect(d.stats).toEqual({ ...s.stats, circuitOpens: 0 });
    expect(d.state).toEqual({ ...s, stats: { ...s.stats, circuitOpens: 0 } });
  });

  it('keeps every readable statistic when the state itself is corrupt', () => {
    const s = withStatistics();
    const d = decodeState(JSON.stringify({ ...s, state: 'sideways', stats: { ...s.stats, lastOpenTime: -5, totalFailures: 1.5 } }));
    expect(d).toMatchObject({ ok: false, state: null, stats: { ...s.stats, lastOpenTime: null, totalFailures: 0 } });
  });

  it('reads a statistic too large for a number (1e400) as corrupt, not as Infinity', () => {
    const s = withStatistics();
    const raw = encodeState(s).replace(`"totalSuccesses":${s.stats.totalSuccesses}`, '"totalSuccesses":1e400');
    const d = decodeState(raw);
    expect(d).toMatchObject({ ok: false, stats: { ...s.stats, totalSuccesses: 0 } });
    if (!d.ok) expect(d.reason).toMatch(/stats\.totalSuccesses/);
  });

  it('reads values with and without an incarnation', () => {
    const s = withStatistics();
    expect(decodeState(encodeState(s))).toEqual({ ok: true, state: s });
    const incarnated = { ...s, incarnation: 'abc123' };
    expect(decodeState(encodeState(incarnated))).toEqual({ ok: true, state: incarnated });
  });
});

// The stored state is a discriminated union (src/breaker/state.ts): each circuit state holds only
// what it can. A value that mixes them is corrupt, in the TypeScript decoder as in the Lua
// (test/store/redis-faults.test.ts runs the same values through the script).
describe('decodeState: one shape per circuit state', () => {
  it.each(IMPOSSIBLE_STATES)('refuses %s, keeping the statistics', (_what, mutate, reason) => {
    const s = withStatistics() as unknown as Record<string, unknown>;
    const d = decodeState(JSON.stringify(mutate(s)));
    expect(d.ok).toBe(false);
    if (d.ok) return;
    expect(d.reason).toMatch(reason);
    expect(d.stats).toEqual(s.stats);
  });

  it('reads every state the model reaches: closed, open, forced open, half-open with a probe', () => {
    const open = withStatistics();
    expect(open.state).toBe('open');
    const half = acquire(cfg, open, T + 20 + cfg.timeoutSeconds * 1000, 1000).state;
    expect(half).toMatchObject({ state: 'half-open', halfOpen: { attempts: 1 } });
    const forced = { ...open, forced: true } as BreakerState;
    for (const s of [initialState(cfg), open, half, forced]) expect(decodeState(encodeState(s))).toEqual({ ok: true, state: s });
  });
});
