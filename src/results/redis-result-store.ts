/**
 * A ResultStore in Redis. One result is `{prefix}{source}:r:{idempotencyKey}` written with
 * `SET NX`, and `{prefix}{source}:count` is incremented in the same Lua script only when the SET
 * took, so the count is exact under retries and concurrent puts. Both keys share the hash tag
 * `{source}`: one slot, so the script also runs on Redis Cluster.
 */
import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import {
  assertIdempotencyKey,
  assertSource,
  InvalidResultError,
  serializeResult,
  type ResultStore,
} from './result-store';

/** KEYS[1] result, KEYS[2] counter; ARGV[1] value, ARGV[2] TTL seconds (0: none). Returns 1 if stored. */
export const PUT_RESULT_LUA = `
local ttl = tonumber(ARGV[2])
local ok
if ttl and ttl > 0 then
  ok = redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ttl)
else
  ok = redis.call('SET', KEYS[1], ARGV[1], 'NX')
end
if ok then
  redis.call('INCR', KEYS[2])
  return 1
end
return 0
`;
const PUT_RESULT_SHA = createHash('sha1').update(PUT_RESULT_LUA).digest('hex');

export const DEFAULT_RESULT_KEY_PREFIX = 'tcb_result:';

export interface RedisResultStoreOptions {
  redis: Redis | Cluster;
  /** Default `tcb_result:`. */
  keyPrefix?: string;
  /** Expire each stored result after this many seconds (default: never). The counter never expires. */
  ttlSeconds?: number;
}

/** The two keys of a result (exported for tests and tooling). */
export function resultKeys(keyPrefix: string, source: string, idempotencyKey: string): { result: string; counter: string } {
  return { result: `${keyPrefix}{${source}}:r:${idempotencyKey}`, counter: counterKey(keyPrefix, source) };
}

export function counterKey(keyPrefix: string, source: string): string {
  return `${keyPrefix}{${source}}:count`;
}

export class RedisResultStore implements ResultStore {
  private readonly redis: Redis | Cluster;
  private readonly keyPrefix: string;
  private readonly ttlSeconds: number;

  constructor(options: RedisResultStoreOptions) {
    this.redis = options.redis;
    this.keyPrefix = options.keyPrefix ?? DEFAULT_RESULT_KEY_PREFIX;
    if (options.ttlSeconds !== undefined && !(Number.isInteger(options.ttlSeconds) && options.ttlSeconds > 0)) {
      throw new InvalidResultError(`ttlSeconds must be a positive integer (got ${options.ttlSeconds})`);
    }
    this.ttlSeconds = options.ttlSeconds ?? 0;
  }

  async put(source: string, idempotencyKey: string, value: unknown): Promise<boolean> {
    assertSource(source);
    assertIdempotencyKey(idempotencyKey);
    const text = serializeResult(source, idempotencyKey, value);
    const { result, counter } = resultKeys(this.keyPrefix, source, idempotencyKey);
    const args = [result, counter, text, this.ttlSeconds] as const;
    let reply: unknown;
    try {
      reply = await this.redis.evalsha(PUT_RESULT_SHA, 2, ...args);
    } catch (e) {
      if (!String((e as Error).message).includes('NOSCRIPT')) throw e;
      reply = await this.redis.eval(PUT_RESULT_LUA, 2, ...args);
    }
    return Number(reply) === 1;
  }

  async get<T = unknown>(source: string, idempotencyKey: string): Promise<T | undefined> {
    assertSource(source);
    assertIdempotencyKey(idempotencyKey);
    const { result } = resultKeys(this.keyPrefix, source, idempotencyKey);
    const text = await this.redis.get(result);
    if (text === null) return undefined;
    try {
      return JSON.parse(text) as T;
    } catch (e) {
      throw new InvalidResultError(`stored result ${result} is not valid JSON: ${(e as Error).message}`);
    }
  }

  async count(source: string): Promise<number> {
    assertSource(source);
    const raw = await this.redis.get(counterKey(this.keyPrefix, source));
    const n = raw === null ? 0 : Number(raw);
    return Number.isFinite(n) ? n : 0;
  }
}
