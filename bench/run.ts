/**
 * `npm run bench`: one run, printed as JSON and as a table, and written to bench/results/.
 *
 * - acquire + recordSuccess on one breaker (memory store, Redis store) at 1 and 16 concurrent
 *   callers per process, in 1 process and in 4 processes, beside raw ioredis INCR round trips at
 *   the same concurrency; a Redis store decision is 2 Redis operations, so the ratio compares
 *   store ops/s (2 × decisions/s) with INCR ops/s;
 * - the same no-op async call through our memory-store `execute`, opossum and cockatiel.
 *
 * - script-floor: the same two round trips as a store decision (a GET, then EVALSHA with the
 *   record's arguments) where the script only rewrites the value and Node ignores the replies: the
 *   most any GET-then-script design can reach on this machine (a reference, not a goal).
 *
 * INCR, the Redis store and the floor are measured back to back, in BENCH_ROUNDS rounds (rotating
 * which goes first): each ratio is the median of the per-round ratios, each row the median round,
 * so a noisy machine moves both sides of a ratio together. The library measured is the compiled
 * one (dist/, built by `npm run build:lib`; see bench/library.ts).
 *
 * Uses REDIS_URL when set, else starts a throwaway redis-server on a free port.
 * Knobs: BENCH_WARMUP_MS (default 300), BENCH_MEASURE_MS (default 1500), BENCH_ROUNDS (default 5).
 * This is a measurement, never a test: nothing here fails on a missed goal.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { Histogram } from './histogram';
import { startBenchRedis, type BenchRedis } from './redis-server';
import { BENCH_PREFIX, runScenario, type ScenarioKind, type ScenarioResult, type ScenarioSpec } from './scenarios';

const WARMUP_MS = Number(process.env.BENCH_WARMUP_MS ?? 300);
const MEASURE_MS = Number(process.env.BENCH_MEASURE_MS ?? 1500);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 5));
const PROCESSES = 4;
const CALLERS = [1, 16];

interface Row {
  group: 'store' | 'policy';
  scenario: ScenarioKind;
  processes: number;
  callersPerProcess: number;
  decisionsPerSec: number;
  /** Redis round trips per second (2 per store decision, 1 per INCR); null without Redis. */
  redisOpsPerSec: number | null;
  p50us: number;
  p99us: number;
  maxUs: number;
  decisions: number;
  /** Redis store only: times it decided in-process because Redis did not answer in time (0 for a valid row). */
  fallbackEvents?: number;
  /** INCR and Redis store rows: decisions/s of every round (the row shows the median round). */
  rounds?: number[];
  /** For the Redis store: Redis's total_successes equals every decision the callers made. */
  totalsVerified?: boolean;
  /** Rate mode rows: the size of the stored time-window state (bytes) after the row. */
  storedBytes?: number;
}

class Worker {
  private seq = 1;
  private readonly waiting = new Map<number, (m: { ok: boolean; result?: ScenarioResult; error?: string }) => void>();
  readonly ready: Promise<void>;
  constructor(readonly child: ChildProcess) {
    this.ready = new Promise((resolve) => {
      child.on('message', (m: { id: number; ok: boolean; ready?: true; result?: ScenarioResult; error?: string }) => {
        if (m.ready) return resolve();
        this.waiting.get(m.id)?.(m);
        this.waiting.delete(m.id);
      });
    });
  }
  run(spec: ScenarioSpec, startAt: number): Promise<ScenarioResult> {
    const id = this.seq++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, (m) => (m.ok ? resolve(m.result!) : reject(new Error(m.error))));
      this.child.send({ id, spec, startAt });
    });
  }
  stop(): Promise<void> {
    return new Promise((resolve) => {
      if (this.child.exitCode !== null) return resolve();
      this.child.once('exit', () => resolve());
      this.child.disconnect();
    });
  }
}

const REDIS_KINDS = new Set<ScenarioKind>(['redis', 'redis-rate', 'incr', 'script-floor']);
/** Redis round trips per decision. */
const ROUND_TRIPS: Partial<Record<ScenarioKind, number>> = { redis: 2, 'redis-rate': 2, 'script-floor': 2, incr: 1 };

/** Measured back to back in every round, in a rotating order, so a noisy machine moves them together. */
const PAIRED = ['incr', 'redis', 'redis-rate', 'script-floor'] as const;
type Paired = (typeof PAIRED)[number];

