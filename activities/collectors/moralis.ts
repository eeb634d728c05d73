/** Moralis (on-chain): an ERC-20 token's USD price. GET {baseUrl}/api/v2.2/erc20/{address}/price?chain= */
import { z } from 'zod';
import { idempotencyKeySchema, type CollectorDefinition } from './collect';
import { getJson } from './http';

export const moralisInputSchema = z.strictObject({
  idempotencyKey: idempotencyKeySchema,
  /** Token contract address. */
  address: z.string({ error: 'must be a string' }).regex(/^0x[0-9a-fA-F]{40}$/, { error: 'must be a 0x-prefixed 40-hex-digit address' }),
  /** Chain name or hex id (`eth`, `0x1`, `polygon`, ...). */
  chain: z.string({ error: 'must be a string' }).regex(/^[a-z0-9]{1,20}$/, { error: 'must be a chain name or hex id' }).default('eth'),
});
export type MoralisInput = z.input<typeof moralisInputSchema>;

export const moralisPriceSchema = z.object({
  tokenName: z.string(),
  tokenSymbol: z.string(),
  usdPrice: z.number().finite(),
  tokenAddress: z.string().optional(),
  exchangeName: z.string().nullish(),
  blockTimestamp: z.string().nullish(),
  '24hrPercentChange': z.string().nullish(),
});

export interface MoralisPrice {
  chain: string;
  tokenAddress: string;
  tokenName: string;
  tokenSymbol: string;
  usdPrice: number;
  exchangeName: string | null;
  blockTimestamp: string | null;
}

export const moralisCollector: CollectorDefinition<typeof moralisInputSchema, MoralisPrice> = {
  source: 'moralis',
  input: moralisInputSchema,
  async fetch({ endpoint, input, signal }) {
    const body = await getJson({
      provider: 'moralis',
      endpoint,
      path: `/api/v2.2/erc20/${encodeURIComponent(input.address)}/price`,
      query: { chain: input.chain },
      schema: moralisPriceSchema,
      signal,
    });
    return [
      {
        chain: input.chain,
        tokenAddress: (body.tokenAddress ?? input.address).toLowerCase(),
        tokenName: body.tokenName,
        tokenSymbol: body.tokenSymbol,
        usdPrice: body.usdPrice,
        exchangeName: body.exchangeName ?? null,
        blockTimestamp: body.blockTimestamp ?? null,
      },
    ];
  },
};
