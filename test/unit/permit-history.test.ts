// A permit is tied to the history it was issued in: its epoch and, once the store gave the state
// one, its incarnation. An outcome of a permit from another incarnation (the key was deleted and
// recreated, an older value restored) counts in the totals and moves no state.
import { describe, expect, it } from 'vitest';
import { acquire, initialState, parseBreakerConfig, record, type BreakerState, type Permit } from '../../src/breaker';

const cfg = parseBreakerConfig({ collectorName: 'history', failureThreshold: 2, timeoutSeconds: 1, halfOpenMaxCalls: 1, halfOpenSuccessThreshold: 1 });
const T = 1_700_000_000_000;

function admitted(s: BreakerState, now: number): { s: BreakerState; p: Permit } {
  const a = acquire(cfg, s, now, 10_000);
  if (!a.result.allowed) throw new Error('expected admission');
  return { s: a.state, p: a.result.permit };
}

describe('permits and incarnations', () => {
  it('a permit carries the incarnation of the state it was issued from', () => {
    expect(admitted({ ...initialState(cfg), incarnation: 'a1' }, T).p.incarnation).toBe('a1');
    expect(admitted(initialState(cfg), T).p.incarnation).toBeUndefined();
  });

  it('an outcome of a permit from another incarnation counts in the totals only', () => {
    const old = admitted({ ...initialState(cfg), incarnation: 'a1' }, T);
    const fresh: BreakerState = { ...initialState(cfg), incarnation: 'b2' };
    for (const outcome of ['failure', 'success'] as const) {
      const r = record(cfg, fresh, old.p, outcome, T + 1);
      expect(r.result.counted).toBe(false);
      expect(r.state.failureCount).toBe(0);
      expect(r.state.consecutiveSuccesses).toBe(0);
      expect(r.state.stats.totalFailures + r.state.stats.totalSuccesses).toBe(1);
    }
  });

  it('a probe from another incarnation cannot close the circuit nor free a current probe', () => {
    let s: BreakerState = { ...initialState(cfg), incarnation: 'a1' };
    for (let i = 0; i < 2; i++) {
      const c = admitted(s, T);
      s = record(cfg, c.s, c.p, 'failure', T).state;
    }
    const lost = admitted(s, T + 1000); // half-open, probe 0 of incarnation a1
    const current = admitted({ ...s, incarnation: 'b2' }, T + 1000); // the same numbers in another history
    expect([lost.p.epoch, lost.p.probeId]).toEqual([current.p.epoch, current.p.probeId]);
    const r = record(cfg, current.s, lost.p, 'success', T + 1001);
    expect(r.result).toEqual({ counted: false, state: 'half-open' });
    expect(r.state.halfOpen.leases).toEqual(current.s.halfOpen.leases);
  });

  it('a permit without an incarnation (issued before the state had one) is checked by its epoch alone', () => {
    const p = admitted(initialState(cfg), T).p;
    const r = record(cfg, { ...initialState(cfg), incarnation: 'b2' }, p, 'failure', T + 1);
    expect(r.result).toEqual({ counted: true, state: 'closed' });
    expect(r.state.failureCount).toBe(1);
  });
});
