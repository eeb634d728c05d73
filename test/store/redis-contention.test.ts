// Several Node processes share one breaker through Redis and hammer it at the same logical
// instants (the parent owns the simulated clock and sends `now` with every request). The store
// must behave as one breaker: no lost count, one open per outage, at most halfOpenMaxCalls
// probes per half-open period across all processes, and a dead process's probe lease expires.
import Redis from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CircuitBreaker, parseBreakerConfig, RedisBreakerStore, silentLogger, type BreakerConfigInput, type BreakerState, type Permit } from '../../src';
import type { RunSummary } from '../helpers/contention-worker';
import { redisUrl } from '../helpers/redis';
import { WorkerProcess, type Request } from '../helpers/worker-pool';

const WORKERS = 4;
const PREFIX = `contention:${process.pid}:`;
const T0 = Date.UTC(2026, 0, 1, 12);

const main: BreakerConfigInput = {
  collectorName: `hammered-${Date.now()}`,
  failureThreshold: 5,
  timeoutSeconds: 2,
  halfOpenMaxCalls: 3,
  halfOpenSuccessThreshold: 2,
};
const leased: BreakerConfigInput = {
  collectorName: `leased-${Date.now()}`,
  failureThreshold: 1,
  timeoutSeconds: 1,
  halfOpenMaxCalls: 1,
  halfOpenSuccessThreshold: 1,
};

/** A rate mode: failure rate over the last 60 s (20 buckets of 3 s), opening at 50 % once it holds 1000 calls. */
const rated: BreakerConfigInput = {
  collectorName: `rated-${Date.now()}`,
  mode: 'time-window',
  windowSize: 60,
  minimumNumberOfCalls: 1000,
  failureRateThreshold: 50,
  slowCallDurationMs: 1000,
  slowCallRateThreshold: 100,
  minFailingWorkers: 4,
};

let url: string;
let redis: Redis;
let store: RedisBreakerStore;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  url = redisUrl();
  redis = new Redis(url);
  store = new RedisBreakerStore({ redis, keyPrefix: PREFIX, timeoutMs: 5_000, logger: silentLogger });
  for (let i = 0; i < WORKERS; i++) workers.push(WorkerProcess.start());
  const pids = await Promise.all(workers.map((w) => w.request<number>({ op: 'init', url, keyPrefix: PREFIX, configs: [main, leased, rated], snapshotMaxAgeMs: SNAPSHOT_MS })));
  expect(new Set(pids).size).toBe(WORKERS);
}, 60_000);

afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  await redis?.quit();
});

/**
 * The workers decide from snapshots (SnapshotStore) younger than SNAPSHOT_MS of wall time: within
 * a phase most decisions come from them. A phase starts once every snapshot of the phase before
 * has aged out, because logical time jumps between phases while wall time does not: a worker
 * whose last reply predates another's transition would otherwise decide from it in the next one.
 */
const SNAPSHOT_MS = 50;

/** Every worker runs the same request at once; they all start together on the same `now`. */
const all = async (req: Parameters<WorkerProcess['run']>[0]): Promise<RunSummary[]> => {
  await new Promise((r) => setTimeout(r, SNAPSHOT_MS + 10));
  return Promise.all(workers.map((w) => w.run(req)));
};

const sum = (rs: RunSummary[], f: (r: RunSummary) => number) => rs.reduce((a, r) => a + f(r), 0);
const count = (rs: RunSummary[], event: string) => sum(rs, (r) => r.transitions.filter((t) => t === event).length);

function probesByEpoch(rs: RunSummary[]): Map<string, number[]> {
  const m = new Map<string, number[]>();
  for (const r of rs) for (const [epoch, ids] of Object.entries(r.probeIdsByEpoch)) m.set(epoch, [...(m.get(epoch) ?? []), ...ids]);
  return m;
}

const loadState = (cfg: BreakerConfigInput): Promise<BreakerState> => store.load(parseBreakerConfig(cfg));
const probeTime = (s: BreakerState): number => {
  if (s.state !== 'open' || s.openedAt === null) throw new Error(`expected an open circuit, got ${s.state}`);
  return s.openedAt + s.timeoutSeconds * 1000;
};

