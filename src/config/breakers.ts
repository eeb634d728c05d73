import { parseBreakerConfig, UnknownBreakerError, type BreakerConfig } from '..';
import type { AppConfig } from './schema';

export { UnknownBreakerError };

/** Every configured breaker's full config, by name. */
export function breakerConfigs(config: AppConfig): Map<string, BreakerConfig> {
  return new Map(Object.entries(config.breakers).map(([name, settings]) => [name, parseBreakerConfig({ collectorName: name, ...settings })]));
}

export function requireBreaker(configs: Map<string, BreakerConfig>, name: string): BreakerConfig {
  const cfg = configs.get(name);
  if (!cfg) throw new UnknownBreakerError(name, configs.keys());
  return cfg;
}
