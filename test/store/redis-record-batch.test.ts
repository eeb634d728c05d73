// Outcomes that finish while MAX_RECORDS_IN_FLIGHT records of the same breaker are in flight go
// to Redis together, in one script call that applies them in order, each as if it had been sent
// alone (group commit, src/store/script-store.ts). Counted on a real client through a spy that
// only observes.
import Redis from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { CircuitBreaker, RedisBreakerStore, silentLogger, type Permit, type Transition } from '../../src';
import { MAX_RECORDS_IN_FLIGHT } from '../../src/store/script-store';
import { redisUrl } from '../helpers/redis';
import { scriptCallSpy } from '../helpers/script-calls';

const redis = new Redis(redisUrl());
afterAll(() => redis.quit());
const T0 = Date.UTC(2026, 5, 1);
const PREFIX = 'record-batch:';
let seq = 0;
const unique = (label: string) => `${label}-${process.pid}-${Date.now()}-${seq++}`;

type Fn = (...a: unknown[]) => Promise<unknown>;

/** Counts script calls and the outcomes each carried (8 arguments per outcome after the first 6). */
function observed(client: Redis) {
  const calls: number[] = [];
  const spy = new Proxy(client, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target) as unknown;
      if (typeof v !== 'function') return v;
      const script = scriptCallSpy(target, prop, v as Fn, (a) => {
        if (a[1] === 'record') calls.push((a.length - 6) / 8);
      });
      if (script) return script;
      return (v as Fn).bind(target);
    },
  });
  return { spy: spy as unknown as Redis, calls };
}

function setup(failureThreshold = 5) {
  const o = observed(redis);
  const transitions: Transition[] = [];
  const store = new RedisBreakerStore({ redis: o.spy, keyPrefix: PREFIX, logger: silentLogger, timeoutMs: 5_000 });
  const breaker = new CircuitBreaker({ collectorName: unique('batch'), failureThreshold, timeoutSeconds: 60 }, store, { onTransition: (t) => transitions.push(t) });
  const stored = async () => JSON.parse((await redis.get(PREFIX + breaker.name))!) as { state: string; epoch: number; stats: { totalSuccesses: number; totalFailures: number; circuitOpens: number } };
  return { breaker, transitions, stored, calls: o.calls };
}

/** The first MAX_RECORDS_IN_FLIGHT outcomes go alone; the rest wait for one of them to answer. */
const alone = Array(MAX_RECORDS_IN_FLIGHT).fill(1) as number[];

const permits = async (b: CircuitBreaker, n: number, now: number): Promise<Permit[]> =>
  Promise.all(
    Array.from({ length: n }, async () => {
      const d = await b.acquire(now);
      if (!d.allowed) throw new Error('expected admission');
      return d.permit;
    }),
  );

describe('records sent together (group commit)', () => {
  it('one caller at a time: one script call per outcome, never a wait', async () => {
    const t = setup();
    for (let i = 0; i < 10; i++) {
      const [p] = await permits(t.breaker, 1, T0 + i);
      await t.breaker.recordSuccess(p, T0 + i);
    }
    expect(t.calls).toEqual(Array(10).fill(1));
    expect((await t.stored()).stats.totalSuccesses).toBe(10);
  });

  it('outcomes finished while one is in flight go in one call, in order, each counted as if alone', async () => {
    const t = setup();
    const ps = await permits(t.breaker, 40, T0);
    const results = await Promise.all(ps.map((p, i) => t.breaker.recordSuccess(p, T0 + i)));
    expect(results).toEqual(Array(40).fill({ counted: true, state: 'closed' }));
    // the first ones alone, then the ones that queued behind them
    expect(t.calls).toEqual([...alone, 40 - MAX_RECORDS_IN_FLIGHT]);
    expect(await t.stored()).toMatchObject({ state: 'closed', stats: { totalSuccesses: 40, totalFailures: 0 } });
  });

  it('the failure that opens a circuit mid-batch opens it once; the outcomes after it in the same call count in the totals only', async () => {
    const t = setup(5);
    const ps = await permits(t.breaker, 12, T0);
    const results = await Promise.all(ps.map((p, i) => t.breaker.recordFailure(p, T0 + i)));
    expect(t.calls).toEqual([...alone, 12 - MAX_RECORDS_IN_FLIGHT]);
    // exactly as one call per outcome in this order: the 5th opens, the 7 after it are stale
    expect(results.map((r) => `${r.counted}:${r.state}`)).toEqual([...Array(4).fill('true:closed'), 'true:open', ...Array(7).fill('false:open')]);
    expect(t.transitions.map((x) => x.event)).toEqual(['opened']);
    expect(t.transitions[0]).toMatchObject({ from: 'closed', to: 'open', at: T0 + 4, timeoutSeconds: 60 });
    const s = await t.stored();
    expect(s).toMatchObject({ state: 'open', stats: { totalFailures: 12, circuitOpens: 1 } });
    expect(t.transitions[0].epoch).toBe(s.epoch);
  });

  it('a batch bigger than the bound goes in several calls of at most 64 outcomes', async () => {
    const t = setup(1_000);
    const ps = await permits(t.breaker, 200, T0);
    await Promise.all(ps.map((p, i) => t.breaker.recordSuccess(p, T0 + i)));
    expect(t.calls.every((n) => n <= 64)).toBe(true);
    expect(t.calls.reduce((a, b) => a + b, 0)).toBe(200);
    expect(t.calls.slice(0, MAX_RECORDS_IN_FLIGHT)).toEqual(alone);
    expect((await t.stored()).stats.totalSuccesses).toBe(200);
  });

  it("an outcome's own now is the one recorded (the open time is the opening failure's)", async () => {
    const t = setup(2);
    const ps = await permits(t.breaker, MAX_RECORDS_IN_FLIGHT + 2, T0);
    const first = ps.slice(0, MAX_RECORDS_IN_FLIGHT).map((p, i) => t.breaker.recordSuccess(p, T0 + i));
    const [a, b] = ps.slice(MAX_RECORDS_IN_FLIGHT);
    await Promise.all([...first, t.breaker.recordFailure(a, T0 + 200), t.breaker.recordFailure(b, T0 + 300)]);
    expect(t.calls).toEqual([...alone, 2]);
    expect(JSON.parse((await redis.get(PREFIX + t.breaker.name))!)).toMatchObject({ state: 'open', openedAt: T0 + 300, lastFailureTime: T0 + 300 });
  });
});
