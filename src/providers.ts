/** The upstream providers and their collector activities (pure: workflows import this). */
export const PROVIDERS = ['moralis', 'glassnode', 'twitter', 'reddit', 'lunarcrush'] as const;
export type Provider = (typeof PROVIDERS)[number];

export const ONCHAIN_PROVIDERS: readonly Provider[] = ['moralis', 'glassnode'];
export const SOCIAL_PROVIDERS: readonly Provider[] = ['twitter', 'reddit', 'lunarcrush'];

/** The collector activity type of each provider; by default each runs behind the breaker of the same name. */
export const COLLECTOR_ACTIVITY: Record<Provider, string> = {
  moralis: 'collectMoralis',
  glassnode: 'collectGlassnode',
  twitter: 'collectTwitter',
  reddit: 'collectReddit',
  lunarcrush: 'collectLunarCrush',
};

/** What each collector asks for when the workflow input names nothing else. */
export const DEFAULT_QUERIES: Record<Provider, Record<string, string | number>> = {
  moralis: { address: '0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48', chain: 'eth' },
  glassnode: { asset: 'BTC', metric: 'addresses/active_count', interval: '24h' },
  twitter: { query: 'bitcoin', maxResults: 10 },
  reddit: { subreddit: 'CryptoCurrency', limit: 25 },
  lunarcrush: { coin: 'BTC' },
};

export const PROVIDER_OF_ACTIVITY: Record<string, Provider | undefined> = Object.fromEntries(
  PROVIDERS.map((p) => [COLLECTOR_ACTIVITY[p], p]),
);
