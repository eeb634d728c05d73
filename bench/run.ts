/**
 * `npm run bench:store`: one run, printed as JSON and as markdown tables, both written to
 * bench/results/<date>.json and .md, with the goals of issues #11 and #13 (measured, target, met).
 *
 * Redis rows, at 1 process × 1 caller, 1 × 16, 4 × 1 and 4 × 16 (N processes: every process runs
 * the callers shown on the same breaker or key; rates are the sum), five variants back to back in
 * every round:
 * - incr: raw ioredis INCR round trips per second, the baseline;
 * - script-floor: one EVALSHA per operation of a trivial script (GET the key, SET it back with EX,
 *   return the value) with a record's arguments (1 key, 12 ARGV), no breaker code: the ceiling of
 *   any one-script-per-call design on this machine;
 * - redis: guarded calls per second on the Redis store, consecutive mode (a guarded call = acquire
 *   + recordSuccess; while the snapshot is fresh the acquire is decided in-process and the record
 *   is the call's one script call);
 * - redis-rate: the same in a rate mode (time-window, 60 s), each call's duration recorded;
 * - redis-snapshot-off: `redis` with snapshotMaxAgeMs 0 (a GET before every decision, then the
 *   record: the two-round-trip design, for comparison);
 * - redis-eval: `redis` on a client without FCALL, so that the script runs by EVALSHA as on Redis 6
 *   (what Redis Functions buy: the library's definitions and memos outlive a call).
 * Each store row shows calls/s, INCR ops/s, floor ops/s, calls/INCR, floor/INCR, its calls/s ÷
 * `redis`'s (rate goal), p50/p99/max latency of one guarded call, and validity: Redis's
 * totalSuccesses equals every call the row made (warm-up included), no call fell back in-process,
 * and for redis-rate the time window's call count equals them too (stored B = its key's size).
 *
 * Opening rows ("late permits"): 4 processes × 16 callers on a fresh breaker (consecutive,
 * failureThreshold 5, timeoutSeconds 600: it stays open) whose upstream succeeds until the onset
 * (one wall-clock instant for every process, after the warm-up), then fails every call that ends
 * after it (a call ends right after its acquire: the upstream is a no-op); each caller calls
 * until its first rejection. Late permits = the admitted calls that failed and whose failure the
 * store did not count (the record returned counted: false: the permit's closed period had ended,
 * totals only) = failing calls − the failures counted before the opening (failureThreshold,
 * unless a success landed between them: the "counted failures" column). They are the calls
 * admitted from a closed state while the opening was on its way: with the snapshot off, the
 * callers whose GET was answered before the opening landed; with a snapshot, every caller whose
 * process had not yet had a reply carrying the opening (each caller decides from the state its
 * process's last reply carried, so up to one call per caller). Measured with the default
 * snapshotMaxAgeMs (1000), 100 ms and 0 (off); valid = the stored state is open, opened once, its
 * totals equal every outcome recorded, no fallback, and every caller was rejected before the 2 s
 * deadline.
 *
 * Memory rows: acquire + recordSuccess on the memory store (each process its own breaker), and a
 * no-op through our memory-store `execute`, opossum (default options, and timeout: false) and
 * cockatiel, 1 process, 1 and 16 callers, back to back in every round.
 *
 * Method: BENCH_ROUNDS rounds; in each, the variants of a group run back to back in an order that
 * rotates from round to round, so that a noisy machine moves both sides of a ratio together. A
 * row is its median round (by calls/s), a ratio the median of the per-round ratios; late permits
 * are the median over rounds, and their goal compares those medians (default ÷ off). The memory
 * acquire + record rows are measured once. The library measured is the compiled one (dist/, built
 * by `npm run build:lib`; see bench/library.ts).
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
import { benchLibrary } from './library';
import { startBenchRedis, type BenchRedis } from './redis-server';
import { BENCH_OPENING_CONFIG, BENCH_PREFIX, runScenario, type ScenarioKind, type ScenarioResult, type ScenarioSpec } from './scenarios';

const WARMUP_MS = Number(process.env.BENCH_WARMUP_MS ?? 300);
const MEASURE_MS = Number(process.env.BENCH_MEASURE_MS ?? 1500);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 5));
const PROCESSES = 4;
const CALLERS = [1, 16];
/** (processes, callers per process) of the Redis rows, with issue #11's calls/INCR target at each. */
const CONCURRENCY = [
  { processes: 1, callers: 1, target: 0.8 },
  { processes: 1, callers: 16, target: 0.6 },
  { processes: PROCESSES, callers: 1, target: 0.6 },
  { processes: PROCESSES, callers: 16, target: 0.5 },
] as const;
const RATE_TARGET = 0.9;
const STORED_BYTES_LIMIT = 2048;
const OPENING_CALLERS = 16;
/** The longest the opening rows' callers keep calling once the upstream fails. */
const OPENING_DEADLINE_MS = 2000;
const LATE_PERMITS_TARGET = 2;

