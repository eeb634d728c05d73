// The breaker's script as a Redis Functions library (Redis 7+): loaded on the first call that
// finds it missing, loaded again after a FUNCTION FLUSH, and run by EVALSHA where the server or
// the user's ACL has no Functions. Its memos (the state the last call left, the parsed settings,
// a time window's encoded older buckets) never let a failed call leave anything behind, nor a
// stored value inject one. On a redis-server of this file's own, since it flushes the library and
// changes the ACL.
import type Redis from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CircuitBreaker, MemoryBreakerStore, parseBreakerConfig, RedisBreakerStore, silentLogger, type BreakerStore } from '../../src';
import { FUNCTION_NAME } from '../../src/store/breaker-script';
import { newRedis, startRedisServer, type RedisServer } from '../helpers/redis';

let server: RedisServer;
let admin: Redis;
const clients: Redis[] = [];
const T0 = Date.UTC(2026, 5, 1);
const PREFIX = 'functions:';
let seq = 0;
const unique = (label: string) => `${label}-${seq++}`;

beforeAll(async () => {
  server = await startRedisServer();
  admin = newRedis(server.url);
});
afterAll(async () => {
  await Promise.all([admin, ...clients].map((c) => c.quit().catch(() => undefined)));
  await server?.stop();
});
beforeEach(async () => {
  await admin.function('FLUSH');
  await admin.config('RESETSTAT');
});

function client(url = server.url): Redis {
  const c = newRedis(url);
  clients.push(c);
  return c;
}

/** A breaker that opens on the third failure, on a store of its own client. */
function breaker(redis: Redis = client()) {
  const store = new RedisBreakerStore({ redis, keyPrefix: PREFIX, logger: silentLogger, timeoutMs: 5_000 });
  return new CircuitBreaker({ collectorName: unique('fn'), failureThreshold: 3, timeoutSeconds: 60 }, store);
}

async function fail(b: CircuitBreaker, times: number, at: number): Promise<void> {
  for (let i = 0; i < times; i++) {
    const d = await b.acquire(at + i);
    if (!d.allowed) throw new Error(`call ${i} rejected`);
    await b.recordFailure(d.permit, at + i);
  }
}

/** Calls per command since the last RESETSTAT (INFO commandstats). */
async function calls(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const m of (await admin.info('commandstats')).matchAll(/^cmdstat_([\w|]+):calls=(\d+)/gm)) out[m[1]] = Number(m[2]);
  return out;
}

/** Script calls by EVALSHA (the first one by EVAL, after NOSCRIPT). */
const scripted = (n: Record<string, number>) => (n.evalsha ?? 0) + (n.eval ?? 0);

async function libraries(): Promise<string[]> {
  const list = (await admin.function('LIST')) as unknown[][];
  return list.map((lib) => String(lib[lib.indexOf('library_name') + 1]));
}

const stored = async (b: CircuitBreaker) => JSON.parse((await admin.get(PREFIX + b.name))!) as { state: string; stats: { totalFailures: number; totalSuccesses: number } };

