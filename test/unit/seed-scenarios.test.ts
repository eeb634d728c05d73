// The seed specification's eight tests, with an injected clock, on the memory store.
// (The Redis-store versions run in test/store; the Temporal versions in test/temporal.)
import { describe, expect, it } from 'vitest';
import { CircuitBreaker, MemoryBreakerStore, type Permit } from '../../src';

const T0 = Date.UTC(2025, 10, 11, 13, 20, 0);

function setup(overrides: Record<string, unknown> = {}) {
  const clock = { now: T0 };
  const store = new MemoryBreakerStore();
  const breaker = new CircuitBreaker({ collectorName: 'moralis', ...overrides }, store, { clock: () => clock.now });
  const advance = (seconds: number) => (clock.now += seconds * 1000);
  const call = async (ok: boolean) => {
    const d = await breaker.acquire();
    if (!d.allowed) return d;
    if (ok) await breaker.recordSuccess(d.permit);
    else await breaker.recordFailure(d.permit);
    return d;
  };
  const fail = async (n: number) => {
    for (let i = 0; i < n; i++) await call(false);
  };
  return { clock, store, breaker, advance, call, fail };
}

async function openThenHalfOpen(t: ReturnType<typeof setup>): Promise<Permit> {
  await t.fail(5);
  t.advance((await t.breaker.getStatus()).timeout_seconds);
  const d = await t.breaker.acquire();
  if (!d.allowed) throw new Error('expected a probe');
  return d.permit;
}

describe('seed 1: basic failure tracking', () => {
  it('stays closed below the threshold and opens at it', async () => {
    const t = setup();
    await t.fail(4);
    let s = await t.breaker.getStatus();
    expect(s.state).toBe('closed');
    expect(s.failure_count).toBe(4);
    await t.fail(1);
    s = await t.breaker.getStatus();
    expect(s.state).toBe('open');
    expect(s.failure_count).toBe(5);
    expect(s.statistics.circuit_opens).toBe(1);
    expect(s.last_failure_time).toBe('2025-11-11T13:20:00Z');
    const d = await t.breaker.acquire();
    expect(d).toEqual({ allowed: false, state: 'open', retryAfterMs: 300_000 });
  });

  it('a success resets the consecutive failure count', async () => {
    const t = setup();
    await t.fail(4);
    await t.call(true);
    await t.fail(4);
    expect((await t.breaker.getStatus()).state).toBe('closed');
  });
});

describe('seed 2: half-open entry', () => {
  it('turns half-open when the timeout has elapsed, admitting the request as the first probe', async () => {
    const t = setup();
    await t.fail(5);
    t.advance(299);
    expect((await t.breaker.acquire()).allowed).toBe(false);
    t.advance(1);
    const d = await t.breaker.acquire();
    expect(d).toMatchObject({ allowed: true, state: 'half-open', probe: true });
    const s = await t.breaker.getStatus();
    expect(s.state).toBe('half-open');
    expect(s.half_open.attempts).toBe(1);
    expect(s.statistics.time_in_open_state).toBe(300);
    expect(s.last_state_change).toBe('2025-11-11T13:25:00Z');
  });

  it('admits at most halfOpenMaxCalls probes', async () => {
    const t = setup();
    await openThenHalfOpen(t);
    expect((await t.breaker.acquire()).allowed).toBe(true);
    expect((await t.breaker.acquire()).allowed).toBe(true);
    const d = await t.breaker.acquire();
    expect(d.allowed).toBe(false);
    expect(d.state).toBe('half-open');
  });
});

describe('seed 3: gradual recovery success', () => {
  it('closes after 2 successful probes out of 3', async () => {
    const t = setup();
    const p1 = await openThenHalfOpen(t);
    await t.breaker.recordSuccess(p1);
    let s = await t.breaker.getStatus();
    expect(s.state).toBe('half-open');
    expect(s.half_open).toEqual({ attempts: 1, successes: 1, max_calls: 3, success_threshold: 2, success_rate: 1 });
    const d2 = await t.breaker.acquire();
    if (!d2.allowed) throw new Error('expected a probe');
    await t.breaker.recordSuccess(d2.permit);
    s = await t.breaker.getStatus();
    expect(s.state).toBe('closed');
    expect(s.statistics.successful_recoveries).toBe(1);
    expect(s.failure_count).toBe(0);
    expect(s.timeout_seconds).toBe(300);
  });
});

describe('seed 4: failed recovery', () => {
  it('reopens on a probe failure and backs off the timeout', async () => {
    const t = setup();
    const p = await openThenHalfOpen(t);
    await t.breaker.recordFailure(p);
    const s = await t.breaker.getStatus();
    expect(s.state).toBe('open');
    expect(s.timeout_seconds).toBe(450);
    expect(s.statistics.failed_recoveries).toBe(1);
    expect(s.statistics.circuit_opens).toBe(2);
  });
});