interface Variant {
  label: string;
  kind: ScenarioKind;
  /** The Redis store's snapshotMaxAgeMs (absent: its default). */
  snapshotMaxAgeMs?: number;
  /** The Redis store's script by EVALSHA instead of FCALL. */
  withoutFunctions?: boolean;
}

const REDIS_VARIANTS: readonly Variant[] = [
  { label: 'incr', kind: 'incr' },
  { label: 'script-floor', kind: 'script-floor' },
  { label: 'redis', kind: 'redis' },
  { label: 'redis-rate', kind: 'redis-rate' },
  { label: 'redis-snapshot-off', kind: 'redis', snapshotMaxAgeMs: 0 },
  { label: 'redis-eval', kind: 'redis', withoutFunctions: true },
];
const STORE_LABELS = ['redis', 'redis-rate', 'redis-snapshot-off', 'redis-eval'];
const POLICY_VARIANTS: readonly Variant[] = (['execute-memory', 'opossum', 'opossum-no-timeout', 'cockatiel'] as const).map((kind) => ({ label: kind, kind }));
const OPENING_VARIANTS: readonly Variant[] = [
  { label: 'snapshot default (1000 ms)', kind: 'opening' },
  { label: 'snapshot 100 ms', kind: 'opening', snapshotMaxAgeMs: 100 },
  { label: 'snapshot off (0)', kind: 'opening', snapshotMaxAgeMs: 0 },
];

/** One variant at one concurrency in one round. */
interface Sample {
  label: string;
  processes: number;
  callersPerProcess: number;
  callsPerSec: number;
  p50us: number;
  p99us: number;
  maxUs: number;
  calls: number;
  /** Redis store only: times the store gave up on Redis and decided in-process (0 for a valid row). */
  fallbackEvents?: number;
  /** Redis store only: Redis's totals (and a rate mode's window) equal every call made. */
  totalsVerified?: boolean;
  /** Rate mode only: the size of the stored state (bytes) after the row. */
  storedBytes?: number;
}

/** A Redis store row: its median round, beside the baselines measured in the same rounds. */
interface StoreRow extends Sample {
  incrOpsPerSec: number;
  floorOpsPerSec: number;
  /** Medians of the per-round ratios. */
  callsPerIncr: number;
  floorPerIncr: number;
  /** This row's calls/s ÷ the consecutive mode's (`redis`), per round; 1 for `redis` itself. */
  perConsecutive: number;
  /** calls/s of every round. */
  rounds: number[];
  /** Every round's totals verified and no fallback in any round. */
  valid: boolean;
  /** The largest stored state over the rounds (rate mode). */
  maxStoredBytes?: number;
}

interface PolicyRow extends Sample {
  /** execute-memory's calls/s ÷ this row's, median of the per-round ratios. */
  executePerThis: number;
  rounds: number[];
}

interface OpeningSample {
  label: string;
  latePermits: number;
  failingCalls: number;
  countedFailures: number;
  valid: boolean;
}

interface OpeningRow {
  label: string;
  snapshotMaxAgeMs: number | 'default';
  /** Medians over the rounds. */
  latePermits: number;
  failingCalls: number;
  rounds: number[];
  countedFailures: number[];
  valid: boolean;
}

interface Goal {
  goal: string;
  measured: number;
  target: number;
  met: boolean;
}

