/**
 * Temporal-level benchmarks: the second half of `npm run bench` (alone: `npm run bench:temporal`).
 *
 * 1. Outage efficiency (time-skipping server): moralis down for 30 min of Temporal time,
 *    4 in-process workers on one task queue, collector cycles every 10 s (`skip` policy: a cycle
 *    every 10 s whatever the circuit says). Provider calls received WITH the breaker interceptor
 *    versus WITHOUT it (same workflows, Temporal's retry policy alone).
 * 2. Throughput (dev server): N one-cycle collectors against a healthy simulator, with and
 *    without the interceptor, alternating rounds.
 * 3. Short-circuit latency (dev server, local Redis): time from the activity's inbound execute to
 *    the CircuitOpenError thrown by the interceptor, measured by an outer interceptor; with the
 *    default open-state cache (openCacheMs 1000) and with none (a Redis GET per rejection).
 *
 * Env knobs: BENCH_ONLY=outage|throughput|latency (comma list), BENCH_OUTAGE_MINUTES (30),
 * BENCH_COLLECTORS (1), BENCH_WORKERS (4), BENCH_MODES (breaker,none), BENCH_THROUGHPUT_N (300), BENCH_THROUGHPUT_PAIRS (3),
 * BENCH_LATENCY_N (400), BENCH_LATENCY_CONC (4 collectors at a time).
 * Writes bench/results/temporal-<date>.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { NativeConnection, Worker, type ActivityInboundCallsInterceptor } from '@temporalio/worker';
import { CircuitBreaker } from '../src';
import type { BreakerConfig } from '../src/breaker/config';
import { createActivities } from '../src/app/activities';
import { startSimulator } from '../src/sim';
import { createBreakerInterceptors } from '../src/temporal/activity-interceptor';
import { silentLogger } from '../src/log/logger';
import { startHarness, workflowBundle, type Harness } from '../test/helpers/breaker-harness';
import { startRedisServer, type RedisServer } from '../test/helpers/redis';
import { createDevServerEnv, createTimeSkippingEnv } from '../test/helpers/temporal-env';

const only = (process.env.BENCH_ONLY ?? 'outage,throughput,latency').split(',');
const OUTAGE_MINUTES = Number(process.env.BENCH_OUTAGE_MINUTES ?? 30);
const COLLECTORS = Number(process.env.BENCH_COLLECTORS ?? 1);
const THROUGHPUT_N = Number(process.env.BENCH_THROUGHPUT_N ?? 300);
const THROUGHPUT_PAIRS = Number(process.env.BENCH_THROUGHPUT_PAIRS ?? 3);
const LATENCY_N = Number(process.env.BENCH_LATENCY_N ?? 400);
const LATENCY_CONC = Number(process.env.BENCH_LATENCY_CONC ?? 4);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 4);

type Mode = 'breaker' | 'none';

/** A worker on the harness's task queue, with the breaker interceptor or with none. */
async function makeWorker(
  h: Harness,
  env: TestWorkflowEnvironment,
  mode: Mode,
  extra?: ReturnType<typeof createBreakerInterceptors>['activity'],
  connection: NativeConnection = env.nativeConnection,
): Promise<Worker> {
  const interceptors =
    mode === 'breaker'
      ? createBreakerInterceptors({
          store: h.stores.breakers,
          breakers: h.breakers,
          breakerFor: h.config.activities,
          forcedOpenRecheckMs: h.config.interceptor.forcedOpenRecheckSeconds * 1000,
          halfOpenRecheckMs: h.config.interceptor.halfOpenRecheckSeconds * 1000,
          defaultProbeLeaseMs: h.config.interceptor.defaultProbeLeaseSeconds * 1000,
          logger: silentLogger,
        })
      : undefined;
  return Worker.create({
    connection,
    namespace: h.config.temporal.namespace,
    taskQueue: h.taskQueue,
    activities: createActivities(h.config, h.stores.breakers, h.stores.results, h.breakers),
    workflowBundle: await workflowBundle(),
    ...(interceptors ? { interceptors: { activity: [...(extra ?? []), ...interceptors.activity] } } : {}),
  });
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
    if (only.includes('throughput')) {
      const sim = await startSimulator({ port: 0 });
      const rounds: { mode: Mode; activities: number; seconds: number; perSec: number; collected: number }[] = [];
      const run = async (mode: Mode, n: number, record: boolean) => {
        const h = await startHarness(env, { sim, config: { redis: { url: redis.url, keyPrefix: `bench-tp-${mode}-${Date.now()}:cb_state:` } } });
        const w = await makeWorker(h, env, mode);
        await withWorkers([w], async () => {
          const t0 = process.hrtime.bigint();
          const handles = await Promise.all(
            Array.from({ length: n }, (_, i) =>
              env.client.workflow.start('onChainCollectorWorkflow', {
                taskQueue: h.taskQueue,
                workflowId: `bench-tp-${mode}-${i}-${h.taskQueue}`,
                args: [{ sources: ['moralis'], maxCycles: 1, policy: { moralis: 'skip' } }],
              }),
            ),
          );
          const totals = (await Promise.all(handles.map((hd) => hd.result()))) as { collected: number }[];
          const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
          const collected = totals.reduce((a, t) => a + t.collected, 0);
          if (record) rounds.push({ mode, activities: n, seconds, perSec: n / seconds, collected });
          console.log(`[throughput] ${mode}${record ? '' : ' (warm-up)'}: ${n} activities in ${seconds.toFixed(2)} s = ${(n / seconds).toFixed(1)}/s, collected ${collected}`);
        });
        await h.close();
      };
      await run('none', Math.min(50, THROUGHPUT_N), false);
      await run('breaker', Math.min(50, THROUGHPUT_N), false);
      // Pairs of rounds back to back, alternating which goes first: the machine's drift moves both
      // sides of a pair; the ratio is the median of the pairs' ratios.
      const pairRatios: number[] = [];
      for (let pair = 0; pair < THROUGHPUT_PAIRS; pair++) {
        const order: Mode[] = pair % 2 === 0 ? ['breaker', 'none'] : ['none', 'breaker'];
        for (const m of order) await run(m, THROUGHPUT_N, true);
        const [a, b] = rounds.slice(-2);
        pairRatios.push((a.mode === 'breaker' ? a.perSec / b.perSec : b.perSec / a.perSec));
      }
      const mean = (m: Mode) => {
        const rs = rounds.filter((r) => r.mode === m);
        return rs.reduce((a, r) => a + r.activities, 0) / rs.reduce((a, r) => a + r.seconds, 0);
      };
      const withB = mean('breaker');
      const without = mean('none');
      const sorted = [...pairRatios].sort((x, y) => x - y);
      results.throughput = {
        activitiesPerRound: THROUGHPUT_N,
        pairs: THROUGHPUT_PAIRS,
        rounds,
        pairRatios,
        withBreakerPerSec: withB,
        withoutPerSec: without,
        ratio: sorted[Math.floor((sorted.length - 1) / 2)],
      };
      await sim.close();
    }
    if (only.includes('latency')) {
      // The default (a worker rejects from the open state it read for up to 1 s, refreshed in the
      // background) and openCacheMs 0 (a GET of the shared state for every rejection).
      results.shortCircuitLatency = await shortCircuitLatency(env, redis, 1000);
      results.shortCircuitLatencyUncached = await shortCircuitLatency(env, redis, 0);
    }
  } finally {
    await env.teardown();
  }
  return results;
}

