/**
 * LunarCrush (social) stand-in: GET /api4/public/coins/{coin}/v1
 * answers `{ config, data: { symbol, galaxy_score, alt_rank, sentiment, ... } }`.
 * Auth: `Authorization: Bearer <key>`.
 */
import { hashString, jitter, randInt } from '../rng';
import type { ProviderSpec, SimResponse } from '../types';

/** A few coins by symbol, with their LunarCrush id and a typical price. */
export const LUNARCRUSH_KNOWN_COINS: Readonly<Record<string, { id: number; name: string; usd: number }>> = {
  BTC: { id: 1, name: 'Bitcoin', usd: 65_000 },
  ETH: { id: 2, name: 'Ethereum', usd: 3_500 },
  SOL: { id: 3, name: 'Solana', usd: 150 },
  LINK: { id: 4, name: 'Chainlink', usd: 15 },
  DOGE: { id: 5, name: 'Dogecoin', usd: 0.15 },
};

const COIN_PATH = /^\/api4\/public\/coins\/([A-Za-z0-9]{1,12})\/v1$/;

const error = (status: number, message: string): SimResponse => ({ status, body: { error: message } });

export const lunarcrush: ProviderSpec = {
  name: 'lunarcrush',
  auth: { header: 'authorization', scheme: 'Bearer' },
  route(pathname, _query, { rng, now }) {
    const m = COIN_PATH.exec(pathname);
    const coinParam = m?.[1];
    if (coinParam === undefined) return error(404, `Cannot GET ${pathname}`);
    const byId = Object.entries(LUNARCRUSH_KNOWN_COINS).find(([, c]) => String(c.id) === coinParam);
    const symbol = byId ? byId[0] : coinParam.toUpperCase();
    const known = LUNARCRUSH_KNOWN_COINS[symbol];
    const h = hashString(symbol);
    const coin = known ?? { id: 1000 + (h % 9000), name: symbol, usd: 0.01 + (h % 10_000) / 100 };
    const price = jitter(rng, coin.usd, 0.01);
    return {
      status: 200,
      body: {
        config: { id: String(coin.id), symbol, name: coin.name, generated: Math.floor(now / 1000) },
        data: {
          id: coin.id,
          name: coin.name,
          symbol,
          price: Number(price.toFixed(6)),
          price_btc: Number((price / 65_000).toFixed(10)),
          market_cap: Math.round(price * (1e7 + (h % 1e9))),
          percent_change_24h: Number((rng() * 10 - 5).toFixed(3)),
          volume_24h: Math.round(price * (1e5 + (h % 1e8))),
          galaxy_score: randInt(rng, 30, 80),
          alt_rank: randInt(rng, 1, 4000),
          sentiment: randInt(rng, 40, 90),
          social_dominance: Number((rng() * 20).toFixed(3)),
          interactions_24h: randInt(rng, 1_000, 5_000_000),
        },
      },
    };
  },
  malform(body) {
    const b = body as { config: unknown; data: Record<string, unknown> };
    // galaxy_score is a number: a word breaks the schema
    return { ...b, data: { ...b.data, galaxy_score: 'high' } };
  },
  errorBody(_status, message) {
    return { error: message };
  },
};
