/**
 * Reddit (social) stand-in: GET /r/{subreddit}/new.json?limit=25
 * answers a Listing `{ kind, data: { children: [{ kind: 't3', data: { id, title, created_utc, score } }] } }`.
 * Auth: `Authorization: Bearer <token>` (as on oauth.reddit.com).
 */
import { pick, randInt } from '../rng';
import type { ProviderSpec, SimResponse } from '../types';

const TITLES = [
  'Daily discussion thread',
  'What are you buying this week?',
  'Is this the start of a new cycle?',
  'Exchange withdrawals paused again',
  'Long-term holders keep accumulating',
  'Explain like I am five: how do L2s settle?',
  'Chart: active addresses over the last year',
  'Regulation news roundup',
];
const AUTHORS = ['satoshi_fan', 'hodl_4ever', 'chart_wizard', 'gas_saver', 'node_runner', 'defi_degen'];
const SUB_PATH = /^\/r\/([A-Za-z0-9_]{2,21})\/new(?:\.json)?$/;

const error = (status: number, message: string): SimResponse => ({ status, body: { message, error: status } });

function base36Id(rng: () => number): string {
  let s = '';
  for (let i = 0; i < 7; i++) s += '0123456789abcdefghijklmnopqrstuvwxyz'[Math.floor(rng() * 36)];
  return s;
}

export const reddit: ProviderSpec = {
  name: 'reddit',
  auth: { header: 'authorization', scheme: 'Bearer' },
  route(pathname, query, { rng, now }) {
    const m = SUB_PATH.exec(pathname);
    const sub = m?.[1];
    if (sub === undefined) return error(404, 'Not Found');
    const rawLimit = query.get('limit') ?? '25';
    const limit = Number(rawLimit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) return error(400, `limit: '${rawLimit}' is not between 1 and 100`);
    let at = now / 1000;
    const children = [];
    for (let i = 0; i < limit; i++) {
      at -= randInt(rng, 30, 1800);
      const id = base36Id(rng);
      const title = pick(rng, TITLES);
      children.push({
        kind: 't3',
        data: {
          id,
          name: `t3_${id}`,
          subreddit: sub,
          title,
          author: pick(rng, AUTHORS),
          created_utc: Math.floor(at),
          score: randInt(rng, 0, 500),
          num_comments: randInt(rng, 0, 120),
          permalink: `/r/${sub}/comments/${id}/${title.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_|_$/g, '')}/`,
        },
      });
    }
    const last = children[children.length - 1];
    return {
      status: 200,
      body: { kind: 'Listing', data: { after: last ? last.data.name : null, before: null, dist: children.length, children } },
    };
  },
  malform(body) {
    const b = body as { kind: string; data: { children: { kind: string; data: Record<string, unknown> }[] } };
    // every post has a title: drop the first one's
    const children = b.data.children.map((c, i) => {
      if (i !== 0) return c;
      const { title: _title, ...rest } = c.data;
      return { ...c, data: rest };
    });
    return { ...b, data: { ...b.data, children } };
  },
  errorBody(status, message) {
    return { message, error: status };
  },
};
