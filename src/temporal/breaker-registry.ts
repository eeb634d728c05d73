import type { Info } from '@temporalio/activity';
import { parseBreakerConfig, type BreakerConfig, type BreakerConfigInput } from '../breaker/config';
import { BreakerConfigError, UnknownBreakerError } from '../breaker/errors';

/** A breaker's settings as a user writes them: the config without its name (the map key is the name). */
export type BreakerSettings = Omit<BreakerConfigInput, 'collectorName'>;

/** Breaker name → settings, as a plain object or a Map; full configs are accepted as they are. */
export type BreakersOption = Readonly<Record<string, BreakerSettings>> | ReadonlyMap<string, BreakerSettings | BreakerConfig>;

/** Activity type → breaker name (plain object or Map), or a function of the activity's info. */
export type ActivityBreakersOption = Readonly<Record<string, string>> | ReadonlyMap<string, string> | ((info: Info) => string | undefined);

const own = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

/** Every breaker's validated config, by name; an invalid one is an error naming the breaker and the field. */
export function resolveBreakers(option: BreakersOption): ReadonlyMap<string, BreakerConfig> {
  const entries = option instanceof Map ? [...option.entries()] : Object.entries(option as Record<string, BreakerSettings>);
  const out = new Map<string, BreakerConfig>();
  for (const [name, settings] of entries) {
    if (settings === null || typeof settings !== 'object') {
      throw new BreakerConfigError([{ field: '(root)', message: `settings must be an object, got ${settings === null ? 'null' : typeof settings}` }], name);
    }
    const given = (settings as { collectorName?: unknown }).collectorName;
    if (given !== undefined && given !== name) {
      throw new BreakerConfigError([{ field: 'collectorName', message: `'${String(given)}' differs from the breaker's key '${name}'` }], name);
    }
    out.set(name, parseBreakerConfig({ ...settings, collectorName: name }));
  }
  return out;
}

/**
 * The activity → breaker lookup. Plain objects are read by own property only (so `constructor`
 * or `__proto__` is never a breaker); a mapping to a breaker that is not configured is an error.
 */
export function resolveActivityBreakers(option: ActivityBreakersOption, breakers: ReadonlyMap<string, BreakerConfig>): (info: Info) => string | undefined {
  if (typeof option === 'function') return option;
  const table = option instanceof Map ? new Map(option) : new Map(Object.keys(option).filter((k) => own(option, k)).map((k) => [k, (option as Record<string, string>)[k]]));
  for (const [activity, breaker] of table) {
    if (!breakers.has(breaker)) throw new UnknownBreakerError(breaker, breakers.keys(), `activity '${activity}' is mapped to it`);
  }
  return (info) => table.get(info.activityType);
}