class Worker {
  private seq = 1;
  private readonly waiting = new Map<number, (m: { ok: boolean; result?: ScenarioResult; error?: string }) => void>();
  readonly ready: Promise<void>;
  constructor(readonly child: ChildProcess) {
    this.ready = new Promise((resolve, reject) => {
      child.on('message', (m: { id: number; ok: boolean; ready?: true; result?: ScenarioResult; error?: string }) => {
        if (m.ready) return resolve();
        this.waiting.get(m.id)?.(m);
        this.waiting.delete(m.id);
      });
      child.once('exit', (code) => reject(new Error(`bench worker exited with code ${code} before it was ready`)));
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

interface Ctx {
  url: string;
  workers: Worker[];
  admin: Redis;
  tag: string;
}

/** The stored JSON of a breaker, as far as the bench reads it. */
interface StoredState {
  state: string;
  stats: { totalSuccesses: number; totalFailures: number; circuitOpens: number };
  window?: { buckets: number[][] };
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;
const sum = <T>(xs: readonly T[], f: (x: T) => number) => xs.reduce((a, x) => a + f(x), 0);
/** The lower middle: always one of the values (a real round). */
const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const medianBy = <T>(xs: readonly T[], f: (x: T) => number) => [...xs].sort((a, b) => f(a) - f(b))[Math.floor((xs.length - 1) / 2)];
const rotate = <T>(xs: readonly T[], n: number) => xs.map((_, i) => xs[(i + n) % xs.length]);
const concurrencyKey = (processes: number, callers: number) => `${processes}p×${callers}c`;
const who = (processes: number, callers: number) =>
  `${processes} process${processes > 1 ? 'es' : ''}, ${callers} caller${callers > 1 ? 's' : ''}${processes > 1 ? ' each' : ''}`;
const fmt = (n: number) => n.toLocaleString('en-US');

async function readState(admin: Redis, name: string): Promise<{ raw: string | null; state?: StoredState }> {
  const raw = await admin.get(`${BENCH_PREFIX}${name}`);
  return { raw, state: raw ? (JSON.parse(raw) as StoredState) : undefined };
}

/** Runs a scenario in this process (1) or in the first `processes` workers, lined up to start together. */
async function runOn(ctx: Ctx, processes: number, spec: ScenarioSpec): Promise<ScenarioResult[]> {
  if (processes === 1) return [await runScenario(spec)];
  const startAt = Date.now() + 300;
  return Promise.all(ctx.workers.slice(0, processes).map((w) => w.run(spec, startAt)));
}

function specOf(v: Variant, callers: number, name: string, ctx: Ctx): ScenarioSpec {
  const spec: ScenarioSpec = { kind: v.kind, callers, warmupMs: WARMUP_MS, measureMs: MEASURE_MS, redisUrl: ctx.url, name };
  if (v.snapshotMaxAgeMs !== undefined) spec.snapshotMaxAgeMs = v.snapshotMaxAgeMs;
  if (v.withoutFunctions) spec.withoutFunctions = true;
  return spec;
}

async function measureCalls(v: Variant, processes: number, callers: number, ctx: Ctx, roundNo: number): Promise<Sample> {
  const name = `${v.label}-${processes}p-${callers}c-r${roundNo}-${ctx.tag}`;
  const results = await runOn(ctx, processes, specOf(v, callers, name, ctx));
  const hist = new Histogram();
  for (const r of results) hist.merge(Histogram.fromSparse(r.hist));
  const calls = sum(results, (r) => r.calls);
  const sample: Sample = {
    label: v.label,
    processes,
    callersPerProcess: callers,
    callsPerSec: Math.round(calls / (MEASURE_MS / 1000)),
    p50us: round(hist.quantile(0.5) / 1000, 1),
    p99us: round(hist.quantile(0.99) / 1000, 1),
    maxUs: round(hist.quantile(1) / 1000, 1),
    calls,
  };
  if (v.kind === 'redis' || v.kind === 'redis-rate') Object.assign(sample, await checkTotals(ctx.admin, name, v.kind, results));
  process.stderr.write(`  ${v.label.padEnd(20)} ${processes}p × ${String(callers).padStart(2)}c  ${fmt(sample.callsPerSec).padStart(10)}/s\n`);
  return sample;
}

/** Redis's totals against the calls the row made (warm-up included); a rate mode's window and size too. */
async function checkTotals(admin: Redis, name: string, kind: ScenarioKind, results: ScenarioResult[]): Promise<Partial<Sample>> {
  const { raw, state } = await readState(admin, name);
  const all = sum(results, (r) => r.allCalls);
  const out: Partial<Sample> = { fallbackEvents: sum(results, (r) => r.fallbackEvents), totalsVerified: state?.stats.totalSuccesses === all };
  if (kind === 'redis-rate') {
    // The window must hold every call of the last 60 s (the row's calls all fall in it).
    const inWindow = state?.window ? sum(state.window.buckets, (b) => b[0]) : -1;
    out.totalsVerified = out.totalsVerified && inWindow === all;
    out.storedBytes = raw ? Buffer.byteLength(raw) : 0;
  }
  return out;
}

async function measureOpening(v: Variant, ctx: Ctx, roundNo: number): Promise<OpeningSample> {
  const name = `opening-${v.snapshotMaxAgeMs ?? 'default'}-r${roundNo}-${ctx.tag}`;
  const results = await runOn(ctx, PROCESSES, { ...specOf(v, OPENING_CALLERS, name, ctx), measureMs: OPENING_DEADLINE_MS });
  const tallies = results.map((r) => r.opening!);
  const failingCalls = sum(tallies, (t) => t.failures);
  const latePermits = sum(tallies, (t) => t.uncounted);
  const { state } = await readState(ctx.admin, name);
  const valid =
    state?.state === 'open' &&
    state.stats.circuitOpens === 1 &&
    state.stats.totalSuccesses === sum(tallies, (t) => t.successes) &&
    state.stats.totalFailures === failingCalls &&
    sum(tallies, (t) => t.unfinished) === 0 &&
    sum(results, (r) => r.fallbackEvents) === 0;
  process.stderr.write(`  opening ${v.label.padEnd(26)} ${PROCESSES}p × ${OPENING_CALLERS}c  ${String(latePermits).padStart(5)} late permits${valid ? '' : ' (NOT VALID)'}\n`);
  return { label: v.label, latePermits, failingCalls, countedFailures: failingCalls - latePermits, valid };
}

/** Every group's rounds, the variants of a group back to back in a rotating order. */
async function measureAll(ctx: Ctx) {
  const redis = new Map<string, Map<string, Sample>[]>(); // concurrency → rounds → label → sample
  const policies = new Map<number, Map<string, Sample>[]>(); // callers → rounds → label → sample
  const openings: Map<string, OpeningSample>[] = [];
  const push = <K>(m: Map<K, Map<string, Sample>[]>, k: K, got: Map<string, Sample>) => m.set(k, [...(m.get(k) ?? []), got]);
  for (let r = 0; r < ROUNDS; r++) {
    process.stderr.write(`round ${r + 1}/${ROUNDS}\n`);
    for (const { processes, callers } of CONCURRENCY) {
      const got = new Map<string, Sample>();
      for (const v of rotate(REDIS_VARIANTS, r)) got.set(v.label, await measureCalls(v, processes, callers, ctx, r));
      push(redis, concurrencyKey(processes, callers), got);
    }
    const opened = new Map<string, OpeningSample>();
    for (const v of rotate(OPENING_VARIANTS, r)) opened.set(v.label, await measureOpening(v, ctx, r));
    openings.push(opened);
    for (const callers of CALLERS) {
      const got = new Map<string, Sample>();
      for (const v of rotate(POLICY_VARIANTS, r)) got.set(v.label, await measureCalls(v, 1, callers, ctx, r));
      push(policies, callers, got);
    }
  }
  const memory: Sample[] = [];
  for (const { processes, callers } of CONCURRENCY) memory.push(await measureCalls({ label: 'memory', kind: 'memory' }, processes, callers, ctx, 0));
  return { redis, policies, openings, memory };
}

/** Per-round ratio of two labels' calls/s, median over the rounds. */
const ratioOf = (rounds: Map<string, Sample>[], a: string, b: string) => round(median(rounds.map((s) => s.get(a)!.callsPerSec / s.get(b)!.callsPerSec)), 3);

function storeRows(redis: Map<string, Map<string, Sample>[]>): StoreRow[] {
  return CONCURRENCY.flatMap(({ processes, callers }) => {
    const rounds = redis.get(concurrencyKey(processes, callers))!;
    const medianOf = (label: string) => medianBy(rounds.map((s) => s.get(label)!), (s) => s.callsPerSec);
    return STORE_LABELS.map((label): StoreRow => {
      const all = rounds.map((s) => s.get(label)!);
      const totalsVerified = all.every((s) => s.totalsVerified === true);
      const fallbackEvents = sum(all, (s) => s.fallbackEvents ?? 0);
      const row: StoreRow = {
        ...medianOf(label),
        incrOpsPerSec: medianOf('incr').callsPerSec,
        floorOpsPerSec: medianOf('script-floor').callsPerSec,
        callsPerIncr: ratioOf(rounds, label, 'incr'),
        floorPerIncr: ratioOf(rounds, 'script-floor', 'incr'),
        perConsecutive: ratioOf(rounds, label, 'redis'),
        rounds: all.map((s) => s.callsPerSec),
        totalsVerified,
        fallbackEvents,
        valid: totalsVerified && fallbackEvents === 0,
      };
      if (label === 'redis-rate') row.maxStoredBytes = Math.max(...all.map((s) => s.storedBytes ?? Infinity));
      return row;
    });
  });
}

/** The INCR and floor rows themselves (their latencies), median rounds. */
function baselineRows(redis: Map<string, Map<string, Sample>[]>): Sample[] {
  return CONCURRENCY.flatMap(({ processes, callers }) => {
    const rounds = redis.get(concurrencyKey(processes, callers))!;
    return ['incr', 'script-floor'].map((label) => medianBy(rounds.map((s) => s.get(label)!), (s) => s.callsPerSec));
  });
}

function policyRows(policies: Map<number, Map<string, Sample>[]>): PolicyRow[] {
  return CALLERS.flatMap((callers) => {
    const rounds = policies.get(callers)!;
    return POLICY_VARIANTS.map(({ label }) => ({
      ...medianBy(rounds.map((s) => s.get(label)!), (s) => s.callsPerSec),
      executePerThis: ratioOf(rounds, 'execute-memory', label),
      rounds: rounds.map((s) => s.get(label)!.callsPerSec),
    }));
  });
}

function openingRows(openings: Map<string, OpeningSample>[]): OpeningRow[] {
  return OPENING_VARIANTS.map((v) => {
    const all = openings.map((o) => o.get(v.label)!);
    return {
      label: v.label,
      snapshotMaxAgeMs: v.snapshotMaxAgeMs ?? 'default',
      latePermits: median(all.map((s) => s.latePermits)),
      failingCalls: median(all.map((s) => s.failingCalls)),
      rounds: all.map((s) => s.latePermits),
      countedFailures: all.map((s) => s.countedFailures),
      valid: all.every((s) => s.valid),
    };
  });
}

function goalsOf(stores: StoreRow[], policies: PolicyRow[], openings: OpeningRow[]): Goal[] {
  const goals: Goal[] = [];
  const atLeast = (goal: string, measured: number, target: number) => goals.push({ goal, measured, target, met: measured >= target });
  const store = (label: string, processes: number, callers: number) => stores.find((r) => r.label === label && r.processes === processes && r.callersPerProcess === callers)!;
  for (const { processes, callers, target } of CONCURRENCY) {
    atLeast(`Redis store guarded calls/s ≥ ${target}× raw INCR round trips/s (${who(processes, callers)})`, store('redis', processes, callers).callsPerIncr, target);
  }
  for (const { processes, callers } of CONCURRENCY) {
    atLeast(`rate mode (time-window) calls/s ≥ ${RATE_TARGET}× consecutive (${who(processes, callers)})`, store('redis-rate', processes, callers).perConsecutive, RATE_TARGET);
  }
  // The stored size of a time-window state at the highest rate measured (and over every rate row).
  const rate = stores.filter((r) => r.label === 'redis-rate');
  const fastest = rate.reduce((a, r) => (r.callsPerSec > a.callsPerSec ? r : a));
  const largest = Math.max(...rate.map((r) => r.maxStoredBytes ?? Infinity));
  goals.push({
    goal: `time-window stored state < ${STORED_BYTES_LIMIT} bytes at the highest rate (${fmt(fastest.callsPerSec)} calls/s, ${fastest.processes}p × ${fastest.callersPerProcess}c; largest over every rate round: ${largest})`,
    measured: fastest.storedBytes ?? -1,
    target: STORED_BYTES_LIMIT,
    met: (fastest.storedBytes ?? Infinity) < STORED_BYTES_LIMIT && largest < STORED_BYTES_LIMIT,
  });
  for (const callers of CALLERS) {
    for (const other of ['cockatiel', 'opossum']) {
      const row = policies.find((r) => r.label === other && r.callersPerProcess === callers)!;
      atLeast(`memory execute calls/s ≥ ${other}'s (${who(1, callers)})`, row.executePerThis, 1);
    }
  }
  const byDefault = openings.find((o) => o.snapshotMaxAgeMs === 'default')!;
  const off = openings.find((o) => o.snapshotMaxAgeMs === 0)!;
  // With 64 callers some calls are always in flight at the opening: off is never 0 (max only guards the division).
  const late = round(byDefault.latePermits / Math.max(1, off.latePermits), 3);
  goals.push({
    goal: `late permits at an opening, default snapshot bound ≤ ${LATE_PERMITS_TARGET}× snapshot off (${byDefault.latePermits} vs ${off.latePermits}, ${PROCESSES} processes × ${OPENING_CALLERS} callers, medians)`,
    measured: late,
    target: LATE_PERMITS_TARGET,
    met: late <= LATE_PERMITS_TARGET,
  });
  return goals;
}

/** A markdown table, its columns padded; the first column left-aligned, the others right-aligned. */
function markdown(head: string[], body: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, 3, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i === 0 ? ` ${'-'.repeat(w)} ` : ` ${'-'.repeat(w - 1)}: `)).join('|')}|`;
  return [line(head), rule, ...body.map(line)].join('\n');
}

const validity = (r: StoreRow) => (r.valid ? 'yes' : `NO (${r.fallbackEvents} fallbacks, totals ${r.totalsVerified ? 'ok' : 'off'})`);

function storeTable(rows: StoreRow[]): string {
  const head = ['store', 'procs × callers', 'calls/s', 'INCR ops/s', 'floor ops/s', 'calls/INCR', 'floor/INCR', '÷ redis', 'p50 µs', 'p99 µs', 'max µs', 'valid', 'stored B'];
  return markdown(
    head,
    rows.map((r) => [
      r.label,
      `${r.processes} × ${r.callersPerProcess}`,
      fmt(r.callsPerSec),
      fmt(r.incrOpsPerSec),
      fmt(r.floorOpsPerSec),
      r.callsPerIncr.toFixed(3),
      r.floorPerIncr.toFixed(3),
      r.label === 'redis' ? '' : r.perConsecutive.toFixed(3),
      r.p50us.toFixed(1),
      r.p99us.toFixed(1),
      r.maxUs.toFixed(0),
      validity(r),
      r.storedBytes === undefined ? '' : String(r.storedBytes),
    ]),
  );
}

function memoryTable(memory: Sample[], policies: PolicyRow[]): string {
  const head = ['scenario', 'procs × callers', 'calls/s', 'p50 µs', 'p99 µs', 'max µs', 'execute ÷ this'];
  const cells = (r: Sample, ratio: string) => [r.label, `${r.processes} × ${r.callersPerProcess}`, fmt(r.callsPerSec), r.p50us.toFixed(1), r.p99us.toFixed(1), r.maxUs.toFixed(0), ratio];
  return markdown(head, [...memory.map((r) => cells(r, '')), ...policies.map((r) => cells(r, r.executePerThis.toFixed(3)))]);
}

function openingTable(rows: OpeningRow[]): string {
  const head = ['opening (4 × 16 callers)', 'late permits', 'per round', 'failing calls', 'counted failures per round', 'valid'];
  return markdown(
    head,
    rows.map((r) => [r.label, String(r.latePermits), r.rounds.join(', '), String(r.failingCalls), r.countedFailures.join(', '), r.valid ? 'yes' : 'NO']),
  );
}

const goalLines = (goals: Goal[]) => goals.map((g) => `- ${g.met ? 'MET' : 'MISSED'}: ${g.goal}: measured ${g.measured}, target ${g.target}`).join('\n');

async function withBench<T>(body: (ctx: Ctx) => Promise<T>): Promise<{ result: T; redisVersion: string; url: string; throwaway: boolean }> {
  let own: BenchRedis | undefined;
  let url = process.env.REDIS_URL;
  if (!url) {
    own = await startBenchRedis();
    url = own.url;
  }
  const admin = new Redis(url);
  const redisVersion = /redis_version:(\S+)/.exec(await admin.info('server'))?.[1] ?? 'unknown';
  const workers = Array.from(
    { length: PROCESSES },
    () => new Worker(fork(join(__dirname, 'worker.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })),
  );
  try {
    await Promise.all(workers.map((w) => w.ready));
    process.stderr.write(`bench: redis ${redisVersion} at ${url}${own ? ' (throwaway)' : ''}; ${WARMUP_MS} ms warm-up + ${MEASURE_MS} ms per scenario; ${ROUNDS} rounds\n`);
    return { result: await body({ url, workers, admin, tag: String(Date.now()) }), redisVersion, url, throwaway: own !== undefined };
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    const keys = await admin.keys('bench:*');
    if (keys.length) await admin.del(...keys);
    await admin.quit();
    await own?.stop();
  }
}

async function main(): Promise<void> {
  benchLibrary(); // loaded, and checked against src/, before the run starts (every worker does the same)
  const started = Date.now();
  const loadAtStart = loadavg()[0];
  const { result, redisVersion } = await withBench(measureAll);
  const stores = storeRows(result.redis);
  const policies = policyRows(result.policies);
  const openings = openingRows(result.openings);
  const goals = goalsOf(stores, policies, openings);

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
    settings: { warmupMs: WARMUP_MS, measureMs: MEASURE_MS, rounds: ROUNDS, concurrency: CONCURRENCY, opening: { ...BENCH_OPENING_CONFIG, processes: PROCESSES, callersPerProcess: OPENING_CALLERS, deadlineMs: OPENING_DEADLINE_MS } },
    notes: [
      'guarded call = acquire + recordSuccess on one breaker; INCR and floor rows: one Redis round trip per operation; every rate is the sum over the processes',
      'script-floor = one EVALSHA per operation of a script that GETs the key, SETs it back with EX and returns it (1 key, 12 ARGV, as a record), no breaker code: the ceiling of any one-script-per-call design here',
      'redis-rate = the Redis store in a rate mode (time-window, 60 s in 20 buckets) recording each call with its duration; redis-snapshot-off = redis with snapshotMaxAgeMs 0 (a GET, then the record); redis-eval = redis with its script by EVALSHA instead of FCALL (as on Redis 6)',
      'ratios are medians of per-round ratios, the variants of a round measured back to back in a rotating order; a row is its median round',
      'latency = one guarded call (or one operation) as its caller sees it, p50/p99 across all processes',
      'Redis store rows use timeoutMs 5000 (they measure the Redis path, not the outage policy). valid = Redis totals (and a rate window) equal the calls made and no fallback happened',
      'late permits = at an opening, the admitted calls that failed (ended after the upstream started failing) and whose failure the store did not count (counted: false): failing calls − the failures that opened the circuit; medians over the rounds',
      'the library measured is the compiled package (dist/, tsc), as users run it; BENCH_LIBRARY=src measures the TypeScript sources under tsx',
    ],
    redis: stores,
    baselines: baselineRows(result.redis),
    memory: result.memory,
    policies,
    opening: openings,
    goals,
  };
  const json = JSON.stringify(report, null, 2);
  const text = [
    `## Redis store (guarded calls) vs raw INCR and the one-script floor\n\n${storeTable(stores)}`,
    `## Late permits at an opening\n\n${openingTable(openings)}`,
    `## Memory store and in-process policies\n\n${memoryTable(result.memory, policies)}`,
    `## Goals\n\n${goalLines(goals)}`,
  ].join('\n\n');
  console.log(json);
  console.log(`\n${text}\n`);
  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const base = join(dir, report.date.replace(/:/g, '-').replace(/\.\d+Z$/, 'Z'));
  const m = report.machine;
  writeFileSync(`${base}.json`, json + '\n');
  writeFileSync(`${base}.md`, `# Store bench ${report.date}\n\n${m.cpus} × ${m.cpuModel}, Node ${m.node}, Redis ${m.redis}, load average ${m.loadAverage.start} → ${m.loadAverage.end}; ${report.durationSeconds} s\n\n${text}\n`);
  console.log(`written to ${base}.json and .md (${report.durationSeconds} s; load average ${m.loadAverage.start} → ${m.loadAverage.end} on ${m.cpus} CPUs)`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
