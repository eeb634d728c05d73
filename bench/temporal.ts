/**
 * Temporal-level benchmarks: the second half of `npm run bench` (alone: `npm run bench:temporal`).
 *
 * 1. Outage efficiency (time-skipping server): moralis down for 30 min of Temporal time,
 *    4 in-process workers on one task queue, collector cycles every 10 s (`skip` policy: a cycle
 *    every 10 s whatever the circuit says). Provider calls received WITH the breaker interceptor
 *    versus WITHOUT it (same workflows, Temporal's retry policy alone).
 * 2. Throughput (dev server): N one-cycle collectors against a healthy simulator on each of two
 *    worker processes running at the same time, one with the interceptor and one without.
 * 3. Short-circuit latency (dev server, local Redis): time from the activity's inbound execute to
 *    the CircuitOpenError thrown by the interceptor, measured by an outer interceptor; with the
 *    default snapshot (snapshotMaxAgeMs 1000) and with none (a Redis GET per rejection).
 *
 * Env knobs: BENCH_ONLY=outage|throughput|latency (comma list), BENCH_OUTAGE_MINUTES (30),
 * BENCH_COLLECTORS (1), BENCH_WORKERS (4), BENCH_MODES (breaker,none), BENCH_THROUGHPUT_N (300), BENCH_THROUGHPUT_ROUNDS (3),
 * BENCH_LATENCY_N (400), BENCH_LATENCY_CONC (4 collectors at a time).
 * Writes bench/results/temporal-<date>.json.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { NativeConnection, type ActivityInboundCallsInterceptor, type ActivityInterceptorsFactory, type Worker } from '@temporalio/worker';
import { CircuitBreaker } from '../src';
import type { BreakerConfig } from '../src/breaker/config';
import { startSimulator, simulatorProvidersConfig } from '../src/sim';
import { startHarness, workflowBundle, type Harness } from '../test/helpers/breaker-harness';
import { createBenchWorker, type Mode } from './bench-worker';
import type { ThroughputChildSpec } from './throughput-child';
import { startRedisServer, type RedisServer } from '../test/helpers/redis';
import { createDevServerEnv, createTimeSkippingEnv } from '../test/helpers/temporal-env';

const only = (process.env.BENCH_ONLY ?? 'outage,throughput,latency').split(',');
const OUTAGE_MINUTES = Number(process.env.BENCH_OUTAGE_MINUTES ?? 30);
const COLLECTORS = Number(process.env.BENCH_COLLECTORS ?? 1);
const THROUGHPUT_N = Number(process.env.BENCH_THROUGHPUT_N ?? 300);
const THROUGHPUT_ROUNDS = Number(process.env.BENCH_THROUGHPUT_ROUNDS ?? 3);
const LATENCY_N = Number(process.env.BENCH_LATENCY_N ?? 400);
const LATENCY_CONC = Number(process.env.BENCH_LATENCY_CONC ?? 4);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 4);


/** A worker on the harness's task queue, with the breaker interceptor or with none. */
async function makeWorker(
  h: Harness,
  env: TestWorkflowEnvironment,
  mode: Mode,
  outer?: ActivityInterceptorsFactory[],
  connection: NativeConnection = env.nativeConnection,
): Promise<Worker> {
  return createBenchWorker({ mode, config: h.config, stores: h.stores, connection, taskQueue: h.taskQueue, workflowBundle: await workflowBundle(), outer });
}

async function withWorkers<T>(workers: Worker[], fn: () => Promise<T>): Promise<T> {
  const running = workers.map((w) => w.run());
  try {
    return await fn();
  } finally {
    for (const w of workers) w.shutdown();
    await Promise.all(running);
  }
}

/** Probes the backoff schedule admits in `windowS` seconds after the circuit opened at `openedAtS`. */
function expectedProbes(openedAtS: number, windowS: number, timeoutS: number, mult: number, maxS: number): { probes: number; at: number[] } {
  const at: number[] = [];
  let t = openedAtS;
  let d = timeoutS;
  for (;;) {
    t += d;
    if (t > windowS) break;
    at.push(Math.round(t));
    d = Math.min(Math.floor(d * mult), maxS);
  }
  return { probes: at.length, at };
}

