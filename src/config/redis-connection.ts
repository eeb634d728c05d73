/**
 * How the app reaches Redis, beyond a plain `redis://host:port`: an ACL user and password (in
 * REDIS_URL or REDIS_USERNAME / REDIS_PASSWORD), TLS with `rediss://` and a CA file (plus a client
 * certificate for mutual TLS), and Redis Sentinel (REDIS_SENTINELS + REDIS_SENTINEL_MASTER, or in
 * the config file the ioredis form `{ "sentinels": [{ "host": …, "port": … }], "name": "mymaster" }`).
 */
import { z } from 'zod';

const hostPort = z
  .string()
  .regex(/^[^:\s]+:\d{1,5}$/, { error: 'sentinels are host:port' })
  .transform((s) => {
    const i = s.lastIndexOf(':');
    return { host: s.slice(0, i), port: Number(s.slice(i + 1)) };
  });
const sentinel = z.union([hostPort, z.object({ host: z.string().min(1), port: z.number().int().min(1).max(65535) }).strict()], {
  error: 'a sentinel is host:port (or { host, port } in the config file)',
});

export const redisConnectionFields = {
  /** ACL user of the data nodes; overrides the one in `url`. */
  username: z.string().min(1).optional(),
  /** Password of the data nodes; overrides the one in `url`. Never logged. */
  password: z.string().min(1).optional(),
  /** TLS files; TLS itself is on with a `rediss://` URL. */
  tls: z
    .object({
      caFile: z.string().min(1).optional(),
      certFile: z.string().min(1).optional(),
      keyFile: z.string().min(1).optional(),
      /** The name the server's certificate is checked against (default: the URL's host). */
      serverName: z.string().min(1).optional(),
    })
    .strict()
    .optional(),
  /** Redis Sentinel: the sentinels to ask for the current primary. */
  sentinels: z.array(sentinel).min(1, { error: 'sentinels must not be empty' }).optional(),
  /** The primary's name as the sentinels know it (ioredis's `name`). */
  name: z.string().min(1).optional(),
  sentinelUsername: z.string().min(1).optional(),
  sentinelPassword: z.string().min(1).optional(),
};

interface RedisConnectionInput {
  url?: string;
  tls?: { caFile?: string; certFile?: string; keyFile?: string; serverName?: string };
  sentinels?: unknown[];
  name?: string;
  sentinelUsername?: string;
  sentinelPassword?: string;
}

/** The rules across fields (each issue names the field; load.ts adds the variable). */
export function checkRedisConnection(r: RedisConnectionInput, ctx: z.RefinementCtx): void {
  const issue = (path: string[], message: string) => ctx.addIssue({ code: 'custom', path, message });
  if (r.sentinels && r.url) issue(['sentinels'], 'set either redis.url (one server) or redis.sentinels (Sentinel), not both; with Sentinel, give the credentials as redis.username / redis.password');
  if (r.sentinels && !r.name) issue(['name'], "redis.sentinels needs the primary's name (ioredis's `name`)");
  if (r.name && !r.sentinels) issue(['sentinels'], 'redis.name needs redis.sentinels');
  if (!r.sentinels && (r.sentinelUsername || r.sentinelPassword)) issue(['sentinelPassword'], 'sentinel credentials need redis.sentinels');
  if (r.tls && Object.values(r.tls).some((v) => v !== undefined)) {
    if (r.sentinels) issue(['tls'], 'TLS with Sentinel is not supported yet: use redis.url with rediss:// for a TLS server');
    else if (!r.url?.startsWith('rediss://')) issue(['tls'], 'the TLS settings need a rediss:// URL (redis.url)');
    if (!r.tls.certFile !== !r.tls.keyFile) issue(['tls', r.tls.certFile ? 'keyFile' : 'certFile'], 'a client certificate needs both redis.tls.certFile and redis.tls.keyFile');
  }
}
