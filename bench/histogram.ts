/**
 * A log-bucketed latency histogram (2% relative resolution): cheap to record millions of
 * samples, and mergeable across processes (plain arrays over IPC).
 */
const GROWTH = 1.02;
const LOG_GROWTH = Math.log(GROWTH);
const BUCKETS = 1400; // 1.02^1400 ns ≈ 10^12 ns: far beyond any latency here

export class Histogram {
  readonly counts: number[];
  total = 0;

  constructor(counts?: number[]) {
    this.counts = counts ? [...counts] : new Array<number>(BUCKETS).fill(0);
    this.total = this.counts.reduce((a, b) => a + b, 0);
  }

  /** Records one latency, in nanoseconds. */
  record(ns: number): void {
    const i = ns <= 1 ? 0 : Math.min(BUCKETS - 1, Math.floor(Math.log(ns) / LOG_GROWTH));
    this.counts[i] += 1;
    this.total += 1;
  }

  merge(other: Histogram): void {
    for (let i = 0; i < BUCKETS; i++) this.counts[i] += other.counts[i];
    this.total += other.total;
  }

  /** The q-quantile (0..1), in nanoseconds (the bucket's geometric middle). */
  quantile(q: number): number {
    if (this.total === 0) return NaN;
    const rank = Math.ceil(q * this.total);
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i];
      if (seen >= rank) return Math.pow(GROWTH, i + 0.5);
    }
    return Math.pow(GROWTH, BUCKETS);
  }

  /** Sparse form for IPC and JSON. */
  toSparse(): [number, number][] {
    const out: [number, number][] = [];
    this.counts.forEach((c, i) => c > 0 && out.push([i, c]));
    return out;
  }

  static fromSparse(sparse: [number, number][]): Histogram {
    const h = new Histogram();
    for (const [i, c] of sparse) {
      h.counts[i] += c;
      h.total += c;
    }
    return h;
  }
}
