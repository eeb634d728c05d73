// Status rendering is total: a time beyond what a JavaScript Date can hold (±8.64e15 ms) renders
// as null, never as a thrown RangeError (which would make getStatus() throw and the interceptor
// run a call while its circuit is open).
import { describe, expect, it } from 'vitest';
import { command, initialState, isoSeconds, parseBreakerConfig, toStatus, type BreakerState } from '../../src/breaker';

const MAX_DATE_MS = 8.64e15;

describe('status times beyond the calendar', () => {
  it('isoSeconds renders what a Date can hold and null for anything else', () => {
    expect(isoSeconds(Date.UTC(2025, 10, 11, 13, 20, 0, 999))).toBe('2025-11-11T13:20:00Z');
    expect(isoSeconds(MAX_DATE_MS)).toBe('+275760-09-13T00:00:00Z');
    for (const t of [MAX_DATE_MS + 1000, Number.MAX_SAFE_INTEGER, Infinity, -Infinity, NaN]) expect(isoSeconds(t)).toBeNull();
    expect(isoSeconds(null)).toBeNull();
  });

  it('toStatus renders an open state whose open_until is past the largest date', () => {
    const cfg = parseBreakerConfig({ collectorName: 'calendar' });
    const openedAt = MAX_DATE_MS - 1000;
    const s: BreakerState = { ...command(cfg, initialState(cfg), 'forceOpen', openedAt).state, forced: false };
    const status = toStatus(cfg, s, openedAt + 10);
    expect(status.state).toBe('open');
    expect(status.open_until).toBeNull();
    expect(status.last_state_change).toBe(isoSeconds(openedAt));
  });
});
