// The Redis store's hot paths: decisions that change nothing come from one GET; an outcome that
// keeps a closed breaker closed is rewritten by the script's pattern path, which only accepts
// the canonical form the script writes. These tests pin that form and the routing; the
// conformance suite proves the paths agree with the model.
import Redis from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { CircuitBreaker, RedisBreakerStore, type BreakerConfigInput, type Logger, type RedisBreakerStoreOptions } from '../../src';
import { redisUrl } from '../helpers/redis';

const redis = new Redis(redisUrl());
afterAll(() => redis.quit());
const T0 = Date.UTC(2026, 5, 1);
let seq = 0;
const unique = (label: string) => `${label}-${process.pid}-${Date.now()}-${seq++}`;
const PREFIX = 'hot-path:';

/**
 * The canonical form: what a closed breaker's outcome changes first (the script's record hot path
 * rewrites that head and copies the rest), then the rest; no spaces, leases by id.
 */
function canonical(raw: string): string {
  const s = JSON.parse(raw) as Record<string, never> & { halfOpen: { leases: Record<string, number> }; stats: Record<string, unknown> };
  const pick = (o: Record<string, unknown>, keys: string[]) => Object.fromEntries(keys.map((k) => [k, o[k]]));
  const leases = Object.fromEntries(Object.entries(s.halfOpen.leases).sort(([a], [b]) => Number(a) - Number(b)));
  return JSON.stringify({
    ...pick(s, ['v', 'state', 'forced', 'epoch', 'incarnation', 'failureCount', 'consecutiveSuccesses', 'lastFailureTime']),
    stats: pick(s.stats, ['totalSuccesses', 'totalFailures', 'circuitOpens', 'successfulRecoveries', 'failedRecoveries', 'timeInOpenStateMs', 'lastOpenTime']),
    ...pick(s, ['timeoutSeconds', 'openedAt', 'lastStateChange']),
    halfOpen: { ...pick(s.halfOpen, ['attempts', 'successes', 'nextProbeId']), leases },
  });
}

/** Counts what the store sends: GETs and script calls (the client is real; this only observes). */
function observed(client: Redis) {
  const counts = { get: 0, script: 0 };
  const spy = new Proxy(client, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      if (prop === 'get') return (...a: unknown[]) => (counts.get++, (v as (...x: unknown[]) => unknown).apply(target, a));
      if (prop === 'evalsha' || prop === 'eval') return (...a: unknown[]) => (counts.script++, (v as (...x: unknown[]) => unknown).apply(target, a));
      return (v as (...x: unknown[]) => unknown).bind(target);
    },
  });
  const reset = () => Object.assign(counts, { get: 0, script: 0 });
  return { spy, counts, reset };
}

function setup(cfgOver: Partial<BreakerConfigInput> = {}, storeOver: Partial<RedisBreakerStoreOptions> = {}) {
  const errors: { msg: string; fields?: Record<string, unknown> }[] = [];
  const logger: Logger = { debug() {}, info() {}, warn() {}, error: (msg, fields) => void errors.push({ msg, fields }) };
  const o = observed(redis);
  const cfg = { collectorName: unique('hot'), failureThreshold: 3, timeoutSeconds: 10, halfOpenMaxCalls: 2, halfOpenSuccessThreshold: 2, ...cfgOver };
  const breaker = new CircuitBreaker(cfg, new RedisBreakerStore({ redis: o.spy as unknown as Redis, keyPrefix: PREFIX, logger, openCacheMs: 0, ...storeOver }));
  const raw = () => redis.get(PREFIX + cfg.collectorName);
  return { breaker, raw, errors, ...o };
}

