// The Redis store's round trips (issue #11): every script reply carries the whole state, and a
// decision that writes nothing (admitted while closed; rejected while open, forced open, or with
// every half-open slot taken) is taken from the last state a reply carried while it is younger
// than snapshotMaxAgeMs; a stale or absent snapshot is refreshed with one GET, and at half its age
// a snapshot decision refreshes it in the background. Decisions that write, outcomes and commands
// go to the script. Counted here on a real ioredis client through a spy that only observes.
import Redis from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CircuitBreaker, RedisBreakerStore, type BreakerConfigInput, type Decision, type Logger, type Permit, type RedisBreakerStoreOptions } from '../../src';
import { breakerStateSchema } from '../../src/breaker/state';
import { redisUrl } from '../helpers/redis';
import { scriptCallSpy } from '../helpers/script-calls';

const redis = new Redis(redisUrl());
/** A second connection: what another process's store would use. */
const elsewhere = new Redis(redisUrl());
beforeAll(async () => {
  await Promise.all([redis.ping(), elsewhere.ping()]);
});
afterAll(async () => {
  await Promise.all([redis.quit(), elsewhere.quit()]);
});

const T0 = Date.UTC(2026, 5, 1);
const PREFIX = 'snapshot:';
const REPAIRED = 'corrupt breaker state in Redis replaced by a fresh state (statistics kept where readable)';
let seq = 0;
const unique = (label: string) => `${label}-${process.pid}-${Date.now()}-${seq++}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Resolves after every microtask queued so far (and the I/O callbacks of this loop turn). */
const nextTurn = () => new Promise<void>((r) => setImmediate(r));

type Fn = (...a: unknown[]) => Promise<unknown>;

/**
 * Counts what a store sends on a real client: GETs and calls of the breaker's script (its FCALLs,
 * or its EVALSHA command: see scriptCallSpy). The proxy hands out counting wrappers; nothing is
 * changed: every call goes to the real client.
 */
function observed(client: Redis) {
  const counts = { get: 0, script: 0 };
  let lastGet: Promise<unknown> = Promise.resolve();
  const spy = new Proxy(client, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target) as unknown;
      if (typeof v !== 'function') return v;
      const f = v as Fn;
      if (prop === 'get') {
        return (...a: unknown[]) => {
          counts.get++;
          const p = f.apply(target, a);
          lastGet = p.catch(() => undefined);
          return p;
        };
      }
      const script = scriptCallSpy(target, prop, f, () => counts.script++);
      if (script) return script;
      return f.bind(target);
    },
  });
  return {
    spy: spy as unknown as Redis,
    counts,
    reset: () => Object.assign(counts, { get: 0, script: 0 }),
    /** The last GET sent (a background refresh's, say), settled. */
    lastGet: () => lastGet,
  };
}

interface Logged {
  msg: string;
  fields?: Record<string, unknown>;
}

function capturing() {
  const errors: Logged[] = [];
  const warnings: Logged[] = [];
  const logger: Logger = {
    debug() {},
    info() {},
    warn: (msg, fields) => void warnings.push({ msg, fields }),
    error: (msg, fields) => void errors.push({ msg, fields }),
  };
  return { logger, errors, warnings };
}

type Cfg = BreakerConfigInput & { collectorName: string };

/** One worker: a breaker over its own RedisBreakerStore on a spied client. */
function worker(cfg: Cfg, storeOver: Partial<RedisBreakerStoreOptions> = {}) {
  const log = capturing();
  const o = observed(redis);
  // A generous timeout: this is about round trips, never about the unavailability policy.
  const store = new RedisBreakerStore({ redis: o.spy, keyPrefix: PREFIX, logger: log.logger, timeoutMs: 5_000, snapshotMaxAgeMs: 60_000, ...storeOver });
  const breaker = new CircuitBreaker(cfg, store);
  return { breaker, store, ...o, ...log };
}

function setup(cfgOver: Partial<BreakerConfigInput> = {}, storeOver: Partial<RedisBreakerStoreOptions> = {}) {
  const cfg: Cfg = { collectorName: unique('snap'), failureThreshold: 3, timeoutSeconds: 10, halfOpenMaxCalls: 2, halfOpenSuccessThreshold: 2, ...cfgOver };
  const key = PREFIX + cfg.collectorName;
  const raw = () => redis.get(key);
  const stored = async () => JSON.parse((await raw())!) as Record<string, unknown> & { stats: Record<string, number | null>; epoch: number; state: string };
  /** Another process's breaker on the same key (its own store, its own connection). */
  const other = (storeOver2: Partial<RedisBreakerStoreOptions> = {}) =>
    new CircuitBreaker(cfg, new RedisBreakerStore({ redis: elsewhere, keyPrefix: PREFIX, logger: capturing().logger, timeoutMs: 5_000, ...storeOver2 }));
  return { cfg, key, raw, stored, other, ...worker(cfg, storeOver) };
}

function admitted(d: Decision): Permit {
  if (!d.allowed) throw new Error(`expected an admission, got ${JSON.stringify(d)}`);
  return d.permit;
}

async function succeed(b: CircuitBreaker, now: number) {
  return b.recordSuccess(admitted(await b.acquire(now)), now);
}

async function fail(b: CircuitBreaker, now: number) {
  return b.recordFailure(admitted(await b.acquire(now)), now);
}

/** Opens a threshold-3 breaker: failures at at, at + 1, at + 2 (so it is open until at + 2 + timeout). */
async function open(b: CircuitBreaker, at: number) {
  for (let i = 0; i < 3; i++) await fail(b, at + i);
}

describe('Redis store snapshot: round trips', () => {
  it('a busy worker pays one round trip per guarded call: N acquire + recordSuccess pairs cost N script calls and no GET', async () => {
    const t = setup();
    await succeed(t.breaker, T0);
    t.reset();
    const N = 25;
    for (let i = 1; i <= N; i++) {
      const r = await succeed(t.breaker, T0 + i);
      expect(r).toEqual({ counted: true, state: 'closed' });
    }
    expect(t.counts).toEqual({ get: 0, script: N });
    expect(await t.stored()).toMatchObject({ state: 'closed', consecutiveSuccesses: N + 1, stats: { totalSuccesses: N + 1 } });
    expect(t.errors).toEqual([]);
  });

  it('no key yet: one GET decides (the initial state), nothing is written, and the next decision needs no round trip', async () => {
    const t = setup();
    expect(await t.breaker.acquire(T0)).toMatchObject({ allowed: true, state: 'closed', probe: false, permit: { epoch: 0 } });
    expect(t.counts).toEqual({ get: 1, script: 0 });
    expect(await t.raw()).toBeNull();
    expect(await t.breaker.acquire(T0 + 1)).toMatchObject({ allowed: true, state: 'closed' });
    expect(t.counts).toEqual({ get: 1, script: 0 });
    expect(await t.raw()).toBeNull();
    expect(t.errors).toEqual([]);
  });

  it('an idle worker (snapshot older than snapshotMaxAgeMs) refreshes with exactly one GET, then decides without the script when nothing is written', async () => {
    const t = setup({}, { snapshotMaxAgeMs: 100 });
    await succeed(t.breaker, T0);
    await sleep(150);
    t.reset();
    const d = await t.breaker.acquire(T0 + 1);
    expect(d).toMatchObject({ allowed: true, state: 'closed', probe: false });
    expect(t.counts).toEqual({ get: 1, script: 0 });
    await t.breaker.recordSuccess(admitted(d), T0 + 1);
    expect(t.counts).toEqual({ get: 1, script: 1 });

    // idle while open: one GET, the rejection decided from it
    await open(t.breaker, T0 + 10);
    await sleep(150);
    t.reset();
    expect(await t.breaker.acquire(T0 + 5_000)).toEqual({ allowed: false, state: 'open', retryAfterMs: 10_012 - 5_000 });
    expect(t.counts).toEqual({ get: 1, script: 0 });
    expect(t.errors).toEqual([]);
  });

  it('while open: rejections from the snapshot; the end of the open period goes to the script; every slot taken and forced open rejected from the snapshot', async () => {
    const t = setup();
    await open(t.breaker, T0); // opened at T0 + 2: open until T0 + 10_002
    t.reset();
    expect(await t.breaker.acquire(T0 + 5_000)).toEqual({ allowed: false, state: 'open', retryAfterMs: 5_002 });
    expect(await t.breaker.acquire(T0 + 10_001)).toEqual({ allowed: false, state: 'open', retryAfterMs: 1 });
    expect(t.counts).toEqual({ get: 0, script: 0 });

    // open → half-open is a write: one script call, no GET (the snapshot is fresh)
    const first = await t.breaker.acquireWithStatus(T0 + 10_002, { leaseMs: 9_000 });
    expect(first.decision).toMatchObject({ allowed: true, state: 'half-open', probe: true, permit: { probeId: 0, leaseExpiresAt: T0 + 19_002 } });
    expect(first.transition).toMatchObject({ event: 'half-opened', from: 'open', to: 'half-open' });
    expect(t.counts).toEqual({ get: 0, script: 1 });
    // a probe's lease is a write too
    expect(await t.breaker.acquire(T0 + 10_003, { leaseMs: 1_000 })).toMatchObject({ allowed: true, state: 'half-open', probe: true, permit: { probeId: 1 } });
    expect(t.counts).toEqual({ get: 0, script: 2 });
    expect(JSON.parse((await t.raw())!).halfOpen).toEqual({ attempts: 2, successes: 0, nextProbeId: 2, leases: { '0': T0 + 19_002, '1': T0 + 11_003 } });

    // every slot taken: rejected from the snapshot, retry when the earliest lease ends
    t.reset();
    expect(await t.breaker.acquire(T0 + 10_004)).toEqual({ allowed: false, state: 'half-open', retryAfterMs: 999 });
    expect(t.counts).toEqual({ get: 0, script: 0 });

    await t.breaker.forceOpen(T0 + 10_005);
    expect(t.counts).toEqual({ get: 0, script: 1 });
    t.reset();
    expect(await t.breaker.acquire(T0 + 99_999)).toEqual({ allowed: false, state: 'open', retryAfterMs: null });
    expect(await t.breaker.acquire(T0 + 9_999_999)).toEqual({ allowed: false, state: 'open', retryAfterMs: null });
    expect(t.counts).toEqual({ get: 0, script: 0 });
    expect(t.errors).toEqual([]);
  });

  it('snapshotMaxAgeMs 0: every decision costs one GET, and the script runs only to write', async () => {
    const t = setup({}, { snapshotMaxAgeMs: 0 });
    const d = await t.breaker.acquire(T0);
    expect(t.counts).toEqual({ get: 1, script: 0 });
    await t.breaker.recordSuccess(admitted(d), T0);
    expect(t.counts).toEqual({ get: 1, script: 1 });
    t.reset();
    for (let i = 1; i <= 3; i++) expect(await t.breaker.acquire(T0 + i)).toMatchObject({ allowed: true, state: 'closed' });
    expect(t.counts).toEqual({ get: 3, script: 0 });
    await open(t.breaker, T0 + 10); // open until T0 + 10_012
    t.reset();
    for (let i = 0; i < 3; i++) expect(await t.breaker.acquire(T0 + 1_000 + i)).toMatchObject({ allowed: false, state: 'open', retryAfterMs: 9_012 - i });
    expect(t.counts).toEqual({ get: 3, script: 0 });
    t.reset();
    expect(await t.breaker.acquire(T0 + 10_012)).toMatchObject({ allowed: true, state: 'half-open', probe: true });
    expect(t.counts).toEqual({ get: 1, script: 1 });
    expect(t.errors).toEqual([]);
  });
});

describe('Redis store snapshot: other processes', () => {
  it("another process's opening is seen at this worker's next reply; a call admitted from the stale closed snapshot counts in the totals only", async () => {
    const t = setup();
    await succeed(t.breaker, T0); // the snapshot: closed
    const before = await t.stored();
    await open(t.other(), T0 + 10); // another process opens the circuit (until T0 + 10_012)
    const opened = await t.stored();
    expect(opened).toMatchObject({ state: 'open', epoch: before.epoch + 1, failureCount: 3 });
    t.reset();
    // still the stale snapshot: admitted, with the closed period's epoch
    const p1 = admitted(await t.breaker.acquire(T0 + 20));
    const p2 = admitted(await t.breaker.acquire(T0 + 21));
    expect(p1.epoch).toBe(before.epoch);
    expect(t.counts).toEqual({ get: 0, script: 0 });
    expect(await t.breaker.recordFailure(p1, T0 + 22)).toEqual({ counted: false, state: 'open' });
    expect(t.counts).toEqual({ get: 0, script: 1 });
    // the record's reply carried the open state: from now on rejected from the snapshot
    expect(await t.breaker.acquire(T0 + 23)).toEqual({ allowed: false, state: 'open', retryAfterMs: 10_012 - 23 });
    expect(await t.breaker.recordSuccess(p2, T0 + 24)).toEqual({ counted: false, state: 'open' });
    expect(t.counts).toEqual({ get: 0, script: 2 });
    // the state did not move: only the totals
    const after = await t.stored();
    expect(after).toEqual({
      ...opened,
      stats: { ...opened.stats, totalFailures: (opened.stats.totalFailures as number) + 1, totalSuccesses: (opened.stats.totalSuccesses as number) + 1 },
    });
    expect(t.errors).toEqual([]);
  });

  it("another process's transitions are seen after at most snapshotMaxAgeMs (an opening, a force-close)", async () => {
    const t = setup({}, { snapshotMaxAgeMs: 100 });
    await succeed(t.breaker, T0); // the snapshot: closed
    const other = t.other();
    await open(other, T0 + 10); // open until T0 + 10_012
    await sleep(150);
    t.reset();
    expect(await t.breaker.acquire(T0 + 1_000)).toEqual({ allowed: false, state: 'open', retryAfterMs: 9_012 });
    expect(t.counts).toEqual({ get: 1, script: 0 });
    await other.forceClose(T0 + 1_001);
    await sleep(150);
    t.reset();
    expect(await t.breaker.acquire(T0 + 1_002)).toMatchObject({ allowed: true, state: 'closed', probe: false });
    expect(t.counts).toEqual({ get: 1, script: 0 });
    expect(t.errors).toEqual([]);
  });

  it("a command elsewhere is not seen while the snapshot is fresh; this worker's next reply brings it", async () => {
    const t = setup();
    await open(t.breaker, T0); // open until T0 + 10_002
    await t.other().forceClose(T0 + 100);
    t.reset();
    expect(await t.breaker.acquire(T0 + 200)).toEqual({ allowed: false, state: 'open', retryAfterMs: 9_802 });
    expect(t.counts).toEqual({ get: 0, script: 0 });
    // a reply of this worker's own (here, its status through the script) carries the closed state
    expect((await t.breaker.getStatus(T0 + 201)).state).toBe('closed');
    expect(t.counts).toEqual({ get: 0, script: 1 });
    t.reset();
    expect(await t.breaker.acquire(T0 + 202)).toMatchObject({ allowed: true, state: 'closed' });
    expect(t.counts).toEqual({ get: 0, script: 0 });
  });

  it('a write decided from a stale snapshot runs on the real state: the open period is over here, but another process reset', async () => {
    const t = setup();
    await open(t.breaker, T0); // the snapshot: open until T0 + 10_002
    await t.other().reset(T0 + 1_000);
    const reset = await t.stored();
    expect(reset).toMatchObject({ state: 'closed' });
    t.reset();
    const r = await t.breaker.acquireWithStatus(T0 + 10_002);
    // the snapshot says "half-open it": that is a write, so the script decides, on the closed state
    expect(r.decision).toMatchObject({ allowed: true, state: 'closed', probe: false, permit: { epoch: reset.epoch, probeId: null } });
    expect(r.transition).toBeNull();
    expect(t.counts).toEqual({ get: 0, script: 1 });
    expect(await t.stored()).toEqual(reset); // nothing written
    // and the reply became the snapshot
    expect(await t.breaker.recordSuccess(admitted(r.decision), T0 + 10_003)).toEqual({ counted: true, state: 'closed' });
    expect(t.counts).toEqual({ get: 0, script: 2 });
    expect(t.errors).toEqual([]);
  });

  it('refreshes in the background at half its age: steady traffic never waits, and a reset elsewhere is seen through the refresh before the bound', async () => {
    // A bound far above the sleeps, so that a slow machine cannot make the snapshot stale.
    const t = setup({}, { snapshotMaxAgeMs: 2_000 });
    await open(t.breaker, T0); // the snapshot: open until T0 + 10_002
    await t.other().reset(T0 + 3); // not seen here yet
    t.reset();
    // younger than half the bound: no refresh
    expect(await t.breaker.acquire(T0 + 4)).toEqual({ allowed: false, state: 'open', retryAfterMs: 9_998 });
    await nextTurn();
    expect(t.counts).toEqual({ get: 0, script: 0 });

    await sleep(1_100); // past half the bound, short of it
    t.reset();
    // decided from the snapshot, without waiting for any I/O: before a setImmediate queued at the same time
    const decided = t.breaker.acquire(T0 + 1_000);
    const first = await Promise.race([decided.then(() => 'decided'), new Promise((r) => setImmediate(() => r('waited for I/O')))]);
    expect(first).toBe('decided');
    expect(await decided).toEqual({ allowed: false, state: 'open', retryAfterMs: 9_002 });
    // ...which sent one background GET
    expect(t.counts).toEqual({ get: 1, script: 0 });
    // a second decision while that GET is in flight sends no other
    expect(await t.breaker.acquire(T0 + 1_001)).toMatchObject({ allowed: false, state: 'open' });
    expect(t.counts).toEqual({ get: 1, script: 0 });
    await t.lastGet();
    await nextTurn();
    // the refresh saw the reset: admitted, well before the old snapshot's bound, with no round trip of its own
    const d = t.breaker.acquire(T0 + 1_002);
    const again = await Promise.race([d.then(() => 'decided'), new Promise((r) => setImmediate(() => r('waited for I/O')))]);
    expect(again).toBe('decided');
    expect(await d).toMatchObject({ allowed: true, state: 'closed', probe: false });
    expect(t.counts).toEqual({ get: 1, script: 0 });
    expect(t.errors).toEqual([]);
  });
});

describe('Redis store snapshot: values met in Redis', () => {
  const foreign = (epoch: number) => ({
    stats: { lastOpenTime: T0 - 50_000, timeInOpenStateMs: 12_345, failedRecoveries: 1, successfulRecoveries: 4, circuitOpens: 5, totalSuccesses: 41, totalFailures: 2 },
    halfOpen: { leases: {}, nextProbeId: 0, successes: 0, attempts: 0 },
    lastStateChange: T0 - 30_000,
    lastFailureTime: T0 - 5,
    openedAt: null,
    timeoutSeconds: 10,
    consecutiveSuccesses: 0,
    failureCount: 2,
    incarnation: 'other-tool-1',
    epoch,
    forced: false,
    state: 'closed',
    v: 1,
  });

  it('reads a valid value another tool wrote (another key order, whitespace) the same way, and counts on it', async () => {
    const t = setup();
    const state = foreign(7);
    await redis.set(t.key, JSON.stringify(state, null, 2));
    const d = await t.breaker.acquire(T0);
    expect(d).toMatchObject({ allowed: true, state: 'closed', permit: { epoch: 7, incarnation: 'other-tool-1' } });
    expect(t.counts).toEqual({ get: 1, script: 0 }); // decided from the GET
    // the script reads it the same (load goes through the script, which writes nothing here)
    expect(await t.store.load(t.breaker.config)).toEqual(state);
    expect(await t.breaker.recordFailure(admitted(d), T0)).toEqual({ counted: true, state: 'open' }); // the third failure in a row
    const after = await t.stored();
    expect(breakerStateSchema.safeParse(after).success).toBe(true);
    expect(after).toMatchObject({ state: 'open', epoch: 8, incarnation: 'other-tool-1', failureCount: 3, stats: { totalSuccesses: 41, totalFailures: 3, circuitOpens: 6, successfulRecoveries: 4 } });
    expect(t.errors).toEqual([]);
  });

  it.each([
    ['a negative statistic', (g: string) => g.replace('"totalSuccesses":1', '"totalSuccesses":-1'), 'stats.totalSuccesses', { totalSuccesses: 0, totalFailures: 1 }, true],
    ['a fractional epoch', (g: string) => g.replace(/"epoch":\d+/, '"epoch":1.5'), 'epoch', { totalSuccesses: 1, totalFailures: 1 }, false],
    ['a zero open period', (g: string) => g.replace('"timeoutSeconds":10', '"timeoutSeconds":0'), 'timeoutSeconds', { totalSuccesses: 1, totalFailures: 1 }, false],
    ['trailing garbage', (g: string) => g + 'x', 'not JSON', { totalSuccesses: 0, totalFailures: 0 }, false],
  ])('a corrupt value met by a GET (%s) goes to the script, which repairs it and says so once', async (_label, corrupt, reason, stats, stateKept) => {
    const t = setup();
    await succeed(t.breaker, T0);
    await fail(t.breaker, T0 + 1);
    const good = (await t.raw())!;
    const bad = corrupt(good);
    expect(bad).not.toBe(good);
    await redis.set(t.key, bad);
    // a worker that has not seen the breaker yet: its first decision GETs the corrupt value
    const w = worker(t.cfg);
    expect(await w.breaker.acquire(T0 + 2)).toMatchObject({ allowed: true, state: 'closed' });
    expect(w.counts).toEqual({ get: 1, script: 1 });
    expect(w.errors.map((e) => e.msg)).toEqual([REPAIRED]);
    expect(String(w.errors[0].fields?.reason)).toContain(reason);
    const repaired = await t.stored();
    expect(breakerStateSchema.safeParse(repaired).success).toBe(true);
    expect(repaired.stats).toMatchObject(stats);
    if (stateKept) expect(repaired).toMatchObject({ epoch: JSON.parse(good).epoch, incarnation: JSON.parse(good).incarnation, failureCount: 1 });
    // the repaired state is the snapshot now: decided without a round trip, counted, and reported once only
    w.reset();
    expect(await succeed(w.breaker, T0 + 3)).toEqual({ counted: true, state: 'closed' });
    expect(w.counts).toEqual({ get: 0, script: 1 });
    expect(w.errors).toHaveLength(1);
  });

  it('a value of the wrong Redis type met by a GET is replaced by the script, and said once', async () => {
    const t = setup();
    await redis.hset(t.key, 'state', 'closed');
    expect(await t.breaker.acquire(T0)).toMatchObject({ allowed: true, state: 'closed' });
    expect(t.counts).toEqual({ get: 1, script: 1 });
    expect(t.errors.map((e) => [e.msg, String(e.fields?.reason)])).toEqual([[REPAIRED, expect.stringContaining('wrong Redis type')]]);
    expect(await redis.type(t.key)).toBe('string');
    expect(await succeed(t.breaker, T0 + 1)).toEqual({ counted: true, state: 'closed' });
    expect(t.errors).toHaveLength(1);
  });

  it('a corrupt value met first by a record is repaired by the record (statistics kept), and counting goes on', async () => {
    const t = setup();
    await succeed(t.breaker, T0);
    const p = admitted(await t.breaker.acquire(T0 + 1)); // from the snapshot
    const good = (await t.raw())!;
    await redis.set(t.key, good.replace('"failureCount":0', '"failureCount":-3'));
    t.reset();
    // the value is replaced by a fresh state (a new history): the permit's outcome counts in the totals only
    expect(await t.breaker.recordSuccess(p, T0 + 1)).toEqual({ counted: false, state: 'closed' });
    expect(t.counts).toEqual({ get: 0, script: 1 });
    expect(t.errors.map((e) => [e.msg, String(e.fields?.reason)])).toEqual([[REPAIRED, expect.stringContaining('failureCount')]]);
    const repaired = await t.stored();
    expect(breakerStateSchema.safeParse(repaired).success).toBe(true);
    expect(repaired).toMatchObject({ state: 'closed', failureCount: 0, stats: { totalSuccesses: 2 } });
    expect(repaired.incarnation).not.toBe(JSON.parse(good).incarnation);
    // the record's reply is the snapshot: the next call is admitted in the new history and counted
    expect(await succeed(t.breaker, T0 + 2)).toEqual({ counted: true, state: 'closed' });
    expect(t.counts).toEqual({ get: 0, script: 2 });
    expect(await t.stored()).toMatchObject({ consecutiveSuccesses: 1, stats: { totalSuccesses: 3 } });
    expect(t.errors).toHaveLength(1);
  });

  it('a bad statistic met first by a record: the statistic is replaced, the state kept, the outcome counted', async () => {
    const t = setup();
    await succeed(t.breaker, T0);
    const p = admitted(await t.breaker.acquire(T0 + 1));
    const good = (await t.raw())!;
    await redis.set(t.key, good.replace('"circuitOpens":0', '"circuitOpens":-4'));
    expect(await t.breaker.recordSuccess(p, T0 + 1)).toEqual({ counted: true, state: 'closed' });
    expect(t.errors.map((e) => [e.msg, String(e.fields?.reason)])).toEqual([[REPAIRED, expect.stringContaining('stats.circuitOpens')]]);
    expect(await t.stored()).toMatchObject({ state: 'closed', incarnation: JSON.parse(good).incarnation, consecutiveSuccesses: 2, stats: { totalSuccesses: 2, circuitOpens: 0 } });
  });

  // Issue #11: the two values the old string-patching hot paths got wrong. A leading-zero epoch
  // (not JSON to JavaScript; the Lua's cjson reads 3): read as 3 by the script. A counter of 2^63
  // (not a safe integer): that statistic replaced, nothing else. Either way the circuit still
  // opens after failureThreshold failures.
  const LEADING_ZERO = (json: string) => json.replace('"epoch":3,', '"epoch":003,');
  const HUGE_COUNTER = (json: string) => json.replace('"totalSuccesses":41', '"totalSuccesses":9223372036854775808');

  async function failUntilOpen(b: CircuitBreaker, from: number, first?: Permit) {
    const results: { counted: boolean; state: string }[] = [];
    for (let i = 0; i < 8 && results.at(-1)?.state !== 'open'; i++) {
      const p = i === 0 && first ? first : admitted(await b.acquire(from + i));
      results.push(await b.recordFailure(p, from + i));
    }
    return results;
  }

  /** Three failures to open: the value edited, met first by a GET (the next acquire) or by a record (of a permit from the valid value). */
  const OPENED_AT_THIRD = [
    { counted: true, state: 'closed' },
    { counted: true, state: 'closed' },
    { counted: true, state: 'open' },
  ];
  async function failAfterEdit(t: ReturnType<typeof setup>, edit: (json: string) => string, byRecord: boolean) {
    const valid = JSON.stringify({ ...foreign(3), failureCount: 0 });
    expect(edit(valid)).not.toBe(valid);
    let first: Permit | undefined;
    if (byRecord) {
      await redis.set(t.key, valid);
      first = admitted(await t.breaker.acquire(T0)); // from a GET of the valid value
      expect(first).toMatchObject({ epoch: 3, incarnation: 'other-tool-1' });
    }
    await redis.set(t.key, edit(valid));
    const results = await failUntilOpen(t.breaker, T0 + 1, first);
    const after = await t.stored();
    expect(breakerStateSchema.safeParse(after).success).toBe(true);
    return { results, after };
  }

  it.each([
    ['met by a GET', false],
    ['met first by a record', true],
  ])('a leading-zero epoch ("epoch":003), %s: read as 3, and the circuit still opens after failureThreshold failures', async (_label, byRecord) => {
    const t = setup();
    const { results, after } = await failAfterEdit(t, LEADING_ZERO, byRecord);
    expect(await t.raw()).not.toMatch(/"epoch":0\d/);
    // The Lua reads it as 3 (cjson accepts the leading zero; the TypeScript decoder does not, so
    // its GET hands the decision to the script): nothing lost, every failure counted, and the
    // first write stores the epoch as JSON.
    expect(t.errors).toEqual([]);
    expect(results).toEqual(OPENED_AT_THIRD);
    expect(after).toMatchObject({ state: 'open', epoch: 4, incarnation: 'other-tool-1', stats: { totalSuccesses: 41, totalFailures: 5, circuitOpens: 6, successfulRecoveries: 4, failedRecoveries: 1, timeInOpenStateMs: 12_345 } });
  });

  it.each([
    ['met by a GET', false],
    ['met first by a record', true],
  ])('a counter at 2^63 ("totalSuccesses":9223372036854775808), %s: only that statistic is replaced, and the circuit still opens after failureThreshold failures', async (_label, byRecord) => {
    const t = setup();
    const { results, after } = await failAfterEdit(t, HUGE_COUNTER, byRecord);
    expect(results).toEqual(OPENED_AT_THIRD);
    expect(t.errors.map((e) => [e.msg, String(e.fields?.reason)])).toEqual([[REPAIRED, expect.stringContaining('totalSuccesses')]]);
    // the state and every other statistic kept
    expect(after).toMatchObject({
      state: 'open',
      epoch: 4,
      incarnation: 'other-tool-1',
      stats: { totalFailures: 5, circuitOpens: 6, successfulRecoveries: 4, failedRecoveries: 1, timeInOpenStateMs: 12_345 },
    });
    expect(Number.isSafeInteger(after.stats.totalSuccesses)).toBe(true);
  });
});
