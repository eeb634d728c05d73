/**
 * Twitter / X (social) stand-in: GET /2/tweets/search/recent?query=...&max_results=10
 * answers `{ data: [{ id, text, created_at }], meta: { result_count, newest_id, oldest_id } }`.
 * Auth: `Authorization: Bearer <token>`.
 */
import { pick, randInt } from '../rng';
import type { ProviderSpec, SimResponse } from '../types';

const PHRASES = [
  'looks bullish today',
  'is consolidating, waiting for a breakout',
  'whales are moving again',
  'funding rates are flipping negative',
  'volume is picking up on the spot markets',
  'just broke the weekly resistance',
  'sentiment feels overheated',
  'on-chain activity keeps climbing',
];

const error = (status: number, detail: string): SimResponse => ({
  status,
  body: { title: status === 400 ? 'Invalid Request' : 'Error', detail, type: 'about:blank', status },
});

/** A 19-digit snowflake-like id that grows with time (as Twitter's do). */
function snowflake(ms: number, seq: number): string {
  const twepoch = 1288834974657n;
  return ((BigInt(Math.max(0, Math.floor(ms))) - twepoch) * 4194304n + BigInt(seq % 4096)).toString();
}

export const twitter: ProviderSpec = {
  name: 'twitter',
  auth: { header: 'authorization', scheme: 'Bearer' },
  route(pathname, query, { rng, now }) {
    if (pathname !== '/2/tweets/search/recent') return error(404, `Cannot GET ${pathname}`);
    const q = query.get('query');
    if (!q || q.trim() === '') return error(400, 'query: the query parameter can not be empty');
    if (q.length > 512) return error(400, 'query: the query parameter is longer than 512 characters');
    const rawMax = query.get('max_results') ?? '10';
    const max = Number(rawMax);
    if (!Number.isInteger(max) || max < 10 || max > 100) {
      return error(400, `max_results: '${rawMax}' is not between 10 and 100`);
    }
    const count = Math.max(1, Math.round(max * (0.5 + rng() * 0.5)));
    const topic = q.replace(/[()"]/g, '').split(/\s+/).filter((w) => !w.startsWith('-') && !w.includes(':'))[0] ?? q;
    let at = now;
    const data = [];
    for (let i = 0; i < count; i++) {
      at -= randInt(rng, 5_000, 120_000);
      data.push({
        id: snowflake(at, randInt(rng, 0, 4095)),
        text: `${topic} ${pick(rng, PHRASES)}`,
        created_at: new Date(at - (at % 1000)).toISOString(),
      });
    }
    return {
      status: 200,
      body: { data, meta: { newest_id: data[0]?.id, oldest_id: data[data.length - 1]?.id, result_count: data.length } },
    };
  },
  malform(body) {
    const b = body as { data: Record<string, unknown>[]; meta: unknown };
    // ids are strings: a number breaks the schema
    return { ...b, data: b.data.map((t, i) => (i === 0 ? { ...t, id: 12345 } : t)) };
  },
  errorBody(status, message) {
    return { title: 'Error', detail: message, type: 'about:blank', status };
  },
};