describe('Redis store hot paths', () => {
  it('writes every state in the canonical form, closed, open, half-open with leases, forced', async () => {
    const t = setup();
    const seen = new Set<string>();
    const check = async () => {
      const r = (await t.raw())!;
      expect(r).toBe(canonical(r));
      seen.add(JSON.parse(r).state + (JSON.parse(r).forced ? ' forced' : ''));
    };
    const ok = async (now: number) => {
      const d = await t.breaker.acquire(now);
      if (d.allowed) await t.breaker.recordSuccess(d.permit, now);
    };
    await ok(T0);
    await check();
    for (let i = 0; i < 3; i++) {
      const d = await t.breaker.acquire(T0 + i);
      if (d.allowed) await t.breaker.recordFailure(d.permit, T0 + i);
      await check();
    }
    const probes = [await t.breaker.acquire(T0 + 20_000, { leaseMs: 9_000 }), await t.breaker.acquire(T0 + 20_001, { leaseMs: 1_000 })];
    await check();
    expect(JSON.parse((await t.raw())!).halfOpen.leases).toEqual({ '0': T0 + 29_000, '1': T0 + 21_001 });
    for (const p of probes) if (p.allowed) await t.breaker.recordSuccess(p.permit, T0 + 20_002);
    await check();
    await t.breaker.forceOpen(T0 + 30_000);
    await check();
    await t.breaker.reset(T0 + 31_000);
    await check();
    expect([...seen].sort()).toEqual(['closed', 'half-open', 'open', 'open forced']);
  });

  it('decides from one GET when nothing changes; runs the script only to write', async () => {
    const t = setup();
    let d = await t.breaker.acquire(T0); // no key yet: the initial state, nothing written
    expect(t.counts).toEqual({ get: 1, script: 0 });
    expect(await t.raw()).toBeNull();
    if (d.allowed) await t.breaker.recordSuccess(d.permit, T0);
    t.reset();
    d = await t.breaker.acquire(T0 + 1);
    expect(d).toMatchObject({ allowed: true, state: 'closed' });
    expect(t.counts).toEqual({ get: 1, script: 0 });
    for (let i = 0; i < 3; i++) {
      const p = await t.breaker.acquire(T0 + 2 + i);
      if (p.allowed) await t.breaker.recordFailure(p.permit, T0 + 2 + i);
    }
    t.reset();
    expect(await t.breaker.acquire(T0 + 5_000)).toEqual({ allowed: false, state: 'open', retryAfterMs: 10_000 - 5_000 + 4 });
    expect(t.counts).toEqual({ get: 1, script: 0 });
    t.reset();
    // the open period is over: open → half-open is a write, so the script decides
    expect(await t.breaker.acquire(T0 + 10_004)).toMatchObject({ allowed: true, state: 'half-open', probe: true });
    expect(t.counts).toEqual({ get: 1, script: 1 });
    await t.breaker.acquire(T0 + 10_005);
    t.reset();
    // every slot taken: a rejection, decided from the GET
    expect(await t.breaker.acquire(T0 + 10_006)).toMatchObject({ allowed: false, state: 'half-open' });
    expect(t.counts).toEqual({ get: 1, script: 0 });
    await t.breaker.forceOpen(T0 + 10_007);
    t.reset();
    expect(await t.breaker.acquire(T0 + 99_999)).toEqual({ allowed: false, state: 'open', retryAfterMs: null });
    expect(t.counts).toEqual({ get: 1, script: 0 });
    expect(t.errors).toEqual([]);
  });

  it('reads a valid state another tool wrote in another key order the same way, and writes it back canonical', async () => {
    const t = setup();
    const name = PREFIX + t.breaker.name;
    const state = {
      stats: { lastOpenTime: null, timeInOpenStateMs: 0, failedRecoveries: 0, successfulRecoveries: 0, circuitOpens: 0, totalSuccesses: 41, totalFailures: 2 },
      halfOpen: { leases: {}, nextProbeId: 0, successes: 0, attempts: 0 },
      lastStateChange: null, lastFailureTime: T0 - 5, openedAt: null, timeoutSeconds: 10, consecutiveSuccesses: 0,
      failureCount: 2, epoch: 7, forced: false, state: 'closed', v: 1,
    };
    await redis.set(name, JSON.stringify(state));
    const d = await t.breaker.acquire(T0);
    expect(d).toMatchObject({ allowed: true, state: 'closed', permit: { epoch: 7 } });
    if (d.allowed) await t.breaker.recordSuccess(d.permit, T0);
    const after = (await t.raw())!;
    expect(after).toBe(canonical(after));
    expect(JSON.parse(after)).toMatchObject({ epoch: 7, failureCount: 0, consecutiveSuccesses: 1, stats: { totalSuccesses: 42, totalFailures: 2 } });
    expect(t.errors).toEqual([]);
  });

  it.each([
    ['a negative count', '"totalSuccesses":-1', 'stats'],
    ['a fractional epoch', '"epoch":1.5', 'epoch'],
    ['a zero open period', '"timeoutSeconds":0', 'timeoutSeconds'],
    ['trailing garbage', '}}x', 'not JSON'],
  ])('does not let %s through the fast paths: the value is reported and replaced', async (_label, corrupt, reason) => {
    const t = setup();
    const d0 = await t.breaker.acquire(T0);
    if (d0.allowed) await t.breaker.recordSuccess(d0.permit, T0);
    const good = (await t.raw())!;
    const field = corrupt.split(':')[0];
    const bad = corrupt === '}}x' ? good + 'x' : good.replace(new RegExp(`${field}:\\d+`), corrupt);
    expect(bad).not.toBe(good);
    await redis.set(PREFIX + t.breaker.name, bad);
    const d = await t.breaker.acquire(T0 + 1);
    expect(d).toMatchObject({ allowed: true, state: 'closed' });
    expect(t.errors.map((e) => e.msg)).toEqual(['corrupt breaker state in Redis replaced by a fresh state (statistics kept where readable)']);
    expect(String(t.errors[0].fields?.reason)).toContain(reason);
    if (d.allowed) await t.breaker.recordSuccess(d.permit, T0 + 1);
    const repaired = (await t.raw())!;
    expect(repaired).toBe(canonical(repaired));
  });

  it('also rejects a corrupt value met first by a record (the script pattern path), and keeps counting', async () => {
    const t = setup();
    const d = await t.breaker.acquire(T0);
    if (!d.allowed) throw new Error('expected admission');
    const good = (await t.raw()) ?? canonicalInitial(t.breaker.name);
    await redis.set(PREFIX + t.breaker.name, good.replace('"failureCount":0', '"failureCount":-3'));
    await t.breaker.recordSuccess(d.permit, T0);
    expect(t.errors.map((e) => String(e.fields?.reason))).toEqual([expect.stringContaining('failureCount')]);
    const after = JSON.parse((await t.raw())!);
    expect(after).toMatchObject({ state: 'closed', failureCount: 0, stats: { totalSuccesses: 1 } });
  });
  it('a record copies what follows the fields it changes; a corrupt number there is reported and replaced at the next decision', async () => {
    const t = setup();
    const d = await t.breaker.acquire(T0);
    if (!d.allowed) throw new Error('expected admission');
    await t.breaker.recordSuccess(d.permit, T0);
    const good = (await t.raw())!;
    await redis.set(PREFIX + t.breaker.name, good.replace('"circuitOpens":0', '"circuitOpens":-4'));
    const d2 = await t.breaker.acquire(T0 + 1);
    expect(t.errors.map((e) => String(e.fields?.reason))).toEqual([expect.stringContaining('stats')]);
    if (d2.allowed) await t.breaker.recordSuccess(d2.permit, T0 + 1);
    const after = (await t.raw())!;
    expect(after).toBe(canonical(after));
    // only the statistic that does not validate is replaced: the state and the other statistics are kept
    expect(JSON.parse(after)).toMatchObject({ state: 'closed', consecutiveSuccesses: 2, stats: { totalSuccesses: 2, circuitOpens: 0 } });
    // met first by a record (its permit issued before the corruption): counted, then the decision repairs it
    const d3 = await t.breaker.acquire(T0 + 2);
    if (!d3.allowed) throw new Error('expected admission');
    await redis.set(PREFIX + t.breaker.name, after.replace('"circuitOpens":0', '"circuitOpens":-4'));
    await t.breaker.recordSuccess(d3.permit, T0 + 2);
    expect(JSON.parse((await t.raw())!)).toMatchObject({ consecutiveSuccesses: 3, stats: { totalSuccesses: 3, circuitOpens: -4 } });
    expect(t.errors).toHaveLength(1);
    expect(await t.breaker.acquire(T0 + 3)).toMatchObject({ allowed: true, state: 'closed' });
    expect(t.errors).toHaveLength(2);
    const repaired = (await t.raw())!;
    expect(repaired).toBe(canonical(repaired));
    expect(JSON.parse(repaired)).toMatchObject({ state: 'closed', stats: { circuitOpens: 0 } });
  });
});