async function outage(redis: RedisServer) {
  const out: Record<Mode, { calls: number; totals: unknown; wallSeconds: number; openedAtS?: number }> = {} as never;
  let cfg: BreakerConfig | undefined;
  {
    for (const mode of (process.env.BENCH_MODES ?? 'breaker,none').split(',') as Mode[]) {
      // A fresh server per mode: the breaker workflows the interceptor signals would otherwise stay
      // behind with no worker and hold time skipping back in the next mode.
      const env = await createTimeSkippingEnv();
      const sim = await startSimulator({ port: 0 });
      const h = await startHarness(env, { sim, config: { redis: { url: redis.url, keyPrefix: `bench-${mode}-${Date.now()}:cb_state:` } } });
      cfg = h.breakers.get('moralis')!;
      await sim.control.setFaults('moralis', { outage: true });
      // One Temporal client per worker: the SDK refuses two workers on one task queue per connection.
      const connections = await Promise.all(Array.from({ length: WORKERS - 1 }, () => NativeConnection.connect({ address: env.address })));
      const workers = await Promise.all([env.nativeConnection, ...connections].map((c) => makeWorker(h, env, mode, undefined, c)));
      const wallStart = Date.now();
      const r = await withWorkers(workers, async () => {
        const handles = await Promise.all(
          Array.from({ length: COLLECTORS }, (_, i) =>
            env.client.workflow.start('onChainCollectorWorkflow', {
              taskQueue: h.taskQueue,
              workflowId: `bench-outage-${mode}-${i}-${h.taskQueue}`,
              args: [{ sources: ['moralis'], intervalSeconds: 10, policy: { moralis: 'skip' }, maxCycles: 180 }],
            }),
          ),
        );
        const t0 = Date.now();
        let openedAtS: number | undefined;
        if (mode === 'breaker') {
          // find when it opened: step a few seconds at a time at first
          const cb = new CircuitBreaker(cfg!, h.stores.breakers);
          for (let s = 0; s < 120; s += 2) {
            await env.sleep('2 seconds');
            const st = await cb.getStatus(Date.now());
            if (st.state !== 'closed') {
              openedAtS = s + 2;
              break;
            }
          }
          const elapsed = openedAtS ?? 120;
          await env.sleep(`${OUTAGE_MINUTES * 60 - elapsed} seconds`);
        } else {
          await env.sleep(`${OUTAGE_MINUTES * 60} seconds`);
        }
        void t0;
        const calls = (await sim.control.stats()).providers.moralis.calls;
        const totals = await Promise.all(handles.map((hd) => hd.query('progress').catch(() => null)));
        await Promise.all(handles.map((hd) => hd.terminate('bench done').catch(() => undefined)));
        return { calls, totals: totals.map((t) => t && { ...(t as object), recent: undefined }), openedAtS };
      });
      out[mode] = { ...r, wallSeconds: (Date.now() - wallStart) / 1000 };
      console.log(`[outage] ${mode}: ${r.calls} moralis calls in ${OUTAGE_MINUTES} min Temporal time (${out[mode].wallSeconds.toFixed(1)} s wall)`);
      await Promise.all(connections.map((c) => c.close()));
      await h.close();
      await sim.close();
      await env.teardown();
    }
  }
  const c = cfg!;
  const openedAt = out.breaker.openedAtS ?? 0;
  const exp = expectedProbes(openedAt, OUTAGE_MINUTES * 60, c.timeoutSeconds, c.backoffMultiplier, c.maxTimeoutSeconds);
  // Each collector contributes at most one probe per half-open window with the skip policy; the
  // threshold is fleet-wide (shared Redis state).
  const expected = c.failureThreshold + exp.probes;
  return {
    outageMinutes: OUTAGE_MINUTES,
    workers: WORKERS,
    collectors: COLLECTORS,
    intervalSeconds: 10,
    policy: 'skip',
    breakerConfig: c,
    withBreaker: out.breaker,
    withoutBreaker: out.none,
    ratio: out.none.calls / Math.max(1, out.breaker.calls),
    expectedWithBreaker: expected,
    expectedProbeTimesS: exp.at,
    openedAtApproxS: openedAt,
    matchesExpected: out.breaker.calls === expected,
  };
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
};

