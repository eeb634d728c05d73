/**
 * Where collectors put what they fetched. Idempotent by (source, idempotencyKey): the first
 * put stores, every later put with the same pair is a no-op answering false, so a retried
 * activity never stores twice.
 */

export interface ResultStore {
  /** Stores `value` (JSON-serializable) unless this (source, key) is already stored. True if newly stored. */
  put(source: string, idempotencyKey: string, value: unknown): Promise<boolean>;
  /** The stored value (a parsed copy), or undefined. */
  get<T = unknown>(source: string, idempotencyKey: string): Promise<T | undefined>;
  /** How many results were ever newly stored for `source`. */
  count(source: string): Promise<number>;
}

/** Source names: also used inside Redis hash tags, so no braces. */
export const RESULT_SOURCE_PATTERN = /^[A-Za-z0-9_.-]{1,100}$/;
export const MAX_IDEMPOTENCY_KEY_LENGTH = 1024;

export class InvalidResultError extends Error {
  override readonly name = 'InvalidResultError';
}

export function assertSource(source: string): void {
  if (typeof source !== 'string' || !RESULT_SOURCE_PATTERN.test(source)) {
    throw new InvalidResultError(`source must match ${RESULT_SOURCE_PATTERN} (got ${JSON.stringify(source)})`);
  }
}

export function assertIdempotencyKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    throw new InvalidResultError(`idempotencyKey must be a non-empty string of at most ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`);
  }
}

/** JSON text of a value; refuses what JSON cannot carry (undefined, functions, cycles, BigInt). */
export function serializeResult(source: string, idempotencyKey: string, value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (e) {
    throw new InvalidResultError(`result ${source}/${idempotencyKey} is not JSON-serializable: ${(e as Error).message}`);
  }
  if (text === undefined) throw new InvalidResultError(`result ${source}/${idempotencyKey} is not JSON-serializable (${typeof value})`);
  return text;
}
