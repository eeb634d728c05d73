/** Twitter / X (social): recent tweets matching a query. GET {baseUrl}/2/tweets/search/recent */
import { z } from 'zod';
import { idempotencyKeySchema, type CollectorDefinition } from './collect';
import { getJson } from './http';

export const twitterInputSchema = z.strictObject({
  idempotencyKey: idempotencyKeySchema,
  /** Search query (Twitter's syntax), e.g. `bitcoin -is:retweet lang:en`. */
  query: z.string({ error: 'must be a string' }).min(1, { error: 'must not be empty' }).max(512, { error: 'must be at most 512 characters' }),
  maxResults: z
    .number({ error: 'must be a number' })
    .int({ error: 'must be an integer' })
    .min(10, { error: 'must be between 10 and 100' })
    .max(100, { error: 'must be between 10 and 100' })
    .default(10),
});
export type TwitterInput = z.input<typeof twitterInputSchema>;

export const twitterSearchSchema = z.object({
  // Twitter omits `data` when nothing matched
  data: z.array(z.object({ id: z.string(), text: z.string(), created_at: z.iso.datetime({ offset: true }) })).optional(),
  meta: z.object({ result_count: z.number().int().min(0), newest_id: z.string().optional(), oldest_id: z.string().optional() }),
});

export interface Tweet {
  id: string;
  text: string;
  createdAt: string;
}

export const twitterCollector: CollectorDefinition<typeof twitterInputSchema, Tweet> = {
  source: 'twitter',
  input: twitterInputSchema,
  async fetch({ endpoint, input, signal }) {
    const body = await getJson({
      provider: 'twitter',
      endpoint,
      path: '/2/tweets/search/recent',
      query: { query: input.query, max_results: input.maxResults, 'tweet.fields': 'created_at' },
      schema: twitterSearchSchema,
      signal,
    });
    return (body.data ?? []).map((t) => ({ id: t.id, text: t.text, createdAt: t.created_at }));
  },
};