async function devServerBenches(redis: RedisServer) {
  const env = await createDevServerEnv();
  const results: Record<string, unknown> = {};
  try {
    if (only.includes('throughput')) results.throughput = await throughput(env, redis);
    if (only.includes('latency')) {
      // The default (a worker rejects from the open state it read for up to 1 s, refreshed in the
      // background) and snapshotMaxAgeMs 0 (a GET of the shared state for every rejection).
      results.shortCircuitLatency = await shortCircuitLatency(env, redis, 1000);
      results.shortCircuitLatencyUncached = await shortCircuitLatency(env, redis, 0);
    }
  } finally {
    await env.teardown();
  }
  return results;
}

/** A worker process of the throughput benchmark; resolves once its worker polls. */
function startThroughputChild(spec: ThroughputChildSpec): Promise<ChildProcess> {
  const child = fork(join(__dirname, 'throughput-child.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('message', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`throughput worker (${spec.mode}) exited with ${code} before it was ready`)));
    child.send(spec);
  });
}

/**
 * Activity throughput with and without the interceptor, measured at the same time: two worker
 * processes (one per mode, each on its own task queue) serve the same workload started
 * interleaved, so both see the same server and machine. Each round counts what each queue
 * completed until the first of the two finished all of its workflows; the ratio of those counts
 * is the round's throughput ratio, and the result is the median round.
 */
async function throughput(env: TestWorkflowEnvironment, redis: RedisServer) {
  const sim = await startSimulator({ port: 0 });
  const dir = mkdtempSync(join(tmpdir(), 'tcb-bench-'));
  const bundlePath = join(dir, 'workflows.js');
  writeFileSync(bundlePath, (await workflowBundle()).code);
  const id = randomUUID().slice(0, 8);
  const queue = (mode: Mode) => `bench-tp-${mode}-${id}`;
  const children = await Promise.all(
    (['breaker', 'none'] as Mode[]).map((mode) =>
      startThroughputChild({
        mode,
        address: env.address,
        namespace: env.namespace ?? 'default',
        taskQueue: queue(mode),
        redisUrl: redis.url,
        keyPrefix: `bench-tp-${id}:cb_state:`,
        resultKeyPrefix: `bench-tp-${id}-${mode}:result:`,
        providers: simulatorProvidersConfig(sim.url),
        bundlePath,
      }),
    ),
  );
  const rounds: { n: number; completedUntilFirstDone: Record<Mode, number>; firstDoneSeconds: number; perSec: Record<Mode, number>; ratio: number }[] = [];
  try {
    const run = async (round: number, n: number) => {
      const t0 = performance.now();
      const done: Record<Mode, number[]> = { breaker: [], none: [] };
      const handles = await Promise.all(
        Array.from({ length: n }, (_, i) => (['breaker', 'none'] as Mode[]).map((mode) => ({ mode, i }))).flat().map(({ mode, i }) =>
          env.client.workflow
            .start('onChainCollectorWorkflow', {
              taskQueue: queue(mode),
              workflowId: `bench-tp-${round}-${mode}-${i}-${id}`,
              args: [{ sources: ['moralis'], maxCycles: 1, policy: { moralis: 'skip' } }],
            })
            .then((h) => ({ h, mode })),
        ),
      );
      await Promise.all(handles.map(({ h, mode }) => h.result().then(() => done[mode].push(performance.now() - t0))));
      const cut = Math.min(Math.max(...done.breaker), Math.max(...done.none));
      const within = (m: Mode) => done[m].filter((t) => t <= cut).length;
      return { n, firstDoneSeconds: cut / 1000, completedUntilFirstDone: { breaker: within('breaker'), none: within('none') }, perSec: { breaker: within('breaker') / (cut / 1000), none: within('none') / (cut / 1000) }, ratio: within('breaker') / within('none') };
    };
    await run(-1, Math.min(50, THROUGHPUT_N)); // warm-up
    for (let r = 0; r < THROUGHPUT_ROUNDS; r++) {
      const res = await run(r, THROUGHPUT_N);
      rounds.push(res);
      console.log(`[throughput] round ${r}: until the first queue was done (${res.firstDoneSeconds.toFixed(2)} s) breaker ${res.completedUntilFirstDone.breaker}, none ${res.completedUntilFirstDone.none} of ${res.n} each: ratio ${res.ratio.toFixed(3)}`);
    }
  } finally {
    await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : (c.once('exit', r), c.disconnect())))));
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const sorted = rounds.map((r) => r.ratio).sort((a, b) => a - b);
  const sum = (m: Mode) => rounds.reduce((a, r) => a + r.completedUntilFirstDone[m], 0) / rounds.reduce((a, r) => a + r.firstDoneSeconds, 0);
  return {
    method: 'both modes at once, one worker process each, same workload interleaved; counts until the first queue is done',
    activitiesPerQueuePerRound: THROUGHPUT_N,
    rounds,
    withBreakerPerSec: sum('breaker'),
    withoutPerSec: sum('none'),
    ratio: sorted[Math.floor((sorted.length - 1) / 2)],
  };
}