describe('open-state cache (openCacheMs)', () => {
  const open = async (b: CircuitBreaker, at: number) => {
    for (let i = 0; i < 3; i++) {
      const d = await b.acquire(at + i);
      if (d.allowed) await b.recordFailure(d.permit, at + i);
    }
  };

  it('rejects from the last open state read for up to openCacheMs, then asks Redis again', async () => {
    const a = setup({}, { openCacheMs: 1_000 });
    await open(a.breaker, T0);
    a.reset();
    expect(await a.breaker.acquire(T0 + 1_000)).toEqual({ allowed: false, state: 'open', retryAfterMs: 9_002 });
    expect(a.counts).toEqual({ get: 1, script: 0 });
    expect(await a.breaker.acquire(T0 + 2_000)).toEqual({ allowed: false, state: 'open', retryAfterMs: 8_002 });
    expect(a.counts).toEqual({ get: 1, script: 0 }); // served from the cache
    // another process force-closes: seen here once the entry is older than openCacheMs
    const other = new CircuitBreaker({ ...a.breaker.config }, new RedisBreakerStore({ redis, keyPrefix: PREFIX }));
    await other.forceClose(T0 + 2_001);
    expect(await a.breaker.acquire(T0 + 2_002)).toMatchObject({ allowed: false, state: 'open' });
    await new Promise((r) => setTimeout(r, 1_020));
    expect(await a.breaker.acquire(T0 + 2_003)).toMatchObject({ allowed: true, state: 'closed' });
    expect(a.counts.get).toBe(2);
  });

  it('refreshes an entry in the background once it is half its age limit old: steady traffic never waits, and sees a command sooner', async () => {
    const a = setup({}, { openCacheMs: 1_200 });
    await open(a.breaker, T0);
    await a.breaker.acquire(T0 + 1_000); // read and cached
    await new Promise((r) => setTimeout(r, 650));
    a.reset();
    expect(await a.breaker.acquire(T0 + 1_001)).toMatchObject({ allowed: false, state: 'open' }); // from the cache...
    await new Promise((r) => setTimeout(r, 30));
    expect(a.counts).toEqual({ get: 1, script: 0 }); // ...which refreshed itself with one GET
    await new Promise((r) => setTimeout(r, 650)); // the first read is now 1.3 s old, the refreshed one ~0.65 s
    // still answered without I/O: before a setImmediate queued at the same time runs
    const decided = a.breaker.acquire(T0 + 1_002);
    const first = await Promise.race([decided.then(() => 'no I/O'), new Promise((r) => setImmediate(() => r('waited for I/O')))]);
    expect(first).toBe('no I/O');
    expect(await decided).toMatchObject({ allowed: false, state: 'open' });
    // another process resets; the next background refresh sees it and drops the entry
    const other = new CircuitBreaker({ ...a.breaker.config }, new RedisBreakerStore({ redis, keyPrefix: PREFIX }));
    await other.reset(T0 + 1_003);
    await new Promise((r) => setTimeout(r, 650)); // the entry is half its limit old: the next hit refreshes it
    expect(await a.breaker.acquire(T0 + 1_004)).toMatchObject({ allowed: false, state: 'open' }); // still the cached state
    await new Promise((r) => setTimeout(r, 30));
    // ~0.7 s after its last read, short of openCacheMs: admitted because the refresh saw the reset
    expect(await a.breaker.acquire(T0 + 1_005)).toMatchObject({ allowed: true, state: 'closed' });
  });

  it('never serves an admission or a half-open from the cache, and a local command clears it', async () => {
    const a = setup({}, { openCacheMs: 60_000 });
    await open(a.breaker, T0);
    await a.breaker.acquire(T0 + 1_000); // cached
    a.reset();
    // the open period ends: the transition to half-open is Redis's, whatever the cache holds; the
    // cache knows it is a write, so the script is called at once (one round trip, no GET)
    expect(await a.breaker.acquire(T0 + 10_002)).toMatchObject({ allowed: true, state: 'half-open', probe: true });
    expect(a.counts).toEqual({ get: 0, script: 1 });
    const b = setup({}, { openCacheMs: 60_000 });
    await open(b.breaker, T0);
    await b.breaker.acquire(T0 + 1_000); // cached
    await b.breaker.reset(T0 + 1_001);
    expect(await b.breaker.acquire(T0 + 1_002)).toMatchObject({ allowed: true, state: 'closed' });
  });

  it('a write decided from the cache runs on the real state: a reset elsewhere is honoured', async () => {
    const a = setup({}, { openCacheMs: 60_000 });
    await open(a.breaker, T0);
    await a.breaker.acquire(T0 + 1_000); // cached: open until T0 + 10_002
    const other = new CircuitBreaker({ ...a.breaker.config }, new RedisBreakerStore({ redis, keyPrefix: PREFIX }));
    await other.reset(T0 + 1_001);
    expect(await a.breaker.acquire(T0 + 10_002)).toMatchObject({ allowed: true, state: 'closed', probe: false });
  });

  it('with openCacheMs 0, every decision reads Redis', async () => {
    const a = setup({}, { openCacheMs: 0 });
    await open(a.breaker, T0);
    a.reset();
    for (let i = 0; i < 3; i++) await a.breaker.acquire(T0 + 1_000 + i);
    expect(a.counts).toEqual({ get: 3, script: 0 });
  });
});

function canonicalInitial(_name: string): string {
  return canonical(
    JSON.stringify({
      v: 1, state: 'closed', forced: false, epoch: 0, failureCount: 0, consecutiveSuccesses: 0, timeoutSeconds: 10, openedAt: null,
      lastFailureTime: null, lastStateChange: null, halfOpen: { attempts: 0, successes: 0, nextProbeId: 0, leases: {} },
      stats: { totalFailures: 0, totalSuccesses: 0, circuitOpens: 0, successfulRecoveries: 0, failedRecoveries: 0, timeInOpenStateMs: 0, lastOpenTime: null },
    }),
  );
}
