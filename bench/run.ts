/**
 * `npm run bench`: one run, printed as JSON and as a table, and written to bench/results/.
 *
 * - acquire + recordSuccess on one breaker (memory store, Redis store) at 1 and 16 concurrent
 *   callers per process, in 1 process and in 4 processes, beside raw ioredis INCR round trips at
 *   the same concurrency; a Redis store decision is 2 Redis operations, so the ratio compares
 *   store ops/s (2 × decisions/s) with INCR ops/s;
 * - the same no-op async call through our memory-store `execute`, opossum and cockatiel.
 *
 * Uses REDIS_URL when set, else starts a throwaway redis-server on a free port.
 * Knobs: BENCH_WARMUP_MS (default 400), BENCH_MEASURE_MS (default 2000).
 * This is a measurement, never a test: nothing here fails on a missed goal.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { Histogram } from './histogram';
import { startBenchRedis, type BenchRedis } from './redis-server';
import { BENCH_PREFIX, runScenario, type ScenarioKind, type ScenarioResult, type ScenarioSpec } from './scenarios';

const WARMUP_MS = Number(process.env.BENCH_WARMUP_MS ?? 400);
const MEASURE_MS = Number(process.env.BENCH_MEASURE_MS ?? 2000);
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
  decisions: number;
  /** For the Redis store: Redis's total_successes equals every decision the callers made. */
  totalsVerified?: boolean;
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

const REDIS_KINDS = new Set<ScenarioKind>(['redis', 'incr']);

async function measure(
  kind: ScenarioKind,
  processes: number,
  callers: number,
  ctx: { url: string; workers: Worker[]; admin: Redis; tag: string },
): Promise<Row> {
  const name = `${kind}-${processes}p-${callers}c-${ctx.tag}`;
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
    group: ['memory', 'redis', 'incr'].includes(kind) ? 'store' : 'policy',
    scenario: kind,
    processes,
    callersPerProcess: callers,
    decisionsPerSec: Math.round(decisionsPerSec),
    redisOpsPerSec: REDIS_KINDS.has(kind) ? Math.round(decisionsPerSec * (kind === 'redis' ? 2 : 1)) : null,
    p50us: round(hist.quantile(0.5) / 1000, 1),
    p99us: round(hist.quantile(0.99) / 1000, 1),
    decisions,
  };
  if (kind === 'redis') {
    const raw = await ctx.admin.get(`${BENCH_PREFIX}${name}`);
    const total = raw ? (JSON.parse(raw) as { stats: { totalSuccesses: number } }).stats.totalSuccesses : -1;
    row.totalsVerified = total === results.reduce((a, r) => a + r.allDecisions, 0);
  }
  return row;
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

async function main(): Promise<void> {
  const started = Date.now();
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
  const step = async (kind: ScenarioKind, processes: number, callers: number) => {
    const row = await measure(kind, processes, callers, ctx);
    rows.push(row);
    process.stderr.write(`  ${kind.padEnd(20)} ${processes}p × ${String(callers).padStart(2)}c  ${fmt(row.decisionsPerSec).padStart(10)}/s\n`);
  };

  process.stderr.write(`bench: redis ${redisVersion} at ${url}${own ? ' (throwaway)' : ''}; ${WARMUP_MS} ms warm-up + ${MEASURE_MS} ms per scenario\n`);
  try {
    for (const processes of [1, PROCESSES]) {
      for (const callers of CALLERS) {
        // INCR and the Redis store back to back, so they see the same machine.
        await step('incr', processes, callers);
        await step('redis', processes, callers);
        await step('memory', processes, callers);
      }
    }
    for (const callers of CALLERS) {
      for (const kind of ['execute-memory', 'opossum', 'opossum-no-timeout', 'cockatiel'] as const) await step(kind, 1, callers);
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
      const r = round(find('redis', processes, callers).redisOpsPerSec! / find('incr', processes, callers).redisOpsPerSec!, 3);
      ratios[`redisStoreOps/incrOps ${processes}p×${callers}c`] = r;
      const target = callers === 1 ? 0.8 : 0.6;
      goals.push({ goal: `Redis store ops ≥ ${target}× raw INCR (${processes} process${processes > 1 ? 'es' : ''}, ${callers} caller${callers > 1 ? 's' : ''}${processes > 1 ? ' each' : ''})`, measured: r, target, met: r >= target });
    }
  }
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
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version, platform: `${process.platform}-${process.arch}`, redis: redisVersion },
    settings: { warmupMs: WARMUP_MS, measureMs: MEASURE_MS, processes: [1, PROCESSES], callersPerProcess: CALLERS },
    notes: [
      'decision = acquire + recordSuccess on one breaker (store rows) or one call (policy rows); Redis store: 2 Redis round trips per decision, INCR: 1',
      'latency = one decision as its caller sees it (acquire + record, or one call), p50/p99 across all processes',
      'N processes: every process runs the callers shown, on the same breaker (Redis) or its own (memory); decisions/s is the sum',
      'runs under tsx: esbuild keepNames wraps inner functions in __name(), which slows the in-memory paths; the tsc build of the library runs memory execute ~1.4x faster',
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
  console.log(`\nwritten to ${file} (${report.durationSeconds} s)`);
}

const fmt = (n: number) => n.toLocaleString('en-US');

function table(rows: Row[]): string {
  const head = ['scenario', 'procs', 'callers/proc', 'decisions/s', 'redis ops/s', 'p50 µs', 'p99 µs', 'totals ok'];
  const body = rows.map((r) => [
    r.scenario,
    String(r.processes),
    String(r.callersPerProcess),
    fmt(r.decisionsPerSec),
    r.redisOpsPerSec === null ? '' : fmt(r.redisOpsPerSec),
    r.p50us.toFixed(1),
    r.p99us.toFixed(1),
    r.totalsVerified === undefined ? '' : r.totalsVerified ? 'yes' : 'NO',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
