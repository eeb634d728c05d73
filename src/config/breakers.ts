import { parseBreakerConfig, type BreakerConfig } from '../breaker/config';
import type { AppConfig } from './schema';

/** Every configured breaker's full config, by name. */
export function breakerConfigs(config: AppConfig): Map<string, BreakerConfig> {
  return new Map(Object.entries(config.breakers).map(([name, settings]) => [name, parseBreakerConfig({ collectorName: name, ...settings })]));
}

export class UnknownBreakerError extends Error {
  override readonly name = 'UnknownBreakerError';
  constructor(
    readonly breaker: string,
    known: Iterable<string>,
  ) {
    super(`unknown breaker '${breaker}' (configured: ${[...known].join(', ') || 'none'})`);
  }
}

export function requireBreaker(configs: Map<string, BreakerConfig>, name: string): BreakerConfig {
  const cfg = configs.get(name);
  if (!cfg) throw new UnknownBreakerError(name, configs.keys());
  return cfg;
}