async function shortCircuitLatency(env: TestWorkflowEnvironment, redis: RedisServer, snapshotMaxAgeMs: number) {
  const sim = await startSimulator({ port: 0 });
  const h = await startHarness(env, { sim, config: { redis: { url: redis.url, keyPrefix: `bench-lat-${snapshotMaxAgeMs}-${Date.now()}:cb_state:`, snapshotMaxAgeMs } } });
  const cfg = h.breakers.get('moralis')!;
  // open the circuit the ordinary way: failureThreshold recorded failures
  const cb = new CircuitBreaker(cfg, h.stores.breakers);
  for (let i = 0; i < cfg.failureThreshold; i++) {
    const d = (await cb.acquire()) as { allowed: boolean; permit?: unknown };
    if (d.allowed) await cb.recordFailure(d.permit as never);
  }
  const st = await cb.getStatus();
  if (st.state !== 'open') throw new Error(`latency bench: circuit is ${st.state}, not open`);
  const samplesUs: number[] = [];
  let others = 0;
  const timing = () => {
    const inbound: ActivityInboundCallsInterceptor = {
      async execute(input, next) {
        const t0 = process.hrtime.bigint();
        try {
          return await next(input);
        } catch (e) {
          if ((e as { type?: string }).type === 'CircuitOpenError') samplesUs.push(Number(process.hrtime.bigint() - t0) / 1000);
          else others++;
          throw e;
        }
      },
    };
    return { inbound };
  };
  const w = await makeWorker(h, env, 'breaker', [timing]);
  // waves of LATENCY_CONC concurrent collectors: the rejection path, not event-loop queueing
  await withWorkers([w], async () => {
    for (let base = 0; base < LATENCY_N; base += LATENCY_CONC) {
      const handles = await Promise.all(
        Array.from({ length: Math.min(LATENCY_CONC, LATENCY_N - base) }, (_, k) =>
          env.client.workflow.start('onChainCollectorWorkflow', {
            taskQueue: h.taskQueue,
            workflowId: `bench-lat-${snapshotMaxAgeMs}-${base + k}-${h.taskQueue}`,
            args: [{ sources: ['moralis'], maxCycles: 1, policy: { moralis: 'skip' } }],
          }),
        ),
      );
      await Promise.all(handles.map((hd) => hd.result()));
    }
  });
  const calls = (await sim.control.stats()).providers.moralis.calls;
  const warm = samplesUs.slice(Math.min(20, Math.floor(samplesUs.length / 10)));
  const result = {
    snapshotMaxAgeMs,
    concurrency: LATENCY_CONC,
    samples: warm.length,
    discardedWarmup: samplesUs.length - warm.length,
    p50us: pct(warm, 50),
    p99us: pct(warm, 99),
    maxUs: Math.max(...warm),
    nonCircuitErrors: others,
    providerCallsDuringRun: calls,
  };
  console.log(`[latency] snapshotMaxAgeMs ${snapshotMaxAgeMs}: ${warm.length} rejections: p50 ${pct(warm, 50).toFixed(0)} µs, p99 ${pct(warm, 99).toFixed(0)} µs (provider calls ${calls})`);
  await h.close();
  await sim.close();
  return result;
}

