/**
 * The shape every collector shares: validate the input, skip the call when this idempotency
 * key is already stored, fetch, store with put-if-absent, return a small summary.
 */
import { z } from 'zod';
import { InvalidResultError, type ResultStore } from '../../src/results/result-store';
import { invalidInputError, notConfiguredError, resultStoreError, zodIssues } from './errors';
import type { ProviderEndpointConfig, ProviderName } from './providers';

/** What every collector returns to its workflow (small: the data itself stays in the store). */
export interface CollectorSummary {
  source: ProviderName;
  idempotencyKey: string;
  /** false when this idempotency key was already stored (a retry, a replayed cycle). */
  stored: boolean;
  /** Items fetched (or, when already stored, items in the stored result). */
  items: number;
  /** false when the stored result was returned without calling the provider: the breaker does not count it. */
  upstreamCalled: boolean;
}

/** What a collector stores under (source, idempotencyKey). */
export interface CollectedResult<Item = unknown> {
  source: ProviderName;
  idempotencyKey: string;
  /** ISO time from the collector's clock. */
  fetchedAt: string;
  /** The validated input, without the idempotency key. */
  request: Record<string, unknown>;
  items: Item[];
}

/** Every collector input carries the key its result is stored under (e.g. `${workflowId}:${cycle}:${source}`). */
export const idempotencyKeySchema = z
  .string({ error: 'must be a string' })
  .min(1, { error: 'must not be empty' })
  .max(1024, { error: 'must be at most 1024 characters' });

export interface CollectorRuntime {
  endpoint: (provider: ProviderName) => ProviderEndpointConfig | undefined;
  results: ResultStore;
  clock: () => number;
  signal: () => AbortSignal | undefined;
}

export interface CollectorDefinition<S extends z.ZodType<{ idempotencyKey: string }>, Item> {
  source: ProviderName;
  input: S;
  fetch(args: { endpoint: ProviderEndpointConfig; input: z.output<S>; signal: AbortSignal | undefined; now: number }): Promise<Item[]>;
}

/** Builds the activity function of one collector. */
export function defineCollector<S extends z.ZodType<{ idempotencyKey: string }>, Item>(
  def: CollectorDefinition<S, Item>,
  rt: CollectorRuntime,
): (input: z.input<S>) => Promise<CollectorSummary> {
  const { source } = def;
  return async (rawInput) => {
    const parsed = def.input.safeParse(rawInput);
    if (!parsed.success) throw invalidInputError(source, zodIssues(parsed.error));
    const input = parsed.data;
    const idempotencyKey = input.idempotencyKey;
    const endpoint = rt.endpoint(source);
    if (!endpoint) throw notConfiguredError(source);

    // A result store that cannot answer fails the attempt (retried) without blaming the provider.
    const unavailable = (op: 'read' | 'write') => (e: unknown): never => {
      throw e instanceof InvalidResultError ? e : resultStoreError(source, op, e);
    };
    const existing = await rt.results.get<CollectedResult<Item>>(source, idempotencyKey).catch(unavailable('read'));
    if (existing !== undefined) {
      return { source, idempotencyKey, stored: false, items: Array.isArray(existing.items) ? existing.items.length : 0, upstreamCalled: false };
    }
    const now = rt.clock();
    const items = await def.fetch({ endpoint, input, signal: rt.signal(), now });
    const { idempotencyKey: _key, ...request } = input as Record<string, unknown>;
    const result: CollectedResult<Item> = { source, idempotencyKey, fetchedAt: new Date(now).toISOString(), request, items };
    const stored = await rt.results.put(source, idempotencyKey, result).catch(unavailable('write'));
    return { source, idempotencyKey, stored, items: items.length, upstreamCalled: true };
  };
}
