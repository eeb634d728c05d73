/* eslint-disable @typescript-eslint/no-explicit-any -- the tests poke into untyped JSON bodies */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_SIM_API_KEYS,
  InvalidControlInputError,
  SIM_PROVIDERS,
  SimulatorControl,
  SimulatorControlError,
  startSimulator,
  type SimProvider,
  type Simulator,
} from '../../src/sim';
import { main } from '../../src/sim/main';

const WETH = '0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2';

/** A valid request path (below /{provider}) for each provider. */
const PATHS: Record<SimProvider, string> = {
  moralis: `/api/v2.2/erc20/${WETH}/price?chain=eth`,
  glassnode: '/v1/metrics/addresses/active_count?a=BTC',
  twitter: '/2/tweets/search/recent?query=bitcoin&max_results=10',
  reddit: '/r/CryptoCurrency/new.json?limit=5',
  lunarcrush: '/api4/public/coins/BTC/v1',
};

function authHeader(p: SimProvider, key: string = DEFAULT_SIM_API_KEYS[p]): Record<string, string> {
  return p === 'moralis' || p === 'glassnode' ? { 'X-API-Key': key } : { Authorization: `Bearer ${key}` };
}

async function call(sim: Simulator, p: SimProvider, opts: { path?: string; key?: string | null; signal?: AbortSignal } = {}) {
  const headers = opts.key === null ? {} : authHeader(p, opts.key ?? undefined);
  const res = await fetch(`${sim.url}/${p}${opts.path ?? PATHS[p]}`, { headers, signal: opts.signal });
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: res.status, body: body as any, headers: res.headers };
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

let sim: Simulator;
let http: SimulatorControl;

beforeAll(async () => {
  sim = await startSimulator({ seed: 7 });
  http = new SimulatorControl(sim.url);
});
afterAll(() => sim.close());
beforeEach(() => sim.control.reset());

describe('simulator endpoints', () => {
  it('listens on a free port on 127.0.0.1 and exposes per-provider base URLs and keys', () => {
    expect(sim.url).toBe(`http://127.0.0.1:${sim.port}`);
    expect(sim.port).toBeGreaterThan(0);
    for (const p of SIM_PROVIDERS) {
      expect(sim.providers[p]).toEqual({ baseUrl: `${sim.url}/${p}`, apiKey: DEFAULT_SIM_API_KEYS[p] });
    }
  });

  it('moralis: ERC-20 price', async () => {
    const { status, body } = await call(sim, 'moralis');
    expect(status).toBe(200);
    expect(body).toMatchObject({ tokenName: 'Wrapped Ether', tokenSymbol: 'WETH', tokenAddress: WETH.toLowerCase() });
    expect(typeof body.usdPrice).toBe('number');
    expect(body.usdPrice).toBeGreaterThan(3000);
    expect(body.nativePrice).toMatchObject({ decimals: 18, symbol: 'ETH' });
  });

  it('moralis: bad address or chain answers 400', async () => {
    expect((await call(sim, 'moralis', { path: '/api/v2.2/erc20/0x123/price' })).status).toBe(400);
    expect((await call(sim, 'moralis', { path: `/api/v2.2/erc20/${WETH}/price?chain=nope` })).status).toBe(400);
  });

  it('glassnode: a daily series of {t, v}', async () => {
    const { status, body } = await call(sim, 'glassnode');
    expect(status).toBe(200);
    expect(Array.isArray(body)).toBe(true);
    expect(body).toHaveLength(30);
    for (const point of body) {
      expect(Number.isInteger(point.t)).toBe(true);
      expect(point.t % 86_400).toBe(0);
      expect(typeof point.v).toBe('number');
    }
    expect(body[1].t - body[0].t).toBe(86_400);
  });

  it('glassnode: window, missing asset, unknown metric', async () => {
    const now = Math.floor(Date.now() / 1000);
    const u = now - (now % 3600);
    const win = await call(sim, 'glassnode', { path: `/v1/metrics/market/price_usd_close?a=ETH&i=1h&s=${u - 5 * 3600}&u=${u}` });
    expect(win.body.map((p: { t: number }) => p.t)).toEqual([5, 4, 3, 2, 1, 0].map((k) => u - k * 3600));
    expect((await call(sim, 'glassnode', { path: '/v1/metrics/addresses/active_count' })).status).toBe(400);
    expect((await call(sim, 'glassnode', { path: '/v1/metrics/nope/nothing?a=BTC' })).status).toBe(404);
  });

  it('twitter: recent search', async () => {
    const { status, body } = await call(sim, 'twitter');
    expect(status).toBe(200);
    expect(body.meta.result_count).toBe(body.data.length);
    expect(body.data.length).toBeGreaterThanOrEqual(1);
    expect(body.data.length).toBeLessThanOrEqual(10);
    for (const t of body.data) {
      expect(t.id).toMatch(/^\d{18,20}$/);
      expect(t.text).toContain('bitcoin');
      expect(new Date(t.created_at).toISOString()).toBe(t.created_at);
    }
    expect((await call(sim, 'twitter', { path: '/2/tweets/search/recent' })).status).toBe(400);
    expect((await call(sim, 'twitter', { path: '/2/tweets/search/recent?query=x&max_results=5' })).status).toBe(400);
  });

  it('reddit: newest posts as a Listing', async () => {
    const { status, body } = await call(sim, 'reddit');
    expect(status).toBe(200);
    expect(body.kind).toBe('Listing');
    expect(body.data.children).toHaveLength(5);
    for (const c of body.data.children) {
      expect(c.kind).toBe('t3');
      expect(c.data).toMatchObject({ subreddit: 'CryptoCurrency' });
      expect(typeof c.data.id).toBe('string');
      expect(typeof c.data.title).toBe('string');
      expect(typeof c.data.created_utc).toBe('number');
      expect(typeof c.data.score).toBe('number');
    }
  });

  it('lunarcrush: coin metrics', async () => {
    const { status, body } = await call(sim, 'lunarcrush');
    expect(status).toBe(200);
    expect(body.data).toMatchObject({ symbol: 'BTC', name: 'Bitcoin' });
    expect(body.data.galaxy_score).toBeGreaterThanOrEqual(0);
    expect(body.data.galaxy_score).toBeLessThanOrEqual(100);
    expect(Number.isInteger(body.data.alt_rank)).toBe(true);
    expect(typeof body.data.sentiment).toBe('number');
    expect((await call(sim, 'lunarcrush', { path: '/api4/public/coins/2/v1' })).body.data.symbol).toBe('ETH');
  });

  it('unknown paths answer 404 (counted for the provider, or as unrouted)', async () => {
    expect((await call(sim, 'moralis', { path: '/api/v2.2/nothing' })).status).toBe(404);
    expect((await fetch(`${sim.url}/coingecko/api`)).status).toBe(404);
    const stats = await sim.control.stats();
    expect(stats.providers.moralis.byStatus).toEqual({ '404': 1 });
    expect(stats.unrouted).toBe(1);
  });

  it('the same seed gives the same payloads', async () => {
    const other = await startSimulator({ seed: 7 });
    try {
      for (const p of SIM_PROVIDERS) {
        if (p === 'twitter' || p === 'reddit') continue; // their timestamps follow the wall clock
        expect((await call(other, p)).body).toEqual((await call(sim, p)).body);
      }
    } finally {
      await other.close();
    }
  });
});

