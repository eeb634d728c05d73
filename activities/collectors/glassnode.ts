/** Glassnode (on-chain): a metric's time series. GET {baseUrl}/v1/metrics/{metric}?a=&i=&s=&u= */
import { z } from 'zod';
import { idempotencyKeySchema, type CollectorDefinition } from './collect';
import { getJson } from './http';

const unixSeconds = z.number({ error: 'must be a number' }).int({ error: 'must be unix seconds' }).min(0, { error: 'must be unix seconds' });

export const glassnodeInputSchema = z.strictObject({
  idempotencyKey: idempotencyKeySchema,
  /** Asset symbol (`BTC`, `ETH`, ...). */
  asset: z.string({ error: 'must be a string' }).regex(/^[A-Za-z0-9]{1,12}$/, { error: 'must be an asset symbol' }),
  /** `{category}/{metric}`, e.g. `addresses/active_count`. */
  metric: z
    .string({ error: 'must be a string' })
    .regex(/^[a-z_]+\/[a-z0-9_]+$/, { error: 'must look like category/metric' })
    .default('addresses/active_count'),
  interval: z.enum(['10m', '1h', '24h', '1w'], { error: 'must be one of 10m, 1h, 24h, 1w' }).default('24h'),
  /** Window start / end, unix seconds (default: the provider's). */
  since: unixSeconds.optional(),
  until: unixSeconds.optional(),
});
export type GlassnodeInput = z.input<typeof glassnodeInputSchema>;

export const glassnodeSeriesSchema = z.array(z.object({ t: z.number().int(), v: z.number().finite() }));

export interface GlassnodePoint {
  asset: string;
  metric: string;
  /** Unix seconds. */
  t: number;
  v: number;
}

export const glassnodeCollector: CollectorDefinition<typeof glassnodeInputSchema, GlassnodePoint> = {
  source: 'glassnode',
  input: glassnodeInputSchema,
  async fetch({ endpoint, input, signal }) {
    const series = await getJson({
      provider: 'glassnode',
      endpoint,
      path: `/v1/metrics/${input.metric}`,
      query: { a: input.asset.toUpperCase(), i: input.interval, s: input.since, u: input.until },
      schema: glassnodeSeriesSchema,
      signal,
    });
    return series.map((p) => ({ asset: input.asset.toUpperCase(), metric: input.metric, t: p.t, v: p.v }));
  },
};
