// The worker's Prometheus endpoint end to end: a real `temporal-breaker worker` process on a dev
// server, Redis and the simulator; a provider outage opens the circuit, calls are rejected, the
// provider recovers and the circuit closes. At each stable point the scraped numbers must equal
// the breaker's shared status.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type Redis from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CircuitBreaker, RedisBreakerStore } from '../../src';
import type { BreakerStatus } from '../../src/breaker/status';
import { breakerConfigs } from '../../src/config/breakers';
import { ENV_VARS } from '../../src/config/env';
import { loadConfig } from '../../src/config/load';
import { simulatorProvidersConfig, startSimulator, type Simulator } from '../../src/sim';
import { BREAKER_METRICS, STATE_VALUE } from '../../src/temporal/metrics';
import { repoRoot } from '../helpers/paths';
import { freePort, newRedis, redisUrl } from '../helpers/redis';
import { createDevServerEnv } from '../helpers/temporal-env';

const BREAKER = 'moralis';
const FAILURE_THRESHOLD = 3;
const TIMEOUT_SECONDS = 10;

let env: TestWorkflowEnvironment;
let sim: Simulator;
let redis: Redis;
let worker: ChildProcess | undefined;
let workerOutput = '';
let metricsUrl: string;
let workerEnv: Record<string, string>;
let breaker: CircuitBreaker;

/** The worker's environment: ours only, none of the developer's configuration variables. */
function childEnv(vars: Record<string, string>): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  for (const v of ENV_VARS) delete out[v.name];
  return { ...out, ...vars };
}

function waitForLine(pattern: RegExp, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      if (pattern.test(workerOutput)) done(resolve);
      else if (worker && (worker.exitCode !== null || worker.signalCode !== null)) done(() => reject(new Error(`worker exited (${worker?.exitCode ?? worker?.signalCode}):\n${workerOutput}`)));
    }, 100);
    const deadline = setTimeout(() => done(() => reject(new Error(`worker not ready within ${timeoutMs} ms:\n${workerOutput}`))), timeoutMs);
    const done = (f: () => void) => {
      clearInterval(timer);
      clearTimeout(deadline);
      f();
    };
  });
}

