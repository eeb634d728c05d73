/**
 * Collector activities: one per provider, built by a factory that receives their dependencies
 * (configuration, result store, clock), so tests and the worker pass their own.
 *
 * Workflows import only the types: `import type { CollectorActivities } from '../activities/collectors'`.
 */
import { z } from 'zod';
import type { ResultStore } from '../../src/results/result-store';
import { defineCollector, type CollectorRuntime, type CollectorSummary } from './collect';
import { zodIssues } from './errors';
import { glassnodeCollector, type GlassnodeInput } from './glassnode';
import { lunarCrushCollector, type LunarCrushInput } from './lunarcrush';
import { moralisCollector, type MoralisInput } from './moralis';
import { PROVIDER_NAMES, type CollectorActivityName, type ProviderEndpointConfig, type ProviderName } from './providers';
import { redditCollector, type RedditInput } from './reddit';
import { twitterCollector, type TwitterInput } from './twitter';

export interface CollectorsConfig {
  /** Endpoint per provider; a provider left out fails its activity with CollectorNotConfigured. */
  providers: Partial<Record<ProviderName, ProviderEndpointConfig>>;
}

export interface CollectorDeps {
  config: CollectorsConfig;
  results: ResultStore;
  /** ms since epoch, for `fetchedAt` (default Date.now). */
  clock?: () => number;
  /**
   * The signal that aborts an in-flight call, read at each call. The worker passes
   * `() => Context.current().cancellationSignal`; tests leave it out.
   */
  cancellationSignal?: () => AbortSignal | undefined;
}

export interface CollectorActivities {
  collectMoralis(input: MoralisInput): Promise<CollectorSummary>;
  collectGlassnode(input: GlassnodeInput): Promise<CollectorSummary>;
  collectTwitter(input: TwitterInput): Promise<CollectorSummary>;
  collectReddit(input: RedditInput): Promise<CollectorSummary>;
  collectLunarCrush(input: LunarCrushInput): Promise<CollectorSummary>;
}

// the activity names and COLLECTOR_ACTIVITY_BY_PROVIDER cannot drift apart
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const _namesMatch: Same<keyof CollectorActivities, CollectorActivityName> = true;

const endpointSchema = z.strictObject({
  baseUrl: z
    .string({ error: 'must be a string' })
    .refine((u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol), { error: 'must be an http(s) URL' }),
  apiKey: z.string({ error: 'must be a string' }).min(1, { error: 'must not be empty' }),
  timeoutMs: z
    .number({ error: 'must be a number' })
    .int({ error: 'must be an integer' })
    .positive({ error: 'must be greater than 0' })
    .max(600_000, { error: 'must be at most 600000' })
    .optional(),
});
const configSchema = z.strictObject({
  providers: z.strictObject(Object.fromEntries(PROVIDER_NAMES.map((p) => [p, endpointSchema.optional()])) as Record<ProviderName, z.ZodOptional<typeof endpointSchema>>),
});

export class CollectorConfigError extends Error {
  override readonly name = 'CollectorConfigError';
}

export function createCollectorActivities(deps: CollectorDeps): CollectorActivities {
  const parsed = configSchema.safeParse(deps.config);
  if (!parsed.success) {
    throw new CollectorConfigError(
      `invalid collector configuration: ${zodIssues(parsed.error).map((i) => `${i.field}: ${i.message}`).join('; ')}`,
    );
  }
  const providers = parsed.data.providers;
  const rt: CollectorRuntime = {
    endpoint: (p) => providers[p],
    results: deps.results,
    clock: deps.clock ?? Date.now,
    signal: deps.cancellationSignal ?? (() => undefined),
  };
  return {
    collectMoralis: defineCollector(moralisCollector, rt),
    collectGlassnode: defineCollector(glassnodeCollector, rt),
    collectTwitter: defineCollector(twitterCollector, rt),
    collectReddit: defineCollector(redditCollector, rt),
    collectLunarCrush: defineCollector(lunarCrushCollector, rt),
  };
}

export type { CollectedResult, CollectorSummary } from './collect';
export {
  UPSTREAM_ERROR_TYPES,
  NON_RETRYABLE_UPSTREAM_ERROR_TYPES,
  upstreamErrorDetails,
  httpStatusOf,
  type UpstreamErrorType,
  type UpstreamErrorDetails,
  type FieldIssue,
} from './errors';
export { getJson, buildUrl, type GetJsonRequest } from './http';
export {
  PROVIDER_NAMES,
  COLLECTOR_ACTIVITY_BY_PROVIDER,
  PROVIDER_BY_COLLECTOR_ACTIVITY,
  PROVIDER_KIND,
  DEFAULT_PROVIDER_BASE_URLS,
  DEFAULT_COLLECTOR_TIMEOUT_MS,
  isProviderName,
  authHeaders,
  type ProviderName,
  type CollectorActivityName,
  type ProviderEndpointConfig,
} from './providers';
export type { MoralisInput, MoralisPrice } from './moralis';
export type { GlassnodeInput, GlassnodePoint } from './glassnode';
export type { TwitterInput, Tweet } from './twitter';
export type { RedditInput, RedditPost } from './reddit';
export type { LunarCrushInput, LunarCrushMetrics } from './lunarcrush';
