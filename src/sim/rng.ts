/** Seeded pseudo-random numbers for the simulator: the same seed gives the same sequence. */
export type Rng = () => number;

/** mulberry32: a small, fast 32-bit generator; returns numbers in [0, 1). */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A 32-bit seed derived from a base seed and a label (FNV-1a), so each stream is independent. */
export function deriveSeed(seed: number, label: string): number {
  let h = (2166136261 ^ (seed >>> 0)) >>> 0;
  for (let i = 0; i < label.length; i++) {
    h ^= label.charCodeAt(i);
    h = Math.imul(h, 16777619) >>> 0;
  }
  return h >>> 0;
}

/** A stable 32-bit hash of a string (for values that depend on a name, e.g. a token's price). */
export function hashString(s: string): number {
  return deriveSeed(0, s);
}

export function randInt(rng: Rng, min: number, max: number): number {
  return min + Math.floor(rng() * (max - min + 1));
}

export function pick<T>(rng: Rng, items: readonly T[]): T {
  const item = items[Math.floor(rng() * items.length)];
  if (item === undefined) throw new Error('pick from an empty list');
  return item;
}

/** value × (1 ± spread), e.g. jitter(rng, 100, 0.02) is in [98, 102). */
export function jitter(rng: Rng, value: number, spread: number): number {
  return value * (1 + (rng() * 2 - 1) * spread);
}
