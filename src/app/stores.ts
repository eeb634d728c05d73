import { readFileSync } from 'node:fs';
import Redis, { type RedisOptions } from 'ioredis';
import type { AppConfig } from '../config/schema';
import { ConfigError } from '../config/load';
import { MemoryBreakerStore, RedisBreakerStore, type BreakerStore, type Logger } from '..';
import { MemoryResultStore, RedisResultStore, type ResultStore } from '../results';

export interface Stores {
  breakers: BreakerStore;
  results: ResultStore;
  redis: Redis | null;
  /** Where the state lives, for logs: no password, ever. */
  description: string;
  close(): Promise<void>;
}

/** A URL without its password, for logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}

type RedisConfig = AppConfig['redis'];

function readSetting(path: string, setting: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError(`invalid configuration: ${setting}: cannot read '${path}'${code === 'ENOENT' ? ': no such file' : code === 'EACCES' ? ': permission denied' : ''}`);
  }
}

/** The ioredis options of the configured connection (TLS files read here) and a description without secrets. */
export function redisConnection(r: RedisConfig): { options: RedisOptions; url?: string; description: string; server: string; credentials: string } {
  const auth = { ...(r.username ? { username: r.username } : {}), ...(r.password ? { password: r.password } : {}) };
  if (r.sentinels) {
    const list = r.sentinels.map((s) => `${s.host}:${s.port}`).join(',');
    return {
      options: {
        sentinels: r.sentinels,
        name: r.name!,
        ...auth,
        ...(r.sentinelUsername ? { sentinelUsername: r.sentinelUsername } : {}),
        ...(r.sentinelPassword ? { sentinelPassword: r.sentinelPassword } : {}),
        // Follow a failover at once: the sentinels' +switch-master, not only the next error.
        failoverDetector: true,
        // Ask the sentinels again soon: the new primary is usually there within seconds.
        retryStrategy: (times: number) => Math.min(times * 100, 1000),
        sentinelRetryStrategy: (times: number) => Math.min(times * 200, 2000),
      },
      description: `Redis Sentinel primary '${r.name}' via ${list}${r.username ? `, user ${r.username}` : ''}${r.password ? ', password set' : ''}${r.sentinelPassword ? ', sentinel password set' : ''}`,
      server: `the primary '${r.name}' of the sentinels ${list}`,
      credentials: r.password || r.username ? 'REDIS_USERNAME / REDIS_PASSWORD' : 'REDIS_PASSWORD',
    };
  }
  const url = r.url!;
  const u = new URL(url);
  const tls = url.startsWith('rediss://');
  const t = r.tls ?? {};
  const tlsOptions = tls
    ? {
        ...(t.caFile ? { ca: readSetting(t.caFile, 'redis.tls.caFile (REDIS_TLS_CA_FILE)') } : {}),
        ...(t.certFile ? { cert: readSetting(t.certFile, 'redis.tls.certFile (REDIS_TLS_CERT_FILE)') } : {}),
        ...(t.keyFile ? { key: readSetting(t.keyFile, 'redis.tls.keyFile (REDIS_TLS_KEY_FILE)') } : {}),
        ...(t.serverName ? { servername: t.serverName } : {}),
      }
    : undefined;
  const user = r.username ?? (decodeURIComponent(u.username) || undefined);
  const hasPassword = !!(r.password ?? u.password);
  return {
    url,
    options: { ...auth, ...(tlsOptions ? { tls: tlsOptions } : {}) },
    description:
      `Redis ${redactUrl(url)}` +
      (tls ? ` (TLS${t.caFile ? `, CA ${t.caFile}` : ", system CAs"}${t.certFile ? ', client certificate' : ''})` : '') +
      (r.username || r.password ? `${user ? `, user ${user}` : ''}${hasPassword ? ', password set' : ''}` : ''),
    server: `${u.hostname}:${u.port || 6379}`,
    credentials: r.password || r.username ? 'REDIS_USERNAME / REDIS_PASSWORD' : 'the user and password in REDIS_URL',
  };
}

/** One line for an error the client reports that a retry will not cure: bad credentials, TLS. */
export function redisProblem(message: string, c: { server: string; credentials: string }): string | null {
  if (/WRONGPASS|NOAUTH|invalid password|invalid username-password|AUTH <password> called without any password/i.test(message)) {
    return `Redis at ${c.server} refused the credentials (${c.credentials}): ${message.split('\n')[0]}`;
  }
  if (/NOPERM/.test(message)) return `Redis at ${c.server}: the ACL user lacks a permission the breaker needs (EVALSHA, GET, SET on the key prefix): ${message.split('\n')[0]}`;
  if (/certificate|self.signed|UNABLE_TO_VERIFY|DEPTH_ZERO|ERR_TLS|SSL routines|wrong version number|Hostname\/IP does not match/i.test(message)) {
    return `Redis at ${c.server}: TLS failed (${message.split('\n')[0]}): check REDIS_TLS_CA_FILE (the CA that signed the server's certificate), REDIS_TLS_SERVER_NAME and the rediss:// URL`;
  }
  return null;
}

/** The breaker and result stores the configuration asks for: Redis when `redis.url` or `redis.sentinels` is set, else memory. */
export function createStores(config: AppConfig, logger: Logger, options: { resultKeyPrefix?: string } = {}): Stores {
  if (!config.redis.url && !config.redis.sentinels) {
    return { breakers: new MemoryBreakerStore(), results: new MemoryResultStore(), redis: null, description: 'process memory (set REDIS_URL to share it)', close: async () => {} };
  }
  const conn = redisConnection(config.redis);
  const base: RedisOptions = {
    // No offline queue: a command is sent now or not at all, so an outage never replays old outcomes.
    enableOfflineQueue: false,
    // a command in flight when the connection drops is not sent again: an outcome counts once
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    ...conn.options,
  };
  const redis = conn.url ? new Redis(conn.url, base) : new Redis(base);
  // Errors a reconnect cannot cure are said once, at error level, naming the setting; the rest is debug.
  let said: string | null = null;
  redis.on('error', (e: Error) => {
    const problem = redisProblem(e.message, conn);
    if (problem && problem !== said) logger.error(problem, {});
    else logger.debug('redis client error', { error: e.message });
    said = problem ?? said;
  });
  redis.on('ready', () => (said = null));
  const breakers = new RedisBreakerStore({
    redis,
    keyPrefix: config.redis.keyPrefix,
    timeoutMs: config.redis.timeoutMs,
    onUnavailable: config.redis.onUnavailable,
    snapshotMaxAgeMs: config.redis.snapshotMaxAgeMs,
    logger,
  });
  return {
    breakers,
    results: new RedisResultStore({ redis, keyPrefix: options.resultKeyPrefix }),
    redis,
    description: conn.description,
    close: async () => {
      await breakers.close();
      redis.disconnect();
    },
  };
}
