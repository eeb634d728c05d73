// A restored or failed-over Redis: the key deleted, or an older value put back, between a permit's
// acquire and its record. A permit is tied to the history it was issued in (its epoch, the state's
// incarnation and, for a probe, its lease), so an outcome from a lost history counts in the totals
// and never toward opening or recovery; a worker that saw the circuit not closed logs the loss.
import Redis from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { CircuitBreaker, RedisBreakerStore, type BreakerConfigInput, type Decision, type Logger } from '../../src';
import { encodeState, initialState, parseBreakerConfig } from '../../src/breaker';
import { redisUrl } from '../helpers/redis';

const redis = new Redis(redisUrl());
afterAll(() => redis.quit());
const T0 = Date.UTC(2026, 6, 1);
let seq = 0;
const PREFIX = 'history:';

function capturingLogger() {
  const warnings: { msg: string; fields: Record<string, unknown> }[] = [];
  const logger: Logger = { debug() {}, info() {}, error() {}, warn: (msg, fields = {}) => void warnings.push({ msg, fields }) };
  return { logger, warnings };
}

function setup(over: Partial<BreakerConfigInput> = {}) {
  const name = `history-${process.pid}-${Date.now()}-${seq++}`;
  const cfg = { collectorName: name, failureThreshold: 2, timeoutSeconds: 1, halfOpenMaxCalls: 1, halfOpenSuccessThreshold: 1, ...over };
  const log = capturingLogger();
  // Two workers sharing the key; snapshotMaxAgeMs 0 so each decision reads Redis.
  const a = new CircuitBreaker(cfg, new RedisBreakerStore({ redis, keyPrefix: PREFIX, logger: log.logger, snapshotMaxAgeMs: 0 }));
  const b = new CircuitBreaker(cfg, new RedisBreakerStore({ redis, keyPrefix: PREFIX, logger: capturingLogger().logger, snapshotMaxAgeMs: 0 }));
  return { a, b, key: PREFIX + name, name, ...log };
}

function admitted(d: Decision) {
  if (!d.allowed) throw new Error(`expected admission, got ${JSON.stringify(d)}`);
  return d.permit;
}

async function openIt(br: CircuitBreaker, failures: number, now: number) {
  for (let i = 0; i < failures; i++) await br.recordFailure(admitted(await br.acquire(now)), now);
}

describe('a permit from a lost history', () => {
  it('logs (warn, with the breaker) a key deleted while this worker saw the circuit open', async () => {
    const t = setup();
    await openIt(t.a, 2, T0);
    expect(await t.a.acquire(T0 + 10)).toMatchObject({ allowed: false, state: 'open' });
    await redis.del(t.key);
    expect(await t.a.acquire(T0 + 20)).toMatchObject({ allowed: true, state: 'closed' });
    const lost = t.warnings.filter((w) => w.fields.breaker === t.name);
    expect(lost).toHaveLength(1);
    expect(lost[0].msg).toMatch(/missing|lost/);
    expect(lost[0].fields).toMatchObject({ breaker: t.name, lastSeen: 'open' });
    await t.a.acquire(T0 + 30);
    expect(t.warnings).toHaveLength(1); // once, not per call
  });

  it('does not count toward opening a closed-state failure issued before the key was deleted', async () => {
    const t = setup();
    await t.a.recordSuccess(admitted(await t.a.acquire(T0)), T0); // the key exists, with its incarnation
    const before = admitted(await t.a.acquire(T0 + 1));
    await redis.del(t.key);
    await t.b.recordFailure(admitted(await t.b.acquire(T0 + 2)), T0 + 2); // a fresh history: one failure
    expect(await t.a.recordFailure(before, T0 + 3)).toEqual({ counted: false, state: 'closed' });
    const status = await t.a.getStatus(T0 + 3);
    expect(status).toMatchObject({ state: 'closed', failure_count: 1, statistics: { total_failures: 2 } });
  });

  it('does not let a probe issued before an older value was restored close the circuit or free the new probe', async () => {
    const t = setup({ failureThreshold: 1 });
    await openIt(t.a, 1, T0);
    const older = (await redis.get(t.key))!;
    const lostProbe = admitted(await t.a.acquire(T0 + 1_000));
    await redis.set(t.key, older); // restore: the probe's lease and half-open period are gone
    const newProbe = admitted(await t.b.acquire(T0 + 1_001));
    expect([newProbe.epoch, newProbe.probeId]).toEqual([lostProbe.epoch, lostProbe.probeId]);
    expect(await t.a.recordSuccess(lostProbe, T0 + 1_002)).toEqual({ counted: false, state: 'half-open' });
    // The new probe still holds the only slot (halfOpenMaxCalls 1): no second probe runs.
    expect(await t.a.acquire(T0 + 1_003)).toMatchObject({ allowed: false, state: 'half-open' });
    expect(await t.b.recordSuccess(newProbe, T0 + 1_004)).toEqual({ counted: true, state: 'closed' });
    expect((await t.a.getStatus(T0 + 1_004)).statistics).toMatchObject({ total_successes: 2, successful_recoveries: 1 });
  });

  it('starts a new incarnation when an outcome shows the history was rewound, so no other lost permit counts', async () => {
    const t = setup({ failureThreshold: 1, halfOpenMaxCalls: 2 });
    await openIt(t.a, 1, T0);
    const older = (await redis.get(t.key))!;
    const lost = [admitted(await t.a.acquire(T0 + 1_000)), admitted(await t.a.acquire(T0 + 1_000))];
    await redis.set(t.key, older);
    // The first lost outcome arrives while the restored state is behind it: detected, logged.
    expect(await t.a.recordFailure(lost[0], T0 + 1_001)).toEqual({ counted: false, state: 'open' });
    expect(t.warnings.filter((w) => w.fields.breaker === t.name && /history/.test(w.msg))).toHaveLength(1);
    // The new history reaches the same epoch and probe ids, at the same instant…
    const fresh = [admitted(await t.b.acquire(T0 + 1_000)), admitted(await t.b.acquire(T0 + 1_000))];
    expect(fresh.map((p) => [p.epoch, p.probeId, p.leaseExpiresAt])).toEqual(lost.map((p) => [p.epoch, p.probeId, p.leaseExpiresAt]));
    // …and the other lost probe still does not count.
    expect(await t.a.recordSuccess(lost[1], T0 + 1_002)).toEqual({ counted: false, state: 'half-open' });
    expect((await t.a.getStatus(T0 + 1_002)).half_open).toMatchObject({ attempts: 2, successes: 0 });
  });

  it('reads a value written without an incarnation, counts the permits issued from it, and gives it one', async () => {
    const t = setup();
    const cfg = parseBreakerConfig({ collectorName: t.name, failureThreshold: 2, timeoutSeconds: 1, halfOpenMaxCalls: 1, halfOpenSuccessThreshold: 1 });
    const old = { ...initialState(cfg), epoch: 3, failureCount: 1, lastFailureTime: T0 };
    await redis.set(t.key, encodeState(old));
    const p = admitted(await t.a.acquire(T0 + 1));
    expect(p).toMatchObject({ epoch: 3 });
    expect(p.incarnation).toBeUndefined();
    expect(await t.a.recordFailure(p, T0 + 2)).toEqual({ counted: true, state: 'open' });
    expect(JSON.parse((await redis.get(t.key))!)).toMatchObject({ state: 'open', epoch: 4, incarnation: expect.any(String) });
  });
});
