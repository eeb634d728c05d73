/** The five upstream providers, their activity names and how each expects its API key. */

export const PROVIDER_NAMES = ['moralis', 'glassnode', 'twitter', 'reddit', 'lunarcrush'] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];

export function isProviderName(name: string): name is ProviderName {
  return (PROVIDER_NAMES as readonly string[]).includes(name);
}

/** Provider → the activity type that collects from it (what the interceptor maps to a breaker). */
export const COLLECTOR_ACTIVITY_BY_PROVIDER = {
  moralis: 'collectMoralis',
  glassnode: 'collectGlassnode',
  twitter: 'collectTwitter',
  reddit: 'collectReddit',
  lunarcrush: 'collectLunarCrush',
} as const satisfies Record<ProviderName, string>;
export type CollectorActivityName = (typeof COLLECTOR_ACTIVITY_BY_PROVIDER)[ProviderName];

/** Activity type → provider (the inverse of COLLECTOR_ACTIVITY_BY_PROVIDER). */
export const PROVIDER_BY_COLLECTOR_ACTIVITY = Object.fromEntries(
  Object.entries(COLLECTOR_ACTIVITY_BY_PROVIDER).map(([p, a]) => [a, p]),
) as Record<CollectorActivityName, ProviderName>;

export const PROVIDER_KIND: Readonly<Record<ProviderName, 'on-chain' | 'social'>> = {
  moralis: 'on-chain',
  glassnode: 'on-chain',
  twitter: 'social',
  reddit: 'social',
  lunarcrush: 'social',
};

/** The real APIs' base URLs (paths below are appended to these). */
export const DEFAULT_PROVIDER_BASE_URLS: Readonly<Record<ProviderName, string>> = {
  moralis: 'https://deep-index.moralis.io',
  glassnode: 'https://api.glassnode.com',
  twitter: 'https://api.twitter.com',
  reddit: 'https://oauth.reddit.com',
  lunarcrush: 'https://lunarcrush.com',
};

export const DEFAULT_COLLECTOR_TIMEOUT_MS = 10_000;

export interface ProviderEndpointConfig {
  baseUrl: string;
  apiKey: string;
  /** Per-request timeout (default DEFAULT_COLLECTOR_TIMEOUT_MS). */
  timeoutMs?: number;
}

/** The API key header(s) of a provider. Never logged, never put in an error. */
export function authHeaders(provider: ProviderName, apiKey: string): Record<string, string> {
  switch (provider) {
    case 'moralis':
      return { 'X-API-Key': apiKey };
    case 'glassnode':
      return { 'X-Api-Key': apiKey };
    case 'twitter':
    case 'reddit':
    case 'lunarcrush':
      return { Authorization: `Bearer ${apiKey}` };
  }
}
