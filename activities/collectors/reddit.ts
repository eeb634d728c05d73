/** Reddit (social): a subreddit's newest posts. GET {baseUrl}/r/{subreddit}/new.json?limit= */
import { z } from 'zod';
import { idempotencyKeySchema, type CollectorDefinition } from './collect';
import { getJson } from './http';

export const redditInputSchema = z.strictObject({
  idempotencyKey: idempotencyKeySchema,
  subreddit: z.string({ error: 'must be a string' }).regex(/^[A-Za-z0-9_]{2,21}$/, { error: 'must be a subreddit name (2-21 letters, digits, _)' }),
  limit: z
    .number({ error: 'must be a number' })
    .int({ error: 'must be an integer' })
    .min(1, { error: 'must be between 1 and 100' })
    .max(100, { error: 'must be between 1 and 100' })
    .default(25),
});
export type RedditInput = z.input<typeof redditInputSchema>;

export const redditListingSchema = z.object({
  data: z.object({
    children: z.array(
      z.object({
        data: z.object({
          id: z.string(),
          title: z.string(),
          created_utc: z.number(),
          score: z.number().int(),
          num_comments: z.number().int().optional(),
          author: z.string().optional(),
          permalink: z.string().optional(),
        }),
      }),
    ),
  }),
});

export interface RedditPost {
  subreddit: string;
  id: string;
  title: string;
  /** Unix seconds. */
  createdUtc: number;
  score: number;
  numComments: number | null;
}

export const redditCollector: CollectorDefinition<typeof redditInputSchema, RedditPost> = {
  source: 'reddit',
  input: redditInputSchema,
  async fetch({ endpoint, input, signal }) {
    const listing = await getJson({
      provider: 'reddit',
      endpoint,
      path: `/r/${encodeURIComponent(input.subreddit)}/new.json`,
      query: { limit: input.limit, raw_json: 1 },
      schema: redditListingSchema,
      signal,
    });
    return listing.data.children.map(({ data: p }) => ({
      subreddit: input.subreddit,
      id: p.id,
      title: p.title,
      createdUtc: p.created_utc,
      score: p.score,
      numComments: p.num_comments ?? null,
    }));
  },
};