describe('seed 5: exponential backoff', () => {
  it('follows 450, 675, 1012, 1518, 2277, 3415, 3600, 3600 and returns to base on recovery', async () => {
    const t = setup();
    await t.fail(5);
    const seen: number[] = [];
    for (let i = 0; i < 8; i++) {
      t.advance((await t.breaker.getStatus()).timeout_seconds);
      const d = await t.breaker.acquire();
      if (!d.allowed) throw new Error('expected a probe');
      await t.breaker.recordFailure(d.permit);
      seen.push((await t.breaker.getStatus()).timeout_seconds);
    }
    expect(seen).toEqual([450, 675, 1012, 1518, 2277, 3415, 3600, 3600]);
    t.advance(3600);
    for (let i = 0; i < 2; i++) {
      const d = await t.breaker.acquire();
      if (!d.allowed) throw new Error('expected a probe');
      await t.breaker.recordSuccess(d.permit);
    }
    const s = await t.breaker.getStatus();
    expect(s.state).toBe('closed');
    expect(s.timeout_seconds).toBe(300);
  });
});

describe('seed 6: manual controls', () => {
  it('forceOpen holds past the timeout, with no retry time', async () => {
    const t = setup();
    await t.breaker.forceOpen();
    t.advance(10_000);
    expect(await t.breaker.acquire()).toEqual({ allowed: false, state: 'open', retryAfterMs: null });
    expect((await t.breaker.getStatus()).forced).toBe(true);
  });

  it('forceClose closes and clears counters, keeping statistics', async () => {
    const t = setup();
    await t.call(true);
    await t.fail(5);
    await t.breaker.forceClose();
    const s = await t.breaker.getStatus();
    expect(s.state).toBe('closed');
    expect(s.failure_count).toBe(0);
    expect(s.statistics.total_failures).toBe(5);
    expect(s.statistics.total_successes).toBe(1);
    expect((await t.breaker.acquire()).allowed).toBe(true);
  });

  it('reset clears all state counters and the backoff, keeping statistics', async () => {
    const t = setup();
    const p = await openThenHalfOpen(t);
    await t.breaker.recordFailure(p);
    expect((await t.breaker.getStatus()).timeout_seconds).toBe(450);
    await t.breaker.reset();
    const s = await t.breaker.getStatus();
    expect(s).toMatchObject({ state: 'closed', failure_count: 0, consecutive_successes: 0, timeout_seconds: 300, last_failure_time: null });
    expect(s.half_open.attempts).toBe(0);
    expect(s.statistics).toMatchObject({ total_failures: 6, circuit_opens: 2, failed_recoveries: 1 });
  });
});

describe('seed 7: persistence', () => {
  it('a new breaker over the same store sees the state (the Redis version is in test/store)', async () => {
    const t = setup();
    await t.fail(5);
    const again = new CircuitBreaker({ collectorName: 'moralis' }, t.store, { clock: () => t.clock.now });
    expect((await again.getStatus()).state).toBe('open');
    expect((await again.acquire()).allowed).toBe(false);
  });
});

describe('seed 8: statistics tracking', () => {
  it('computes the health score and the seed status', async () => {
    const t = setup();
    for (let i = 0; i < 100; i++) await t.call(true);
    await t.fail(5);
    t.advance(300);
    const p = await t.breaker.acquire();
    if (!p.allowed) throw new Error('expected a probe');
    await t.breaker.recordSuccess(p.permit);
    const s = await t.breaker.getStatus();
    expect(s).toEqual({
      state: 'half-open',
      collector_name: 'moralis',
      failure_count: 5,
      consecutive_successes: 1,
      failure_threshold: 5,
      timeout_seconds: 300,
      last_failure_time: '2025-11-11T13:20:00Z',
      last_state_change: '2025-11-11T13:25:00Z',
      half_open: { attempts: 1, successes: 1, max_calls: 3, success_threshold: 2, success_rate: 1 },
      statistics: {
        total_failures: 5,
        total_successes: 101,
        circuit_opens: 1,
        successful_recoveries: 0,
        failed_recoveries: 0,
        time_in_open_state: 300,
        last_open_time: '2025-11-11T13:20:00Z',
      },
      health_score: 0.953,
      forced: false,
      open_until: null,
      base_timeout_seconds: 300,
      probes_in_flight: 0,
    });
    expect(new CircuitBreaker({ collectorName: 'x' }).config.failureThreshold).toBe(5);
  });

  it('health score is 1.0 with no calls and 0.952 for 100 successes and 5 failures', async () => {
    const t = setup({ failureThreshold: 10 });
    expect((await t.breaker.getStatus()).health_score).toBe(1);
    for (let i = 0; i < 100; i++) await t.call(true);
    await t.fail(5);
    expect((await t.breaker.getStatus()).health_score).toBe(0.952);
  });
});