describe('Redis store under multi-process contention', () => {
  it('keeps exact totals, opens once per outage and admits at most halfOpenMaxCalls probes per half-open period', async () => {
    const observer = new CircuitBreaker(main, store);
    const recorded = { success: 0, failure: 0 };
    const tally = (rs: RunSummary[]) => {
      for (const r of rs) {
        expect(r.errors).toEqual([]);
        recorded.success += r.recorded.success;
        recorded.failure += r.recorded.failure;
      }
    };
    const OUTAGES = 3;
    let now = T0;
    let operations = 0;

    for (let outage = 0; outage < OUTAGES; outage++) {
      // Healthy traffic: everything admitted, nothing opens.
      let rs = await all({ breaker: main.collectorName, now, count: 250, concurrency: 8, outcome: 'success', leaseMs: 60_000 });
      tally(rs);
      operations += sum(rs, (r) => r.admitted + r.rejected + r.admitted);
      expect(sum(rs, (r) => r.admitted)).toBe(WORKERS * 250);
      expect((await observer.getStatus(now)).state).toBe('closed');

      // The outage: every process fails at once. The circuit opens exactly once; calls admitted
      // before it opened still reach the totals.
      now += 1_000;
      const opensBefore = (await observer.getStatus(now)).statistics.circuit_opens;
      rs = await all({ breaker: main.collectorName, now, count: 250, concurrency: 8, outcome: 'failure', leaseMs: 60_000 });
      tally(rs);
      operations += sum(rs, (r) => r.admitted + r.rejected + r.admitted);
      let status = await observer.getStatus(now);
      expect(status.state).toBe('open');
      expect(status.statistics.circuit_opens).toBe(opensBefore + 1);
      expect(count(rs, 'opened')).toBe(1);
      expect(sum(rs, (r) => r.admitted)).toBeGreaterThanOrEqual(main.failureThreshold!);
      expect(sum(rs, (r) => r.rejected)).toBeGreaterThan(0);

      // First half-open period: every process asks for probes at the same instant; exactly
      // halfOpenMaxCalls are admitted in total, with distinct slots. Then they all fail.
      now = probeTime(await loadState(main));
      rs = await all({ breaker: main.collectorName, now, count: 100, concurrency: 8, outcome: 'none', leaseMs: 60_000 });
      operations += sum(rs, (r) => r.admitted + r.rejected);
      let probes = probesByEpoch(rs);
      expect(probes.size).toBe(1);
      const [ids] = [...probes.values()];
      expect(ids).toHaveLength(main.halfOpenMaxCalls!);
      expect(new Set(ids).size).toBe(ids.length);
      expect(sum(rs, (r) => r.admitted)).toBe(main.halfOpenMaxCalls);
      expect(count(rs, 'half-opened')).toBe(1);
      expect(rs.every((r) => r.errors.length === 0)).toBe(true);
      const fails = await Promise.all(
        workers.map((w, i) =>
          Promise.all(rs[i].permits.map((permit) => w.request<{ counted: boolean }>({ op: 'record', permit, outcome: 'failure', now }))),
        ),
      );
      recorded.failure += rs.reduce((a, r) => a + r.permits.length, 0);
      operations += rs.reduce((a, r) => a + r.permits.length, 0);
      // The first failure reopens; the other probes' outcomes are late: totals only.
      expect(fails.flat().filter((r) => r.counted)).toHaveLength(1);
      status = await observer.getStatus(now);
      expect(status.state).toBe('open');
      expect(status.statistics.circuit_opens).toBe(opensBefore + 2);

      // Second half-open period (backed off): probes succeed while everyone keeps calling.
      // At most halfOpenMaxCalls probes in this period; it recovers exactly once.
      now = probeTime(await loadState(main));
      rs = await all({ breaker: main.collectorName, now, count: 100, concurrency: 8, outcome: 'success', leaseMs: 60_000 });
      tally(rs);
      operations += sum(rs, (r) => r.admitted + r.rejected + r.admitted);
      probes = probesByEpoch(rs);
      expect(probes.size).toBe(1);
      const [ids2] = [...probes.values()];
      expect(ids2.length).toBeGreaterThanOrEqual(main.halfOpenSuccessThreshold!);
      expect(ids2.length).toBeLessThanOrEqual(main.halfOpenMaxCalls!);
      expect(new Set(ids2).size).toBe(ids2.length);
      expect(count(rs, 'recovered')).toBe(1);
      expect((await observer.getStatus(now)).state).toBe('closed');
      now += 1_000;
    }

    const status = await observer.getStatus(now);
    expect(status.statistics.total_successes).toBe(recorded.success);
    expect(status.statistics.total_failures).toBe(recorded.failure);
    expect(status.statistics.circuit_opens).toBe(2 * OUTAGES);
    expect(status.statistics.failed_recoveries).toBe(OUTAGES);
    expect(status.statistics.successful_recoveries).toBe(OUTAGES);
    expect(status.timeout_seconds).toBe(main.timeoutSeconds);
    expect(operations).toBeGreaterThan(10_000);
  }, 120_000);

  it('keeps exact window counts in a rate mode and opens once, at the exact failure that crosses the rate', async () => {
    const observer = new CircuitBreaker(rated, store);
    const t0 = Math.floor(T0 / 3000) * 3000 + 100_000;
    // 1000 successes from 4 processes at once, in one bucket: none lost, nothing opens.
    let rs = await all({ breaker: rated.collectorName, now: t0, count: 250, concurrency: 8, outcome: 'success', leaseMs: 60_000, details: { durationMs: 10 } });
    expect(rs.flatMap((r) => r.errors)).toEqual([]);
    expect(await observer.getStatus(t0)).toMatchObject({ state: 'closed', window_calls: 1000, failure_rate: 0, slow_call_rate: 0 });
    // Next bucket: 400 slow failures (4 processes), still under 50 %: 400 / 1400.
    rs = await all({ breaker: rated.collectorName, now: t0 + 3000, count: 100, concurrency: 8, outcome: 'failure', leaseMs: 60_000, details: { durationMs: 2500 } });
    expect(rs.flatMap((r) => r.errors)).toEqual([]);
    let status = await observer.getStatus(t0 + 3000);
    expect(status).toMatchObject({ state: 'closed', window_calls: 1400, failure_rate: 28.571, slow_call_rate: 28.571, failing_workers: 4 });
    expect(count(rs, 'opened')).toBe(0);
    // Then every process fails at once: (400 + k) / (1400 + k) reaches 50 % at k = 600, the
    // 1000th failure: the circuit opens exactly once, there; later outcomes reach the totals only.
    rs = await all({ breaker: rated.collectorName, now: t0 + 6000, count: 250, concurrency: 8, outcome: 'failure', leaseMs: 60_000, details: { durationMs: 20 } });
    expect(rs.flatMap((r) => r.errors)).toEqual([]);
    expect(count(rs, 'opened')).toBe(1);
    status = await observer.getStatus(t0 + 6000);
    expect(status.state).toBe('open');
    expect(status.statistics.circuit_opens).toBe(1);
    const admitted = sum(rs, (r) => r.admitted);
    expect(admitted).toBeGreaterThanOrEqual(600);
    expect(status.statistics.total_failures).toBe(400 + admitted);
    expect(status.statistics.total_successes).toBe(1000);
    // The 600th failure of the phase (1000th in a row) opened it: the state it wrote says so.
    const opened = await loadState(rated);
    expect(opened.failureCount).toBe(1000);
    expect(opened).not.toHaveProperty('window');
  }, 60_000);

  it("frees a crashed process's probe slot when its lease expires", async () => {
    const observer = new CircuitBreaker(leased, store);
    const opened = await observer.acquire(T0);
    if (!opened.allowed) throw new Error('expected admission');
    await observer.recordFailure(opened.permit, T0);
    expect((await observer.getStatus(T0)).state).toBe('open');

    // A fifth process takes the only probe slot with a 5 s lease, then dies without an outcome.
    const victim = WorkerProcess.start();
    await victim.request({ op: 'init', url, keyPrefix: PREFIX, configs: [leased] } satisfies Request);
    const probeAt = probeTime(await loadState(leased));
    const taken = await victim.request<{ allowed: boolean; probe: boolean; permit: Permit }>({
      op: 'acquire',
      breaker: leased.collectorName,
      now: probeAt,
      leaseMs: 5_000,
    });
    expect(taken).toMatchObject({ allowed: true, probe: true });
    await victim.kill('SIGKILL');
    expect(victim.alive).toBe(false);

    // Before the lease runs out the slot stays taken, for every process.
    let rs = await all({ breaker: leased.collectorName, now: probeAt + 4_999, count: 5, concurrency: 2, outcome: 'none', leaseMs: 5_000 });
    expect(sum(rs, (r) => r.admitted)).toBe(0);
    expect(sum(rs, (r) => r.rejected)).toBe(WORKERS * 5);
    expect((await observer.getStatus(probeAt + 4_999)).half_open.attempts).toBe(1);

    // When it runs out, exactly one other process gets the slot, in the same half-open period.
    rs = await all({ breaker: leased.collectorName, now: probeAt + 5_000, count: 5, concurrency: 2, outcome: 'none', leaseMs: 5_000 });
    expect(sum(rs, (r) => r.admitted)).toBe(1);
    const holder = rs.findIndex((r) => r.permits.length === 1);
    const permit = rs[holder].permits[0];
    expect(permit.epoch).toBe(taken.permit.epoch);
    expect(permit.probeId).not.toBe(taken.permit.probeId);

    // Its success closes the circuit; the dead probe counted as neither success nor failure.
    const result = await workers[holder].request<{ counted: boolean; state: string }>({ op: 'record', permit, outcome: 'success', now: probeAt + 5_100 });
    expect(result).toEqual({ counted: true, state: 'closed' });
    const status = await observer.getStatus(probeAt + 5_100);
    expect(status.state).toBe('closed');
    expect(status.statistics).toMatchObject({ total_successes: 1, total_failures: 1, successful_recoveries: 1, failed_recoveries: 0 });

    // A late outcome from the dead probe's permit (say, replayed) moves nothing.
    const late = await observer.recordSuccess(taken.permit, probeAt + 6_000);
    expect(late.counted).toBe(false);
    expect((await observer.getStatus(probeAt + 6_000)).state).toBe('closed');
  }, 60_000);
});