async function main() {
  const started = Date.now();
  const load0 = loadavg()[0];
  const redis = await startRedisServer();
  process.env.REDIS_URL = redis.url;
  const report: Record<string, unknown> = { date: new Date().toISOString(), machine: { cpus: cpus().length } };
  try {
    if (only.includes('outage')) report.outage = await outage(redis);
    if (only.includes('throughput') || only.includes('latency')) Object.assign(report, await devServerBenches(redis));
  } finally {
    await redis.stop();
  }
  report.durationSeconds = Math.round((Date.now() - started) / 1000);
  (report.machine as Record<string, unknown>).loadAverage = { start: load0, end: loadavg()[0] };

  const lines: string[] = ['| measure | with breaker | without | ratio / goal |', '|---|---:|---:|---|'];
  const o = report.outage as Awaited<ReturnType<typeof outage>> | undefined;
  if (o) {
    lines.push(`| provider calls, ${o.outageMinutes} min outage, ${o.workers} workers, ${o.collectors} collector(s) every 10 s | ${o.withBreaker.calls} | ${o.withoutBreaker.calls} | ${o.ratio.toFixed(1)}× fewer (goal ≥ 20×) ${o.ratio >= 20 ? 'MET' : 'MISSED'} |`);
    lines.push(`| expected with breaker (threshold ${o.breakerConfig.failureThreshold} + probes at ${o.expectedProbeTimesS.join(', ')} s) | ${o.expectedWithBreaker} | | ${o.matchesExpected ? 'exact match' : 'DIFFERS'} |`);
  }
  const t = report.throughput as { withBreakerPerSec: number; withoutPerSec: number; ratio: number; activitiesPerQueuePerRound: number; rounds: unknown[] } | undefined;
  if (t) lines.push(`| throughput, activities/s (dev server, both modes at once in two worker processes, ${t.activitiesPerQueuePerRound} each per round, median of ${t.rounds.length} rounds) | ${t.withBreakerPerSec.toFixed(1)} | ${t.withoutPerSec.toFixed(1)} | ${t.ratio.toFixed(3)} (goal ≥ 0.95) ${t.ratio >= 0.95 ? 'MET' : 'MISSED'} |`);
  const l = report.shortCircuitLatency as { p50us: number; p99us: number; samples: number } | undefined;
  if (l) lines.push(`| short-circuit latency p50 / p99 (${l.samples} rejections, local Redis, default snapshotMaxAgeMs 1000) | ${(l.p50us / 1000).toFixed(2)} ms / ${(l.p99us / 1000).toFixed(2)} ms | | p99 goal ≤ 2 ms ${l.p99us <= 2000 ? 'MET' : 'MISSED'} |`);
  const u = report.shortCircuitLatencyUncached as { p50us: number; p99us: number; samples: number } | undefined;
  if (u) lines.push(`| same, snapshotMaxAgeMs 0 (a Redis GET per rejection) | ${(u.p50us / 1000).toFixed(2)} ms / ${(u.p99us / 1000).toFixed(2)} ms | | for comparison |`);
  report.table = lines.join('\n');

  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `temporal-${(report.date as string).replace(/:/g, '-').replace(/\.\d+Z$/, 'Z')}.json`);
  writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
  console.log('\n' + lines.join('\n'));
  console.log(`\nwritten to ${file} (${report.durationSeconds} s)`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
