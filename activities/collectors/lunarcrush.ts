/** LunarCrush (social): a coin's social metrics. GET {baseUrl}/api4/public/coins/{coin}/v1 */
import { z } from 'zod';
import { idempotencyKeySchema, type CollectorDefinition } from './collect';
import { getJson } from './http';

export const lunarCrushInputSchema = z.strictObject({
  idempotencyKey: idempotencyKeySchema,
  /** Symbol (`BTC`) or LunarCrush numeric id. */
  coin: z.string({ error: 'must be a string' }).regex(/^[A-Za-z0-9]{1,12}$/, { error: 'must be a coin symbol or id' }),
});
export type LunarCrushInput = z.input<typeof lunarCrushInputSchema>;

export const lunarCrushCoinSchema = z.object({
  data: z.object({
    symbol: z.string(),
    galaxy_score: z.number().finite(),
    alt_rank: z.number().int(),
    sentiment: z.number().finite(),
    price: z.number().finite().optional(),
    social_dominance: z.number().finite().optional(),
    interactions_24h: z.number().finite().optional(),
  }),
});

export interface LunarCrushMetrics {
  symbol: string;
  galaxyScore: number;
  altRank: number;
  sentiment: number;
  price: number | null;
  socialDominance: number | null;
  interactions24h: number | null;
}

export const lunarCrushCollector: CollectorDefinition<typeof lunarCrushInputSchema, LunarCrushMetrics> = {
  source: 'lunarcrush',
  input: lunarCrushInputSchema,
  async fetch({ endpoint, input, signal }) {
    const { data } = await getJson({
      provider: 'lunarcrush',
      endpoint,
      path: `/api4/public/coins/${encodeURIComponent(input.coin)}/v1`,
      schema: lunarCrushCoinSchema,
      signal,
    });
    return [
      {
        symbol: data.symbol,
        galaxyScore: data.galaxy_score,
        altRank: data.alt_rank,
        sentiment: data.sentiment,
        price: data.price ?? null,
        socialDominance: data.social_dominance ?? null,
        interactions24h: data.interactions_24h ?? null,
      },
    ];
  },
};
