/** A ResultStore in process memory (tests, single-process demos). Stores JSON copies. */
import { assertIdempotencyKey, assertSource, serializeResult, type ResultStore } from './result-store';

export class MemoryResultStore implements ResultStore {
  private readonly bySource = new Map<string, Map<string, string>>();
  private readonly counts = new Map<string, number>();

  async put(source: string, idempotencyKey: string, value: unknown): Promise<boolean> {
    assertSource(source);
    assertIdempotencyKey(idempotencyKey);
    const text = serializeResult(source, idempotencyKey, value);
    let items = this.bySource.get(source);
    if (!items) this.bySource.set(source, (items = new Map()));
    if (items.has(idempotencyKey)) return false;
    items.set(idempotencyKey, text);
    this.counts.set(source, (this.counts.get(source) ?? 0) + 1);
    return true;
  }

  async get<T = unknown>(source: string, idempotencyKey: string): Promise<T | undefined> {
    assertSource(source);
    assertIdempotencyKey(idempotencyKey);
    const text = this.bySource.get(source)?.get(idempotencyKey);
    return text === undefined ? undefined : (JSON.parse(text) as T);
  }

  async count(source: string): Promise<number> {
    assertSource(source);
    return this.counts.get(source) ?? 0;
  }
}