describe('the script as a Redis Functions library', () => {
  it('is loaded by the first call that finds it missing, and every call goes by FCALL', async () => {
    const b = breaker();
    await fail(b, 3, T0);
    expect((await b.acquire(T0 + 10)).allowed).toBe(false);
    expect(await libraries()).toEqual([FUNCTION_NAME]);
    const n = await calls();
    expect(n['function|load']).toBe(1);
    expect(n.fcall).toBeGreaterThanOrEqual(3);
    expect(n.evalsha ?? 0).toBe(0);
    expect(n.eval ?? 0).toBe(0);
    expect((await stored(b)).stats.totalFailures).toBe(3);
  });

  it('is loaded again after a FUNCTION FLUSH, and no outcome is lost', async () => {
    const b = breaker();
    await fail(b, 2, T0);
    await admin.function('FLUSH');
    await fail(b, 1, T0 + 5);
    expect((await b.acquire(T0 + 10)).allowed).toBe(false);
    const s = await stored(b);
    expect([s.state, s.stats.totalFailures]).toEqual(['open', 3]);
    expect((await calls())['function|load']).toBe(2);
  });

  it('runs by EVALSHA for a user whose ACL denies Functions, with the same rules', async () => {
    await admin.acl('SETUSER', 'nofunctions', 'on', '>secret', '~*', '&*', '+@all', '-function', '-fcall', '-fcall_ro');
    const b = breaker(client(`redis://nofunctions:secret@127.0.0.1:${server.port}`));
    await fail(b, 3, T0);
    expect((await b.acquire(T0 + 10)).allowed).toBe(false);
    const n = await calls();
    expect(scripted(n)).toBeGreaterThanOrEqual(3);
    expect(n['function|load'] ?? 0).toBe(0);
    expect(await libraries()).toEqual([]);
    expect((await stored(b)).stats.totalFailures).toBe(3);
  });

  it('runs by EVALSHA for a user who may call a function but not load one', async () => {
    await admin.acl('SETUSER', 'noload', 'on', '>secret', '~*', '&*', '+@all', '-function');
    const b = breaker(client(`redis://noload:secret@127.0.0.1:${server.port}`));
    await fail(b, 3, T0);
    expect((await b.acquire(T0 + 10)).allowed).toBe(false);
    expect(scripted(await calls())).toBeGreaterThanOrEqual(3);
    expect((await stored(b)).stats.totalFailures).toBe(3);
  });

  it('a record that fails part-way leaves nothing behind in the memo of decoded states', async () => {
    const b = breaker();
    const d = await b.acquire(T0);
    if (!d.allowed) throw new Error('expected admission');
    await b.recordSuccess(d.permit, T0);
    const before = (await admin.get(PREFIX + b.name))!;
    const { epoch, incarnation } = JSON.parse(before) as { epoch: number; incarnation: string };
    const entry = (now: string | number) => [epoch, -1, 'success', incarnation, -1, -1, '', now];
    // Two outcomes in one call, the second with a bad `now`: the script fails after applying the first.
    const call = admin.fcall(FUNCTION_NAME, 1, PREFIX + b.name, 'record', T0 + 1, 86_400, '3,60,1,1,2,600', 'nonce000', ...entry(T0 + 1), ...entry('soon'));
    await expect(call).rejects.toThrow(/invalid now: soon/);
    expect(await admin.get(PREFIX + b.name)).toBe(before);
    // The next calls start from the stored value, not from the half-applied one.
    const cfg = parseBreakerConfig({ collectorName: b.name, failureThreshold: 3, timeoutSeconds: 60 });
    const loaded = await new RedisBreakerStore({ redis: client(), keyPrefix: PREFIX, logger: silentLogger, snapshotMaxAgeMs: 0 }).load(cfg);
    expect(loaded.stats.totalSuccesses).toBe(1);
    const next = await b.acquire(T0 + 2);
    if (!next.allowed) throw new Error('expected admission');
    await b.recordSuccess(next.permit, T0 + 2);
    expect((await stored(b)).stats.totalSuccesses).toBe(2);
  });

  it('a value edited by hand after a call is decoded afresh, not taken from the memo', async () => {
    const b = breaker();
    await fail(b, 2, T0);
    const raw = (await admin.get(PREFIX + b.name))!;
    await admin.set(PREFIX + b.name, raw.replace('"failureCount":2', '"failureCount":0'), 'KEEPTTL');
    await fail(b, 2, T0 + 5);
    const s = await stored(b);
    expect([s.state, s.stats.totalFailures]).toEqual(['closed', 4]);
  });

  describe('a time window keeps the JSON of its older buckets between calls', () => {
    // 20 buckets of 1 s; it never opens, so every outcome stays in the window.
    const config = { mode: 'time-window' as const, windowSize: 20, minimumNumberOfCalls: 1000, failureRateThreshold: 50 };
    const timed = (store: BreakerStore, name: string) => new CircuitBreaker({ collectorName: name, ...config }, store);
    const windowOf = async (b: CircuitBreaker) => ((await b.store.load(b.config)) as { window?: unknown }).window;

    it('and writes the same window as the model through head moves, late outcomes and a gap', async () => {
      const name = unique('tw');
      const redis = timed(new RedisBreakerStore({ redis: client(), keyPrefix: PREFIX, logger: silentLogger, timeoutMs: 5_000 }), name);
      const model = timed(new MemoryBreakerStore(), name);
      // Seconds after T0 of each outcome: in the head bucket, the head moving on, late outcomes in
      // older buckets, a gap longer than the window, then the head again.
      const at = [0, 0.2, 0.5, 1.1, 1.3, 3.2, 3.4, 1.5, 3.6, 2.9, 3.7, 9.9, 10, 4, 10.1, 33, 33.5, 14.9, 33.9, 34.2, 34.3];
      for (const [i, sec] of at.entries()) {
        const now = T0 + Math.round(sec * 1000);
        for (const b of [redis, model]) {
          const d = await b.acquire(now);
          if (!d.allowed) throw new Error('a window that never opens rejected a call');
          if (i % 3 === 2) await b.recordFailure(d.permit, now);
          else await b.recordSuccess(d.permit, now);
        }
        const stored = JSON.parse((await admin.get(PREFIX + name))!) as { window: unknown };
        expect(stored.window, `after outcome ${i} (+${sec} s)`).toEqual(await windowOf(model));
      }
    });

    it('and never takes that JSON from a stored value', async () => {
      const b = timed(new RedisBreakerStore({ redis: client(), keyPrefix: PREFIX, logger: silentLogger, timeoutMs: 5_000 }), unique('tw'));
      for (const sec of [0, 1, 2]) {
        const d = await b.acquire(T0 + sec * 1000);
        if (d.allowed) await b.recordSuccess(d.permit, T0 + sec * 1000);
      }
      const key = PREFIX + b.name;
      const raw = (await admin.get(key))!;
      await admin.set(key, raw.replace('"buckets":', '"tail":",[9,9,9]","json":"x","buckets":'), 'KEEPTTL');
      const d = await b.acquire(T0 + 2500);
      if (d.allowed) await b.recordSuccess(d.permit, T0 + 2500);
      const after = JSON.parse((await admin.get(key))!) as { window: { buckets: number[][] } };
      expect(after.window.buckets).toEqual([
        [2, 0, 0],
        [1, 0, 0],
        [1, 0, 0],
      ]);
    });
  });
});
