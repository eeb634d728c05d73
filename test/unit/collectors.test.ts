import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  COLLECTOR_ACTIVITY_BY_PROVIDER,
  CollectorConfigError,
  PROVIDER_BY_COLLECTOR_ACTIVITY,
  PROVIDER_NAMES,
  UPSTREAM_ERROR_TYPES,
  createCollectorActivities,
  httpStatusOf,
  upstreamErrorDetails,
  type CollectedResult,
  type CollectorActivities,
  type CollectorDeps,
  type ProviderName,
} from '../../activities/collectors';
import { MemoryResultStore } from '../../src/results';
import { SIM_PROVIDERS, startSimulator, type Simulator } from '../../src/sim';

const WETH = '0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2';
const FIXED_NOW = Date.parse('2025-11-11T13:20:00Z');

type Case = {
  provider: ProviderName;
  input: (key: string) => Record<string, unknown> & { idempotencyKey: string };
  items: (n: number) => boolean;
  /** The field the simulator's `malformed` fault breaks. */
  malformedField: string;
};

const CASES: Case[] = [
  { provider: 'moralis', input: (k) => ({ idempotencyKey: k, address: WETH }), items: (n) => n === 1, malformedField: 'usdPrice' },
  { provider: 'glassnode', input: (k) => ({ idempotencyKey: k, asset: 'BTC' }), items: (n) => n === 30, malformedField: '[0].v' },
  { provider: 'twitter', input: (k) => ({ idempotencyKey: k, query: 'bitcoin', maxResults: 20 }), items: (n) => n >= 1 && n <= 20, malformedField: 'data[0].id' },
  { provider: 'reddit', input: (k) => ({ idempotencyKey: k, subreddit: 'CryptoCurrency', limit: 7 }), items: (n) => n === 7, malformedField: 'data.children[0].data.title' },
  { provider: 'lunarcrush', input: (k) => ({ idempotencyKey: k, coin: 'ETH' }), items: (n) => n === 1, malformedField: 'data.galaxy_score' },
];

let sim: Simulator;
let results: MemoryResultStore;

function activities(overrides: Partial<CollectorDeps> = {}): CollectorActivities {
  return createCollectorActivities({ config: { providers: { ...sim.providers } }, results, clock: () => FIXED_NOW, ...overrides });
}

function run(acts: CollectorActivities, provider: ProviderName, input: Record<string, unknown>) {
  const fn = acts[COLLECTOR_ACTIVITY_BY_PROVIDER[provider]] as (i: Record<string, unknown>) => ReturnType<CollectorActivities['collectMoralis']>;
  return fn(input);
}

