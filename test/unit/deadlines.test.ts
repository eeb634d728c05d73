import { describe, expect, it } from 'vitest';
import { Deadlines } from '../../src/store/deadlines';

const later = <T>(ms: number, v: T) => new Promise<T>((r) => setTimeout(() => r(v), ms));
const never = () => new Promise<never>(() => undefined);
const timedOut = () => new Error('timed out');

describe('Deadlines (one timer per bound)', () => {
  it('passes through what settles in time, and rejects what does not with the bound’s error', async () => {
    const d = new Deadlines();
    await expect(d.bound(later(5, 'a'), 200, timedOut)).resolves.toBe('a');
    await expect(d.bound(Promise.reject(new Error('boom')), 200, timedOut)).rejects.toThrow('boom');
    await expect(d.bound(never(), 20, timedOut)).rejects.toThrow('timed out');
  });

  it('expires exactly the calls still pending at their deadline, whatever order the others settle in', async () => {
    const d = new Deadlines();
    const results: string[] = [];
    const calls: Promise<void>[] = [];
    for (let i = 0; i < 3000; i++) {
      // every third call never answers; the others answer in scrambled order, well in time
      const p = i % 3 === 0 ? never() : later((i * 7) % 11, i);
      calls.push(d.bound(p, 60, timedOut).then((v) => void results.push(`ok ${v}`), () => void results.push(`late ${i}`)));
    }
    await Promise.all(calls);
    expect(results.filter((r) => r.startsWith('late')).sort()).toEqual(
      Array.from({ length: 1000 }, (_, k) => `late ${k * 3}`).sort(),
    );
    expect(results.filter((r) => r.startsWith('ok'))).toHaveLength(2000);
  });

  it('keeps bounding calls added after a long run of settled ones (the queue is compacted, not lost)', async () => {
    const d = new Deadlines();
    for (let i = 0; i < 5000; i++) await d.bound(Promise.resolve(i), 50, timedOut);
    const slow = d.bound(never(), 30, timedOut);
    const fast = d.bound(later(5, 'fast'), 50, timedOut);
    await expect(fast).resolves.toBe('fast');
    await expect(slow).rejects.toThrow('timed out');
  });

  it('uses one lane per bound: a short bound expires on time beside a long one', async () => {
    const d = new Deadlines();
    const long = d.bound(never(), 10_000, timedOut);
    long.catch(() => undefined);
    const t0 = Date.now();
    await expect(d.bound(never(), 25, timedOut)).rejects.toThrow('timed out');
    expect(Date.now() - t0).toBeLessThan(5_000);
  });
});