describe('API keys', () => {
  it.each(SIM_PROVIDERS)('%s answers 401 without a key and with a wrong key', async (p) => {
    const missing = await call(sim, p, { key: null });
    expect(missing.status).toBe(401);
    expect(JSON.stringify(missing.body)).toMatch(/API key/);
    expect((await call(sim, p, { key: 'wrong' })).status).toBe(401);
    expect((await call(sim, p)).status).toBe(200);
  });

  it('bearer providers require the Bearer scheme; header names are case-insensitive', async () => {
    const raw = await fetch(`${sim.url}/twitter${PATHS.twitter}`, { headers: { Authorization: DEFAULT_SIM_API_KEYS.twitter } });
    expect(raw.status).toBe(401);
    expect(raw.headers.get('www-authenticate')).toBe('Bearer');
    const lower = await fetch(`${sim.url}/glassnode${PATHS.glassnode}`, { headers: { 'x-api-key': DEFAULT_SIM_API_KEYS.glassnode } });
    expect(lower.status).toBe(200);
  });

  it('keys are configurable', async () => {
    const other = await startSimulator({ apiKeys: { moralis: 'secret' } });
    try {
      expect(other.providers.moralis.apiKey).toBe('secret');
      expect((await call(other, 'moralis', { key: 'secret' })).status).toBe(200);
      expect((await call(other, 'moralis')).status).toBe(401);
    } finally {
      await other.close();
    }
  });
});