async function failureOf(p: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await p.then(
    () => {
      throw new Error('expected the activity to fail');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

beforeAll(async () => {
  sim = await startSimulator({ seed: 3 });
});
afterAll(() => sim.close());
beforeEach(async () => {
  results = new MemoryResultStore();
  await sim.control.reset();
});

describe('wiring', () => {
  it('one activity per provider, named as COLLECTOR_ACTIVITY_BY_PROVIDER says', () => {
    expect([...PROVIDER_NAMES]).toEqual([...SIM_PROVIDERS]);
    const acts = activities();
    expect(Object.keys(acts).sort()).toEqual(Object.values(COLLECTOR_ACTIVITY_BY_PROVIDER).sort());
    for (const p of PROVIDER_NAMES) {
      expect(typeof acts[COLLECTOR_ACTIVITY_BY_PROVIDER[p]]).toBe('function');
      expect(PROVIDER_BY_COLLECTOR_ACTIVITY[COLLECTOR_ACTIVITY_BY_PROVIDER[p]]).toBe(p);
    }
  });

  it('a bad configuration is refused, naming the field', () => {
    expect(() => createCollectorActivities({ config: { providers: { moralis: { baseUrl: 'ftp://x', apiKey: 'k' } } }, results })).toThrow(
      /providers\.moralis\.baseUrl/,
    );
    expect(() => createCollectorActivities({ config: { providers: { twitter: { baseUrl: 'http://x', apiKey: '' } } }, results })).toThrow(
      CollectorConfigError,
    );
    expect(() =>
      createCollectorActivities({ config: { providers: { reddit: { baseUrl: 'http://x', apiKey: 'k', timeoutMs: -1 } } }, results }),
    ).toThrow(/providers\.reddit\.timeoutMs/);
  });
});

describe.each(CASES)('$provider', ({ provider, input, items, malformedField }) => {
  it('success: fetches, validates, stores, summarizes', async () => {
    const summary = await run(activities(), provider, input('wf-1:0:' + provider));
    expect(summary).toMatchObject({ source: provider, idempotencyKey: 'wf-1:0:' + provider, stored: true });
    expect(items(summary.items)).toBe(true);
    const stored = await results.get<CollectedResult>(provider, 'wf-1:0:' + provider);
    expect(stored).toMatchObject({ source: provider, idempotencyKey: 'wf-1:0:' + provider, fetchedAt: '2025-11-11T13:20:00.000Z' });
    expect(stored?.items).toHaveLength(summary.items);
    expect(stored?.request).not.toHaveProperty('idempotencyKey');
    expect(await results.count(provider)).toBe(1);
    const stats = await sim.control.stats();
    expect(stats.providers[provider]).toMatchObject({ calls: 1, byStatus: { '200': 1 } });
  });

  it('outage: a retryable UpstreamServerError carrying HTTP 503; nothing stored', async () => {
    await sim.control.setFaults(provider, { outage: true });
    const f = await failureOf(run(activities(), provider, input('k')));
    expect(f.type).toBe(UPSTREAM_ERROR_TYPES.serverError);
    expect(f.nonRetryable).toBe(false);
    expect(httpStatusOf(f)).toBe(503);
    expect(f.message).toContain(provider);
    expect(f.message).toContain('503');
    expect(await results.count(provider)).toBe(0);
  });

  it('401 (wrong API key): a non-retryable UpstreamClientError; the key is not in the error', async () => {
    const acts = activities({ config: { providers: { ...sim.providers, [provider]: { ...sim.providers[provider], apiKey: 'not-my-key' } } } });
    const f = await failureOf(run(acts, provider, input('k')));
    expect(f.type).toBe(UPSTREAM_ERROR_TYPES.clientError);
    expect(f.nonRetryable).toBe(true);
    expect(httpStatusOf(f)).toBe(401);
    expect(upstreamErrorDetails(f)?.provider).toBe(provider);
    expect(JSON.stringify({ message: f.message, details: f.details })).not.toContain('not-my-key');
  });

  it('malformed payload: a retryable MalformedPayload naming the provider and the field', async () => {
    await sim.control.setFaults(provider, { malformed: true });
    const f = await failureOf(run(activities(), provider, input('k')));
    expect(f.type).toBe(UPSTREAM_ERROR_TYPES.malformed);
    expect(f.nonRetryable).toBe(false);
    expect(f.message).toMatch(new RegExp(`^${provider}: malformed payload`));
    expect(f.message).toContain(malformedField);
    expect(upstreamErrorDetails(f)?.field).toBe(malformedField);
    expect(await results.count(provider)).toBe(0);
  });

  it('idempotency: the same key twice stores once and calls the provider once', async () => {
    const acts = activities();
    const first = await run(acts, provider, input('wf:1:' + provider));
    const second = await run(acts, provider, input('wf:1:' + provider));
    expect(first.stored).toBe(true);
    expect(first.upstreamCalled).toBe(true);
    expect(second).toEqual({ ...first, stored: false, upstreamCalled: false });
    expect(await results.count(provider)).toBe(1);
    expect((await sim.control.stats()).providers[provider].calls).toBe(1);
    // a new cycle is a new key
    expect((await run(acts, provider, input('wf:2:' + provider))).stored).toBe(true);
    expect(await results.count(provider)).toBe(2);
  });
});

describe('idempotency under retries and races', () => {
  it('a failed attempt stores nothing; the retry stores once', async () => {
    const acts = activities();
    await sim.control.setFaults('glassnode', { errorRate: 1 });
    await failureOf(acts.collectGlassnode({ idempotencyKey: 'r', asset: 'ETH' }));
    await sim.control.setFaults('glassnode', { errorRate: 0 });
    expect((await acts.collectGlassnode({ idempotencyKey: 'r', asset: 'ETH' })).stored).toBe(true);
    expect((await acts.collectGlassnode({ idempotencyKey: 'r', asset: 'ETH' })).stored).toBe(false);
    expect(await results.count('glassnode')).toBe(1);
  });

  it('concurrent attempts with one key store exactly once', async () => {
    const acts = activities();
    await sim.control.setFaults('reddit', { latencyMs: 50 });
    const summaries = await Promise.all(Array.from({ length: 5 }, () => acts.collectReddit({ idempotencyKey: 'race', subreddit: 'Bitcoin' })));
    expect(summaries.filter((s) => s.stored)).toHaveLength(1);
    expect(await results.count('reddit')).toBe(1);
  });
});

describe('error classification', () => {
  it('timeout: the call is abandoned after timeoutMs as a retryable UpstreamTimeout', async () => {
    await sim.control.setFaults('moralis', { timeout: true });
    const acts = activities({ config: { providers: { ...sim.providers, moralis: { ...sim.providers.moralis, timeoutMs: 200 } } } });
    const t0 = performance.now();
    const f = await failureOf(acts.collectMoralis({ idempotencyKey: 't', address: WETH }));
    expect(performance.now() - t0).toBeLessThan(2_000);
    expect(f.type).toBe(UPSTREAM_ERROR_TYPES.timeout);
    expect(f.nonRetryable).toBe(false);
    expect(f.message).toMatch(/moralis: no answer within 200 ms/);
    expect(httpStatusOf(f)).toBeUndefined();
  });

  it('slow but within the timeout: succeeds', async () => {
    await sim.control.setFaults('lunarcrush', { latencyMs: 100 });
    const acts = activities({ config: { providers: { ...sim.providers, lunarcrush: { ...sim.providers.lunarcrush, timeoutMs: 2_000 } } } });
    expect((await acts.collectLunarCrush({ idempotencyKey: 's', coin: 'BTC' })).stored).toBe(true);
  });

  it('429: a retryable UpstreamRateLimited with the Retry-After', async () => {
    await sim.control.setFaults('twitter', { rateLimited: true });
    const f = await failureOf(activities().collectTwitter({ idempotencyKey: 'k', query: 'eth' }));
    expect(f.type).toBe(UPSTREAM_ERROR_TYPES.rateLimited);
    expect(f.nonRetryable).toBe(false);
    expect(upstreamErrorDetails(f)).toMatchObject({ provider: 'twitter', status: 429, retryAfterMs: 1000 });
  });

  it('400 from the provider (unsupported asset): non-retryable UpstreamClientError with the provider message', async () => {
    const f = await failureOf(activities().collectGlassnode({ idempotencyKey: 'k', asset: 'ZZZ' }));
    expect(f.type).toBe(UPSTREAM_ERROR_TYPES.clientError);
    expect(f.nonRetryable).toBe(true);
    expect(httpStatusOf(f)).toBe(400);
    expect(f.message).toContain('not supported');
  });

  it('500 (errorRate): retryable UpstreamServerError', async () => {
    await sim.control.setFaults('lunarcrush', { errorRate: 1 });
    const f = await failureOf(activities().collectLunarCrush({ idempotencyKey: 'k', coin: 'BTC' }));
    expect(f.type).toBe(UPSTREAM_ERROR_TYPES.serverError);
    expect(f.nonRetryable).toBe(false);
    expect(httpStatusOf(f)).toBe(500);
  });

  it('connection refused: retryable UpstreamConnectionError', async () => {
    const dead = await startSimulator();
    const deadUrl = dead.providers.reddit.baseUrl;
    await dead.close();
    const acts = activities({ config: { providers: { reddit: { baseUrl: deadUrl, apiKey: 'k', timeoutMs: 2_000 } } } });
    const f = await failureOf(acts.collectReddit({ idempotencyKey: 'k', subreddit: 'Bitcoin' }));
    expect(f.type).toBe(UPSTREAM_ERROR_TYPES.connection);
    expect(f.nonRetryable).toBe(false);
    expect(f.message).toMatch(/^reddit: cannot reach/);
  });

  it('invalid input: non-retryable InvalidCollectorInput naming the field; no call made', async () => {
    const acts = activities();
    const f = await failureOf(acts.collectMoralis({ idempotencyKey: 'k', address: '0x123' }));
    expect(f.type).toBe(UPSTREAM_ERROR_TYPES.invalidInput);
    expect(f.nonRetryable).toBe(true);
    expect(f.message).toMatch(/^moralis: invalid collector input: address:/);
    const noKey = await failureOf(acts.collectTwitter({ query: 'x' } as never));
    expect(noKey.message).toContain('idempotencyKey');
    const extra = await failureOf(acts.collectReddit({ idempotencyKey: 'k', subreddit: 'Bitcoin', sort: 'top' } as never));
    expect(extra.message).toContain('sort');
    expect((await sim.control.stats()).providers.moralis.calls).toBe(0);
  });

  it('a provider without configuration: non-retryable CollectorNotConfigured', async () => {
    const acts = activities({ config: { providers: { moralis: sim.providers.moralis } } });
    const f = await failureOf(acts.collectLunarCrush({ idempotencyKey: 'k', coin: 'BTC' }));
    expect(f.type).toBe(UPSTREAM_ERROR_TYPES.notConfigured);
    expect(f.nonRetryable).toBe(true);
    expect((await acts.collectMoralis({ idempotencyKey: 'k', address: WETH })).stored).toBe(true);
  });

  it('cancellation aborts an in-flight call with the cancellation reason', async () => {
    await sim.control.setFaults('glassnode', { latencyMs: 2_000 });
    const controller = new AbortController();
    const acts = activities({ cancellationSignal: () => controller.signal });
    const pending = acts.collectGlassnode({ idempotencyKey: 'c', asset: 'BTC' });
    setTimeout(() => controller.abort(new Error('activity cancelled')), 50);
    await expect(pending).rejects.toThrow('activity cancelled');
    expect(await results.count('glassnode')).toBe(0);
  });
});
