/**
 * `npm run bench:deadlines`: what the store's deadline queue (src/store/deadlines.ts) buys over
 * the plain way to bound a call, one setTimeout + clearTimeout and a Promise.race per call. Every
 * guarded call passes it twice (the decision and the record, ResilientStore), so this is the
 * row that justifies keeping a hand-written queue. Measured on the compiled library, in one run:
 * calls whose promise is already settled (a decision from the snapshot) and calls settled a
 * macrotask later (a Redis reply), 16 in flight. A measurement, never a test.
 */
import { performance } from 'node:perf_hooks';
import { createRequire } from 'node:module';
import { join } from 'node:path';

type DeadlinesModule = typeof import('../src/store/deadlines');
const { Deadlines } = createRequire(__filename)(join(__dirname, '..', 'dist', 'src', 'store', 'deadlines.js')) as DeadlinesModule;

const N = Number(process.env.BENCH_DEADLINE_CALLS ?? 400_000);
const ROUNDS = 5;
const timedOut = () => new Error('timed out');

function raced<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timedOut()), ms);
  });
  timeout.catch(() => undefined); // lost the race: nobody listens any more
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

type Bound = (p: Promise<number>) => Promise<number>;

async function run(bound: Bound, settle: () => Promise<number>, inFlight: number): Promise<number> {
  const started = performance.now();
  let left = N;
  const lane = async () => {
    while (left-- > 0) await bound(settle());
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  return ((performance.now() - started) * 1e6) / N; // ns per call
}

async function main(): Promise<void> {
  const queue = new Deadlines();
  const ways: Record<string, Bound> = { 'deadline queue': (p) => queue.bound(p, 100, timedOut), 'setTimeout + race': (p) => raced(p, 100) };
  const settles: Record<string, () => Promise<number>> = {
    'settled already (snapshot decision)': () => Promise.resolve(1),
    'settled a macrotask later (a reply)': () => new Promise((r) => setImmediate(() => r(1))),
  };
  const rows: { case: string; way: string; nsPerCall: number }[] = [];
  for (const [label, settle] of Object.entries(settles)) {
    const per: Record<string, number[]> = {};
    for (let round = 0; round < ROUNDS; round++) {
      for (const [way, bound] of round % 2 ? Object.entries(ways).reverse() : Object.entries(ways)) (per[way] ??= []).push(await run(bound, settle, 16));
    }
    for (const [way, all] of Object.entries(per)) rows.push({ case: label, way, nsPerCall: Math.round(all.sort((a, b) => a - b)[Math.floor(ROUNDS / 2)]) });
  }
  console.log(JSON.stringify({ calls: N, rounds: ROUNDS, rows }, null, 2));
  for (const label of Object.keys(settles)) {
    const [q, r] = ['deadline queue', 'setTimeout + race'].map((w) => rows.find((x) => x.case === label && x.way === w)!.nsPerCall);
    console.log(`${label}: deadline queue ${q} ns/call, setTimeout + race ${r} ns/call (${(r / q).toFixed(2)}×)`);
  }
}

void main();
