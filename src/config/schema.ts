import { z } from 'zod';
import { COLLECTOR_ACTIVITY, PROVIDERS, type Provider } from '../providers';
import { BREAKER_NAME_PATTERN, MAX_BREAKER_NAME_LENGTH, breakerConfigObject, breakerConfigSchema } from '..';

import { BOUNDS, boundedInt } from './bounds';
import { checkRedisConnection, redisConnectionFields } from './redis-connection';

export { COLLECTOR_ACTIVITY, PROVIDERS, type Provider };

const breakerName = z
  .string()
  .regex(BREAKER_NAME_PATTERN, { error: 'breaker names must match [A-Za-z0-9_.-]+' })
  .max(MAX_BREAKER_NAME_LENGTH, { error: `breaker names must be at most ${MAX_BREAKER_NAME_LENGTH} characters` })
  .refine((n) => n !== '__proto__', { error: 'breaker names must not be __proto__ (never an own property of a plain object)' });

/** Own properties only: `constructor` or `toString` is never a configured breaker. */
const own = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

/** zod's record skips a `__proto__` key without a word: name it instead (JSON.parse makes it an own key). */
function refuseProtoKey(v: unknown, ctx: z.RefinementCtx): unknown {
  if (typeof v === 'object' && v !== null && own(v, '__proto__')) {
    ctx.addIssue({ code: 'custom', path: ['__proto__'], message: 'breaker names must not be __proto__ (never an own property of a plain object)' });
  }
  return v;
}

/** A breaker's settings in the app config: the breaker config without its name (the map key is the name). */
const breakerSettingsSchema = breakerConfigObject.omit({ collectorName: true }).partial().strict();

/** A provider's API: the local simulator with a demo key unless configured. */
const providerSchema = (p: Provider) =>
  z
    .object({
      baseUrl: z.url({ error: 'baseUrl must be an absolute URL' }).default(`http://127.0.0.1:8787/${p}`),
      apiKey: z.string().min(1, { error: 'apiKey must not be empty' }).default(`demo-${p}-key`),
      timeoutMs: boundedInt(`providers.${p}.timeoutMs`, BOUNDS.providerTimeoutMs).default(10_000),
    })
    .strict()
    .prefault({});

export const appConfigSchema = z
  .object({
    temporal: z
      .object({
        address: z.string().min(1).default('localhost:7233'),
        namespace: z.string().min(1).default('default'),
        taskQueue: z.string().min(1).default('market-data'),
      })
      .strict()
      .prefault({}),
    redis: z
      .object({
        /** Unset: the breaker state lives in process memory (one worker only). */
        url: z.string().regex(/^rediss?:\/\//, { error: 'redis.url must start with redis:// or rediss://' }).optional(),
        keyPrefix: z.string().default('cb_state:'),
        timeoutMs: boundedInt('redis.timeoutMs', BOUNDS.redisTimeoutMs).default(100),
        onUnavailable: z.enum(['fallback', 'allow', 'reject']).default('fallback'),
        /** How long a worker may reject from an open state it read before asking Redis again; 0: every time. */
        snapshotMaxAgeMs: boundedInt('redis.snapshotMaxAgeMs', BOUNDS.redisSnapshotMaxAgeMs, 'zero allowed').default(1000),
        /** Credentials, TLS files and Sentinel (src/config/redis-connection.ts). */
        ...redisConnectionFields,
      })
      .strict()
      .superRefine(checkRedisConnection)
      .prefault({}),
    /** Breaker name → settings; the seed's defaults fill what is left out. */
    // prefault, not default: zod returns a default unparsed, and the breakers must get the seed's values filled in.
    breakers: z.preprocess(refuseProtoKey, z.record(breakerName, breakerSettingsSchema)).prefault(() => Object.fromEntries(PROVIDERS.map((p) => [p, {}]))),
    /** Activity type → breaker name. Activities not listed run without a breaker. */
    /** Activity type → breaker name; by default each provider's collector runs behind its own breaker, when configured. */
    activities: z.record(z.string().min(1), breakerName).optional(),
    providers: z.object(Object.fromEntries(PROVIDERS.map((p) => [p, providerSchema(p)])) as Record<Provider, ReturnType<typeof providerSchema>>).strict().prefault({}),
    interceptor: z
      .object({
        /** How long a retry waits before asking a forced-open circuit again. */
        forcedOpenRecheckSeconds: boundedInt('interceptor.forcedOpenRecheckSeconds', BOUNDS.forcedOpenRecheckSeconds).default(60),
        /** Upper bound on the wait when all half-open probe slots are taken. */
        halfOpenRecheckSeconds: boundedInt('interceptor.halfOpenRecheckSeconds', BOUNDS.halfOpenRecheckSeconds).default(5),
        /** Probe lease when the activity has no start-to-close timeout. */
        defaultProbeLeaseSeconds: boundedInt('interceptor.defaultProbeLeaseSeconds', BOUNDS.defaultProbeLeaseSeconds).default(60),
      })
      .strict()
      .prefault({}),
    metrics: z
      .object({ prometheusAddress: z.string().regex(/^[^:]+:\d+$/, { error: 'metrics.prometheusAddress must be host:port' }).optional() })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine((c, ctx) => {
    for (const [activity, breaker] of Object.entries(c.activities ?? {})) {
      if (!own(c.breakers, breaker)) {
        ctx.addIssue({ code: 'custom', path: ['activities', activity], message: `unknown breaker '${breaker}' (configured: ${Object.keys(c.breakers).join(', ')})` });
      }
    }
    for (const [name, b] of Object.entries(c.breakers)) {
      const r = breakerConfigSchema.safeParse({ collectorName: name, ...b });
      if (!r.success) for (const i of r.error.issues) ctx.addIssue({ code: 'custom', path: ['breakers', name, ...i.path.map(String)], message: i.message });
    }
  })
  .transform((c) => ({
    ...c,
    activities: c.activities ?? Object.fromEntries(PROVIDERS.filter((p) => own(c.breakers, p)).map((p) => [COLLECTOR_ACTIVITY[p], p])),
  }));

export type AppConfig = z.output<typeof appConfigSchema>;
export type AppConfigInput = z.input<typeof appConfigSchema>;