beforeAll(async () => {
  env = await createDevServerEnv();
  sim = await startSimulator({ port: 0 });
  redis = newRedis();
  const id = randomUUID().slice(0, 8);
  const port = await freePort();
  metricsUrl = `http://127.0.0.1:${port}/metrics`;
  workerEnv = {
    TEMPORAL_ADDRESS: env.address,
    TEMPORAL_NAMESPACE: env.namespace ?? 'default',
    TEMPORAL_TASK_QUEUE: `metrics-${id}`,
    REDIS_URL: redisUrl(),
    REDIS_KEY_PREFIX: `test-metrics-${id}:cb_state:`,
    REDIS_TIMEOUT_MS: '2000',
    METRICS_PROMETHEUS_ADDRESS: `127.0.0.1:${port}`,
    BREAKERS: BREAKER,
    BREAKER_FAILURE_THRESHOLD: String(FAILURE_THRESHOLD),
    BREAKER_TIMEOUT_SECONDS: String(TIMEOUT_SECONDS),
    ...Object.fromEntries(
      Object.entries(simulatorProvidersConfig(sim.url)).flatMap(([p, e]) => [
        [`${p.toUpperCase()}_BASE_URL`, e.baseUrl],
        [`${p.toUpperCase()}_API_KEY`, e.apiKey],
      ]),
    ),
  };
  const config = loadConfig(workerEnv);
  breaker = new CircuitBreaker(
    breakerConfigs(config).get(BREAKER)!,
    new RedisBreakerStore({ redis, keyPrefix: config.redis.keyPrefix, timeoutMs: 2000, onUnavailable: 'reject' }),
  );

  worker = spawn(process.execPath, [join(repoRoot, 'bin/temporal-breaker.js'), 'worker'], {
    cwd: repoRoot,
    env: childEnv(workerEnv),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  worker.stdout!.on('data', (c: Buffer) => (workerOutput += c.toString()));
  worker.stderr!.on('data', (c: Buffer) => (workerOutput += c.toString()));
  await waitForLine(/"msg":"worker running"/, 90_000);
}, 150_000);

afterAll(async () => {
  const child = worker;
  if (child && child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(kill);
  }
  if (child?.pid) expect(() => process.kill(child.pid!, 0)).toThrow(); // no process left
  redis?.disconnect();
  await sim?.close();
  await env?.teardown();
}, 60_000);

type Sample = { name: string; labels: Record<string, string>; value: number };

/** Prometheus text exposition → samples. */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return samples;
}

interface Scrape {
  samples: Sample[];
  /** Sum over every series of the metric for our breaker (counters are split by activity type). */
  sum(metric: keyof typeof BREAKER_METRICS): number;
  series(metric: keyof typeof BREAKER_METRICS): Sample[];
}

async function scrape(): Promise<Scrape> {
  const res = await fetch(metricsUrl, { signal: AbortSignal.timeout(5_000) });
  expect(res.status).toBe(200);
  const samples = parseExposition(await res.text());
  const series = (metric: keyof typeof BREAKER_METRICS) => samples.filter((s) => s.name === BREAKER_METRICS[metric].name && s.labels.breaker === BREAKER);
  return { samples, series, sum: (metric) => series(metric).reduce((a, s) => a + s.value, 0) };
}

const countsOf = (s: BreakerStatus) => ({ state: s.state, ...s.statistics, time_in_open_state: undefined, last_open_time: undefined });

/**
 * Status and metrics read at one stable point: the status is read before and after the scrape
 * and must not have changed in between; retried until `ready` holds for both or the deadline.
 */
async function stablePoint(ready: (status: BreakerStatus, m: Scrape) => boolean, timeoutMs: number): Promise<{ status: BreakerStatus; m: Scrape }> {
  const deadline = Date.now() + timeoutMs;
  let last: { status: BreakerStatus; m: Scrape } | undefined;
  for (;;) {
    const before = await breaker.getStatus();
    const m = await scrape();
    const after = await breaker.getStatus();
    last = { status: after, m };
    // A counter is incremented just after the store answers: allow it that moment to catch up.
    if (JSON.stringify(countsOf(before)) === JSON.stringify(countsOf(after)) && ready(after, m) && countersMatch(after, m)) return last;
    if (Date.now() > deadline) return last; // the assertions that follow say what is wrong
    await new Promise((r) => setTimeout(r, 250));
  }
}

const countersMatch = (s: BreakerStatus, m: Scrape): boolean =>
  m.sum('failures') === s.statistics.total_failures && m.sum('successes') === s.statistics.total_successes && m.sum('opens') === s.statistics.circuit_opens;

function summary(label: string, p: { status: BreakerStatus; m: Scrape }) {
  const metrics = Object.fromEntries((Object.keys(BREAKER_METRICS) as (keyof typeof BREAKER_METRICS)[]).map((k) => [k, p.m.sum(k)]));
  console.info(`[metrics] ${label}: status ${p.status.state} ${JSON.stringify(p.status.statistics)}; scraped ${JSON.stringify(metrics)}`);
}

function expectMetricsMatch(status: BreakerStatus, m: Scrape) {
  expect({
    failures: m.sum('failures'),
    successes: m.sum('successes'),
    opens: m.sum('opens'),
  }).toEqual({
    failures: status.statistics.total_failures,
    successes: status.statistics.total_successes,
    opens: status.statistics.circuit_opens,
  });
  // One state series per breaker and worker: the gauge carries no activity type.
  const gauge = m.series('state');
  expect(gauge).toHaveLength(1);
  expect(gauge[0].labels.activityType).toBeUndefined();
  expect(gauge[0].value).toBe(STATE_VALUE[status.state]);
}

describe('worker metrics on the Prometheus endpoint', () => {
  it('match the breaker status through an outage and a recovery', async () => {
    const start = (suffix: string) =>
      env.client.workflow.start('onChainCollectorWorkflow', {
        taskQueue: workerEnv.TEMPORAL_TASK_QUEUE,
        workflowId: `metrics-collector-${suffix}-${randomUUID().slice(0, 8)}`,
        args: [{ sources: [BREAKER], maxCycles: 1 }],
      });

    // A healthy call first: one success.
    expect(await (await start('healthy')).result()).toMatchObject({ collected: 1 });

    // Outage: three failures open the circuit, the next retry is rejected.
    await sim.control.setFaults(BREAKER, { outage: true });
    const outage = await start('outage');
    const open = await stablePoint((s, m) => s.state === 'open' && m.sum('rejections') > 0 && m.series('state')[0]?.value === STATE_VALUE.open, 40_000);
    summary('open', open);
    expect(open.status.state).toBe('open');
    expect(open.status.statistics.total_failures).toBeGreaterThanOrEqual(FAILURE_THRESHOLD);
    expect(open.status.statistics.total_successes).toBe(1);
    expect(open.m.sum('rejections')).toBeGreaterThan(0);
    expect(open.m.series('state')[0]?.value).toBe(2);
    expectMetricsMatch(open.status, open.m);
    // The endpoint is the SDK's exporter: its own metrics (prefixed temporal_) are there too, ours unprefixed.
    expect(open.m.samples.some((s) => s.name.startsWith('temporal_'))).toBe(true);
    // The counters carry the labels the SDK's activity meter adds.
    expect(open.m.series('failures')[0].labels).toMatchObject({ breaker: BREAKER, activityType: 'collectMoralis', taskQueue: workerEnv.TEMPORAL_TASK_QUEUE, namespace: 'default' });

    // Recovery: the probes succeed and the circuit closes.
    await sim.control.clearFaults(BREAKER);
    expect(await outage.result()).toMatchObject({ collected: 1 });
    // More traffic: when the collector's retry took the first probe, the next call is the second.
    expect(await (await start('after')).result()).toMatchObject({ collected: 1 });
    const closed = await stablePoint((s, m) => s.state === 'closed' && m.series('state')[0]?.value === STATE_VALUE.closed, 40_000);
    summary('closed', closed);
    expect(closed.status.state).toBe('closed');
    expect(closed.status.statistics.successful_recoveries).toBeGreaterThanOrEqual(1);
    expectMetricsMatch(closed.status, closed.m);
    // Each recovery took at least `halfOpenSuccessThreshold` successful probes, each failed one a failed probe.
    const { successful_recoveries, failed_recoveries } = closed.status.statistics;
    expect(closed.m.sum('probes')).toBeGreaterThanOrEqual(successful_recoveries * closed.status.half_open.success_threshold + failed_recoveries);
    expect(closed.m.sum('rejections')).toBeGreaterThanOrEqual(open.m.sum('rejections'));
  }, 120_000);
});