async function measure(
  kind: ScenarioKind,
  processes: number,
  callers: number,
  ctx: { url: string; workers: Worker[]; admin: Redis; tag: string },
  roundNo = 0,
): Promise<Row> {
  const name = `${kind}-${processes}p-${callers}c-r${roundNo}-${ctx.tag}`;
  const spec: ScenarioSpec = { kind, callers, warmupMs: WARMUP_MS, measureMs: MEASURE_MS, redisUrl: ctx.url, name };
  let results: ScenarioResult[];
  if (processes === 1) {
    results = [await runScenario(spec)];
  } else {
    const startAt = Date.now() + 300;
    results = await Promise.all(ctx.workers.slice(0, processes).map((w) => w.run(spec, startAt)));
  }
  const hist = new Histogram();
  for (const r of results) hist.merge(Histogram.fromSparse(r.hist));
  const decisions = results.reduce((a, r) => a + r.decisions, 0);
  const decisionsPerSec = decisions / (MEASURE_MS / 1000);
  const row: Row = {
    group: ['memory', 'redis', 'redis-rate', 'incr', 'script-floor'].includes(kind) ? 'store' : 'policy',
    scenario: kind,
    processes,
    callersPerProcess: callers,
    decisionsPerSec: Math.round(decisionsPerSec),
    redisOpsPerSec: REDIS_KINDS.has(kind) ? Math.round(decisionsPerSec * (ROUND_TRIPS[kind] ?? 1)) : null,
    p50us: round(hist.quantile(0.5) / 1000, 1),
    p99us: round(hist.quantile(0.99) / 1000, 1),
    maxUs: round(hist.quantile(1) / 1000, 1),
    decisions,
  };
  if (kind === 'redis' || kind === 'redis-rate') {
    row.fallbackEvents = results.reduce((a, r) => a + r.fallbackEvents, 0);
    const raw = await ctx.admin.get(`${BENCH_PREFIX}${name}`);
    const total = raw ? (JSON.parse(raw) as { stats: { totalSuccesses: number } }).stats.totalSuccesses : -1;
    row.totalsVerified = total === results.reduce((a, r) => a + r.allDecisions, 0);
    if (kind === 'redis-rate') {
      row.storedBytes = raw ? Buffer.byteLength(raw) : 0;
      // The window must hold every call of the last 60 s (the row's calls all fall in it).
      const w = raw ? (JSON.parse(raw) as { window?: { buckets: number[][] } }).window : undefined;
      if (!w || w.buckets.reduce((a, b) => a + b[0], 0) !== results.reduce((a, r) => a + r.allDecisions, 0)) row.totalsVerified = false;
    }
  }
  return row;
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

async function main(): Promise<void> {
  const started = Date.now();
  const loadAtStart = loadavg()[0];
  let own: BenchRedis | undefined;
  let url = process.env.REDIS_URL;
  if (!url) {
    own = await startBenchRedis();
    url = own.url;
  }
  const admin = new Redis(url);
  const info = await admin.info('server');
  const redisVersion = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
  const tag = String(Date.now());

  const workers = Array.from(
    { length: PROCESSES },
    () => new Worker(fork(join(__dirname, 'worker.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })),
  );
  await Promise.all(workers.map((w) => w.ready));
  const ctx = { url, workers, admin, tag };
  const rows: Row[] = [];
  const step = async (kind: ScenarioKind, processes: number, callers: number, round = 0) => {
    const row = await measure(kind, processes, callers, ctx, round);
    process.stderr.write(`  ${kind.padEnd(20)} ${processes}p × ${String(callers).padStart(2)}c  ${fmt(row.decisionsPerSec).padStart(10)}/s\n`);
    return row;
  };
  /** Per (processes, callers): every round's INCR and Redis store rows, measured back to back. */
  const paired = new Map<string, Record<Paired, Row>[]>();

  process.stderr.write(
    `bench: redis ${redisVersion} at ${url}${own ? ' (throwaway)' : ''}; ${WARMUP_MS} ms warm-up + ${MEASURE_MS} ms per scenario; ${ROUNDS} rounds of INCR vs Redis store vs script floor\n`,
  );
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const processes of [1, PROCESSES]) {
        for (const callers of CALLERS) {
          // Back to back, so they see the same machine; the order rotates from round to round.
          const order = PAIRED.map((_, i) => PAIRED[(i + round) % PAIRED.length]);
          const got: Partial<Record<Paired, Row>> = {};
          for (const kind of order) got[kind] = await step(kind, processes, callers, round);
          const k = `${processes}:${callers}`;
          paired.set(k, [...(paired.get(k) ?? []), got as Record<Paired, Row>]);
        }
      }
    }
    for (const processes of [1, PROCESSES]) {
      for (const callers of CALLERS) {
        const pairs = paired.get(`${processes}:${callers}`)!;
        for (const kind of PAIRED) {
          const all = pairs.map((p) => p[kind]);
          const median = [...all].sort((a, b) => a.decisionsPerSec - b.decisionsPerSec)[Math.floor((all.length - 1) / 2)];
          rows.push({ ...median, rounds: all.map((r) => r.decisionsPerSec) });
          if (kind === 'redis' || kind === 'redis-rate') {
            rows[rows.length - 1].totalsVerified = all.every((r) => r.totalsVerified);
            rows[rows.length - 1].fallbackEvents = all.reduce((a, r) => a + (r.fallbackEvents ?? 0), 0);
          }
        }
        rows.push(await step('memory', processes, callers));
      }
    }
    for (const callers of CALLERS) {
      for (const kind of ['execute-memory', 'opossum', 'opossum-no-timeout', 'cockatiel'] as const) rows.push(await step(kind, 1, callers));
    }
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    const keys = await admin.keys('bench:*');
    if (keys.length) await admin.del(...keys);
    await admin.quit();
    await own?.stop();
  }

  const find = (kind: ScenarioKind, processes: number, callers: number) =>
    rows.find((r) => r.scenario === kind && r.processes === processes && r.callersPerProcess === callers)!;
  const ratios: Record<string, number> = {};
  const goals: { goal: string; measured: number; target: number; met: boolean }[] = [];
  for (const processes of [1, PROCESSES]) {
    for (const callers of CALLERS) {
      // Per op: a store decision is 2 Redis round trips, an INCR is 1. Median of the per-round ratios.
      const perRound = paired.get(`${processes}:${callers}`)!.map((p) => p.redis.redisOpsPerSec! / p.incr.redisOpsPerSec!);
      const r = round([...perRound].sort((a, b) => a - b)[Math.floor((perRound.length - 1) / 2)], 3);
      ratios[`redisStoreOps/incrOps ${processes}p×${callers}c`] = r;
      const floor = paired.get(`${processes}:${callers}`)!.map((p) => p['script-floor'].redisOpsPerSec! / p.incr.redisOpsPerSec!);
      ratios[`scriptFloorOps/incrOps ${processes}p×${callers}c`] = round([...floor].sort((a, b) => a - b)[Math.floor((floor.length - 1) / 2)], 3);
      // A rate mode costs what the consecutive mode costs: the same round trips (2), ≥ 0.9× its calls/s, same run, per round.
      const rate = paired.get(`${processes}:${callers}`)!.map((p) => p['redis-rate'].decisionsPerSec / p.redis.decisionsPerSec);
      const rr = round([...rate].sort((a, b) => a - b)[Math.floor((rate.length - 1) / 2)], 3);
      ratios[`redisRate/redis ${processes}p×${callers}c`] = rr;
      goals.push({ goal: `rate mode (time-window) ≥ 0.9× consecutive calls/s, 2 round trips each (${processes} process${processes > 1 ? 'es' : ''}, ${callers} caller${callers > 1 ? 's' : ''}${processes > 1 ? ' each' : ''})`, measured: rr, target: 0.9, met: rr >= 0.9 });
      const target = callers === 1 ? 0.8 : 0.6;
      goals.push({ goal: `Redis store ops ≥ ${target}× raw INCR (${processes} process${processes > 1 ? 'es' : ''}, ${callers} caller${callers > 1 ? 's' : ''}${processes > 1 ? ' each' : ''})`, measured: r, target, met: r >= target });
    }
  }
  // The stored size of a time-window state at the highest rate measured (every rate row's own breaker).
  const rateRows = rows.filter((r) => r.scenario === 'redis-rate');
  const fastest = rateRows.reduce((a, r) => (r.decisionsPerSec > a.decisionsPerSec ? r : a), rateRows[0]);
  const largest = Math.max(...[...paired.values()].flatMap((rounds) => rounds.map((p) => p['redis-rate'].storedBytes ?? Infinity)));
  ratios['timeWindowStoredBytes at highest rate'] = fastest.storedBytes ?? -1;
  ratios['timeWindowStoredBytes max over rate rows'] = largest;
  goals.push({ goal: `time-window stored state < 2048 bytes at the highest rate (${fmt(fastest.decisionsPerSec)} calls/s, ${fastest.processes}p × ${fastest.callersPerProcess}c)`, measured: fastest.storedBytes ?? -1, target: 2048, met: (fastest.storedBytes ?? Infinity) < 2048 && largest < 2048 });
  for (const callers of CALLERS) {
    const ours = find('execute-memory', 1, callers).decisionsPerSec;
    for (const other of ['opossum', 'opossum-no-timeout', 'cockatiel'] as const) {
      ratios[`execute/${other} ${callers}c`] = round(ours / find(other, 1, callers).decisionsPerSec, 3);
    }
    const r = ratios[`execute/opossum ${callers}c`];
    goals.push({ goal: `memory execute ≥ opossum (${callers} caller${callers > 1 ? 's' : ''})`, measured: r, target: 1, met: r >= 1 });
  }

  const report = {
    date: new Date(started).toISOString(),
    durationSeconds: round((Date.now() - started) / 1000, 1),
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      redis: redisVersion,
      // Other work on the machine skews everything (1-minute load average, before and after).
      loadAverage: { start: round(loadAtStart, 2), end: round(loadavg()[0], 2) },
    },
    settings: { warmupMs: WARMUP_MS, measureMs: MEASURE_MS, rounds: ROUNDS, processes: [1, PROCESSES], callersPerProcess: CALLERS },
    notes: [
      'decision = acquire + recordSuccess on one breaker (store rows) or one call (policy rows); Redis store: 2 Redis round trips per decision, INCR: 1',
      'redis-rate = the Redis store in a rate mode (time-window, 60 s in 20 buckets) recording each call with its duration; measured back to back with redis (the consecutive mode) in every round; storedBytes = its key after the row',
      'script-floor = a GET, then a script that only rewrites the value (same arguments as a record), no breaker code: the ceiling of any GET-then-script design here',
      'latency = one decision as its caller sees it (acquire + record, or one call), p50/p99 across all processes',
      'N processes: every process runs the callers shown, on the same breaker (Redis) or its own (memory); decisions/s is the sum',
      'Redis store rows use timeoutMs 5000 (they measure the Redis path, not the outage policy; with the default 100 ms an overloaded machine falls back in-process). valid = Redis totals equal the decisions made and no fallback happened; max shows whether the default 100 ms bound would have been hit',
      'the library measured is the compiled package (dist/, tsc), as users run it; BENCH_LIBRARY=src measures the TypeScript sources under tsx (esbuild keepNames wrappers make its hot paths slower)',
    ],
    results: rows,
    ratios,
    goals,
  };
  const json = JSON.stringify(report, null, 2);
  console.log(json);
  console.log('\n' + table(rows) + '\n');
  for (const [k, v] of Object.entries(ratios)) console.log(`${k.padEnd(40)} ${v}`);
  console.log('');
  for (const g of goals) console.log(`${g.met ? 'MET   ' : 'MISSED'} ${g.goal}: ${g.measured}`);
  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${report.date.replace(/:/g, '-').replace(/\.\d+Z$/, 'Z')}.json`);
  writeFileSync(file, json + '\n');
  console.log(`\nwritten to ${file} (${report.durationSeconds} s; load average ${report.machine.loadAverage.start} → ${report.machine.loadAverage.end} on ${report.machine.cpus} CPUs)`);
}

const fmt = (n: number) => n.toLocaleString('en-US');

function table(rows: Row[]): string {
  const head = ['scenario', 'procs', 'callers/proc', 'decisions/s', 'redis ops/s', 'p50 µs', 'p99 µs', 'max µs', 'valid', 'stored B'];
  const body = rows.map((r) => [
    r.scenario,
    String(r.processes),
    String(r.callersPerProcess),
    fmt(r.decisionsPerSec),
    r.redisOpsPerSec === null ? '' : fmt(r.redisOpsPerSec),
    r.p50us.toFixed(1),
    r.p99us.toFixed(1),
    r.maxUs.toFixed(0),
    r.totalsVerified === undefined ? '' : r.totalsVerified && r.fallbackEvents === 0 ? 'yes' : `NO (${r.fallbackEvents} fallbacks, totals ${r.totalsVerified ? 'ok' : 'off'})`,
    r.storedBytes === undefined ? '' : String(r.storedBytes),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