async function shortCircuitLatency(env: TestWorkflowEnvironment, redis: RedisServer, openCacheMs: number) {
  const sim = await startSimulator({ port: 0 });
  const h = await startHarness(env, { sim, config: { redis: { url: redis.url, keyPrefix: `bench-lat-${openCacheMs}-${Date.now()}:cb_state:`, openCacheMs } } });
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
            workflowId: `bench-lat-${openCacheMs}-${base + k}-${h.taskQueue}`,
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
    openCacheMs,
    concurrency: LATENCY_CONC,
    samples: warm.length,
    discardedWarmup: samplesUs.length - warm.length,
    p50us: pct(warm, 50),
    p99us: pct(warm, 99),
    maxUs: Math.max(...warm),
    nonCircuitErrors: others,
    providerCallsDuringRun: calls,
  };
  console.log(`[latency] openCacheMs ${openCacheMs}: ${warm.length} rejections: p50 ${pct(warm, 50).toFixed(0)} µs, p99 ${pct(warm, 99).toFixed(0)} µs (provider calls ${calls})`);
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
  const t = report.throughput as { withBreakerPerSec: number; withoutPerSec: number; ratio: number; activitiesPerRound: number; pairs: number } | undefined;
  if (t) lines.push(`| throughput, activities/s (dev server, ${t.activitiesPerRound}/round, ${t.pairs} pairs of rounds; ratio = median pair) | ${t.withBreakerPerSec.toFixed(1)} | ${t.withoutPerSec.toFixed(1)} | ${t.ratio.toFixed(3)} (goal ≥ 0.95) ${t.ratio >= 0.95 ? 'MET' : 'MISSED'} |`);
  const l = report.shortCircuitLatency as { p50us: number; p99us: number; samples: number } | undefined;
  if (l) lines.push(`| short-circuit latency p50 / p99 (${l.samples} rejections, local Redis, default openCacheMs 1000) | ${(l.p50us / 1000).toFixed(2)} ms / ${(l.p99us / 1000).toFixed(2)} ms | | p99 goal ≤ 2 ms ${l.p99us <= 2000 ? 'MET' : 'MISSED'} |`);
  const u = report.shortCircuitLatencyUncached as { p50us: number; p99us: number; samples: number } | undefined;
  if (u) lines.push(`| same, openCacheMs 0 (a Redis GET per rejection) | ${(u.p50us / 1000).toFixed(2)} ms / ${(u.p99us / 1000).toFixed(2)} ms | | for comparison |`);
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