describe('fault injection', () => {
  it('outage: 503 for that provider only, until cleared', async () => {
    await http.setFaults('glassnode', { outage: true });
    expect((await call(sim, 'glassnode')).status).toBe(503);
    expect((await call(sim, 'moralis')).status).toBe(200);
    await http.setFaults('glassnode', { outage: false });
    expect((await call(sim, 'glassnode')).status).toBe(200);
    const stats = await http.stats();
    expect(stats.providers.glassnode).toMatchObject({ calls: 2, byStatus: { '503': 1, '200': 1 } });
  });

  it('setFaults merges fields; clearFaults and reset clear them', async () => {
    await http.setFaults('twitter', { outage: true });
    const merged = await http.setFaults('twitter', { latencyMs: 5 });
    expect(merged).toEqual({ outage: true, errorRate: 0, latencyMs: 5, malformed: false, timeout: false, rateLimited: false });
    expect((await http.faults()).twitter.outage).toBe(true);
    await http.clearFaults('twitter');
    expect((await http.faults()).twitter.outage).toBe(false);
    await http.setFaults('reddit', { outage: true });
    await http.reset();
    expect((await http.faults()).reddit.outage).toBe(false);
  });

  it('errorRate 1 fails every call with 500, 0 none', async () => {
    await sim.control.setFaults('lunarcrush', { errorRate: 1 });
    for (let i = 0; i < 5; i++) expect((await call(sim, 'lunarcrush')).status).toBe(500);
    await sim.control.setFaults('lunarcrush', { errorRate: 0 });
    for (let i = 0; i < 5; i++) expect((await call(sim, 'lunarcrush')).status).toBe(200);
  });

  it('errorRate is reproducible by seed', async () => {
    const sequence = async (s: Simulator, n = 60) => {
      await s.control.setFaults('moralis', { errorRate: 0.3 });
      const statuses: number[] = [];
      for (let i = 0; i < n; i++) statuses.push((await call(s, 'moralis')).status);
      return statuses;
    };
    const a = await startSimulator({ seed: 42 });
    const b = await startSimulator({ seed: 42 });
    const c = await startSimulator({ seed: 43 });
    try {
      const seqA = await sequence(a);
      expect(await sequence(b)).toEqual(seqA);
      expect(await sequence(c)).not.toEqual(seqA);
      const failures = seqA.filter((s) => s === 500).length;
      expect(failures).toBeGreaterThan(60 * 0.1);
      expect(failures).toBeLessThan(60 * 0.5);
      expect(new Set(seqA)).toEqual(new Set([200, 500]));
      // reset restarts the stream: the same sequence again
      await a.control.reset();
      expect(await sequence(a)).toEqual(seqA);
      // another provider's traffic does not shift this provider's stream
      await b.control.reset();
      await b.control.setFaults('moralis', { errorRate: 0.3 });
      await b.control.setFaults('glassnode', { errorRate: 0.5 });
      const interleaved: number[] = [];
      for (let i = 0; i < 60; i++) {
        await call(b, 'glassnode');
        interleaved.push((await call(b, 'moralis')).status);
      }
      expect(interleaved).toEqual(seqA);
      // reset with a new seed
      await c.control.reset({ seed: 42 });
      expect(await sequence(c)).toEqual(seqA);
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });

  it.each([
    ['moralis', (b: any) => typeof b.usdPrice !== 'number'],
    ['glassnode', (b: any) => typeof b[0].v !== 'number'],
    ['twitter', (b: any) => typeof b.data[0].id !== 'string'],
    ['reddit', (b: any) => b.data.children[0].data.title === undefined],
    ['lunarcrush', (b: any) => typeof b.data.galaxy_score !== 'number'],
  ] as const)('malformed: %s answers 200 with a body that breaks its schema', async (p, broken) => {
    await sim.control.setFaults(p, { malformed: true });
    const { status, body } = await call(sim, p);
    expect(status).toBe(200);
    expect(broken(body)).toBe(true);
    // malformed applies to successful answers only
    expect((await call(sim, p, { key: null })).status).toBe(401);
  });

  it('latency delays the answer', async () => {
    await sim.control.setFaults('reddit', { latencyMs: 150 });
    const t0 = performance.now();
    expect((await call(sim, 'reddit')).status).toBe(200);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
  });

  it('rateLimited answers 429 with Retry-After', async () => {
    await sim.control.setFaults('twitter', { rateLimited: true });
    const res = await call(sim, 'twitter');
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('1');
  });

  it('timeout: never answers; the client gives up and the call counts as aborted', async () => {
    await sim.control.setFaults('moralis', { timeout: true });
    const t0 = performance.now();
    await expect(call(sim, 'moralis', { signal: AbortSignal.timeout(200) })).rejects.toThrow(/abort|timeout/i);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(190);
    const during = await sim.control.stats();
    expect(during.providers.moralis.calls).toBe(1);
    await waitFor(async () => (await sim.control.stats()).providers.moralis.inFlight === 0);
    const after = await sim.control.stats();
    expect(after.providers.moralis).toMatchObject({ calls: 1, aborted: 1, byStatus: {}, inFlight: 0, maxInFlight: 1 });
  });

  it('close() drops hanging calls', async () => {
    const other = await startSimulator();
    await other.control.setFaults('glassnode', { timeout: true });
    const pending = call(other, 'glassnode').catch((e: Error) => e);
    await waitFor(async () => (await other.control.stats()).providers.glassnode.inFlight === 1);
    const t0 = performance.now();
    await other.close();
    expect(performance.now() - t0).toBeLessThan(1_000);
    expect(await pending).toBeInstanceOf(Error);
  });
});

describe('counters', () => {
  it('counts calls by status and tracks in-flight and max in-flight under concurrency', async () => {
    await sim.control.setFaults('twitter', { latencyMs: 200 });
    const calls = Array.from({ length: 8 }, () => call(sim, 'twitter'));
    await waitFor(async () => (await http.stats()).providers.twitter.inFlight === 8);
    const results = await Promise.all(calls);
    expect(results.every((r) => r.status === 200)).toBe(true);
    await call(sim, 'twitter', { key: null }); // one 401, after the burst
    const stats = await http.stats();
    expect(stats.providers.twitter).toEqual({ calls: 9, byStatus: { '200': 8, '401': 1 }, aborted: 0, inFlight: 0, maxInFlight: 8 });
    expect(stats.providers.reddit).toEqual({ calls: 0, byStatus: {}, aborted: 0, inFlight: 0, maxInFlight: 0 });
  });

  it('reset zeroes the counters', async () => {
    await call(sim, 'reddit');
    expect((await http.stats()).providers.reddit.calls).toBe(1);
    await http.reset();
    const stats = await http.stats();
    expect(stats.providers.reddit).toEqual({ calls: 0, byStatus: {}, aborted: 0, inFlight: 0, maxInFlight: 0 });
  });

  it('control calls are not counted', async () => {
    await http.stats();
    await http.faults();
    const stats = await http.stats();
    for (const p of SIM_PROVIDERS) expect(stats.providers[p].calls).toBe(0);
  });
});

describe('control input validation', () => {
  async function post(path: string, body: string) {
    const res = await fetch(`${sim.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    return { status: res.status, body: (await res.json()) as { error: string; issues?: { field: string }[] } };
  }

  it.each([
    [{ errorRate: 1.5 }, 'errorRate'],
    [{ errorRate: 'often' }, 'errorRate'],
    [{ latencyMs: -1 }, 'latencyMs'],
    [{ latencyMs: 1.5 }, 'latencyMs'],
    [{ outage: 'yes' }, 'outage'],
    [{ malformed: 1 }, 'malformed'],
    [{ timeout: null }, 'timeout'],
    [{ outages: true }, 'outages'],
  ])('faults %j → 400 naming %s', async (faults, field) => {
    const { status, body } = await post('/_control/moralis/faults', JSON.stringify(faults));
    expect(status).toBe(400);
    expect(body.error).toContain(field);
    expect(body.issues?.map((i) => i.field)).toContain(field);
    // nothing was applied
    expect((await http.faults()).moralis).toEqual({ outage: false, errorRate: 0, latencyMs: 0, malformed: false, timeout: false, rateLimited: false });
  });

  it('a body that is not JSON or not an object → 400', async () => {
    const bad = await post('/_control/moralis/faults', '{outage: true');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/body.*JSON/);
    expect((await post('/_control/moralis/faults', '[1]')).status).toBe(400);
    const seed = await post('/_control/reset', '{"seed":"x"}');
    expect(seed.status).toBe(400);
    expect(seed.body.error).toContain('seed');
  });

  it('an unknown provider → 404 naming it; unknown control path → 404', async () => {
    const res = await post('/_control/coingecko/faults', '{}');
    expect(res.status).toBe(404);
    expect(res.body.error).toContain('coingecko');
    expect((await fetch(`${sim.url}/_control/nothing`)).status).toBe(404);
  });

  it('the HTTP client throws SimulatorControlError with the message; the in-process control throws too', async () => {
    const err = await http.setFaults('moralis', { errorRate: 7 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SimulatorControlError);
    expect((err as SimulatorControlError).status).toBe(400);
    expect((err as Error).message).toContain('errorRate');
    await expect(sim.control.setFaults('moralis', { latencyMs: -5 })).rejects.toThrow(InvalidControlInputError);
    await expect(sim.control.setFaults('nope' as SimProvider, {})).rejects.toThrow(/provider/);
  });

  it('bad simulator options name the field', async () => {
    await expect(startSimulator({ port: 70_000 })).rejects.toThrow(/port/);
    await expect(startSimulator({ seed: 1.5 })).rejects.toThrow(/seed/);
  });
});

describe('CLI', () => {
  it('starts on the given port and logs its URL', async () => {
    const lines: string[] = [];
    const cli = await main(['node', 'main.ts', '--port', '0', '--seed', '9'], (l) => lines.push(l));
    try {
      expect(lines[0]).toBe(`upstream simulator listening on ${cli.url} (seed 9)`);
      expect(lines.join('\n')).toContain(`${cli.url}/moralis`);
      expect((await call(cli, 'lunarcrush')).status).toBe(200);
    } finally {
      await cli.close();
    }
  });
});
