// The breaker interceptor in the SDK's mock activity environment (no server): admission,
// short-circuit with nextRetryDelay, error classification, and that neither a failing store
// nor a failing transition report ever fails the activity.
import { ActivityCancellationDetails, ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';
import { MemoryBreakerStore, parseBreakerConfig, type BreakerStore, type Transition } from '../../src';
import { createBreakerInterceptors, type BreakerInterceptorOptions } from '../../src/temporal/activity-interceptor';
import { isCircuitOpen } from '../../src/temporal/is-circuit-open';

// Temporal time ahead of the wall clock, as in the time-skipping server: the breaker must follow it.
const T0 = Date.now() + 10 * 86_400_000;

function setup(over: Partial<BreakerInterceptorOptions> = {}, info: Record<string, unknown> = {}, logs: { level: string; msg: string; fields?: Record<string, unknown> }[] = []) {
  const store = new MemoryBreakerStore();
  const reported: Transition[] = [];
  const cfg = parseBreakerConfig({ collectorName: 'moralis', failureThreshold: 2 });
  const interceptors = createBreakerInterceptors({
    store,
    breakers: new Map([['moralis', cfg]]),
    breakerFor: { collectMoralis: 'moralis' },
    reporter: { report: (t) => reported.push(t) },
    logger: recording(logs),
    ...over,
  });
  let scheduled = T0;
  const env = (activityType = 'collectMoralis', extra: Record<string, unknown> = {}) =>
    new MockActivityEnvironment(
      { activityType, currentAttemptScheduledTimestampMs: scheduled, scheduledTimestampMs: scheduled, scheduleToCloseTimeoutMs: 0, startToCloseTimeoutMs: 30_000, ...info, ...extra },
      { interceptors: interceptors.activity },
    );
  const run = <T>(fn: () => Promise<T>, activityType = 'collectMoralis', extra: Record<string, unknown> = {}) => env(activityType, extra).run(fn);
  const advance = (ms: number) => (scheduled += ms);
  const fail = () => run(async () => {
    throw new Error('upstream 503');
  });
  return { store, cfg, reported, run, env, advance, fail, logs };
}

function recording(logs: { level: string; msg: string; fields?: Record<string, unknown> }[]) {
  const at = (level: string) => (msg: string, fields?: Record<string, unknown>) => logs.push({ level, msg, fields });
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

async function openCircuit(t: ReturnType<typeof setup>) {
  await expect(t.fail()).rejects.toThrow();
  await expect(t.fail()).rejects.toThrow();
  expect((await t.store.load(t.cfg)).state).toBe('open');
}

describe('breaker activity interceptor', () => {
  it('runs unmapped activities untouched', async () => {
    const t = setup();
    await expect(t.run(async () => 'ok', 'somethingElse')).resolves.toBe('ok');
    expect((await t.store.load(t.cfg)).stats.totalSuccesses).toBe(0);
  });

  it('records outcomes, opens, and short-circuits with nextRetryDelay = time to the probe', async () => {
    const t = setup();
    await expect(t.run(async () => 'ok')).resolves.toBe('ok');
    await expect(t.fail()).rejects.toThrow('upstream 503');
    await expect(t.fail()).rejects.toThrow('upstream 503');
    expect(t.reported.map((r) => r.event)).toEqual(['opened']);
    t.advance(120_000);
    let ran = false;
    const err = await t.run(async () => (ran = true)).catch((e: unknown) => e);
    expect(ran).toBe(false);
    expect(isCircuitOpen(err)).toBe(true);
    const failure = err as ApplicationFailure;
    expect(failure.type).toBe('CircuitOpenError');
    expect(failure.nonRetryable).toBe(false);
    expect(failure.nextRetryDelay).toBeGreaterThan(179_000);
    expect(failure.nextRetryDelay).toBeLessThanOrEqual(181_000); // give or take the wall time the calls took
    expect((failure.details?.[0] as { state: string; collector_name: string })).toMatchObject({ state: 'open', collector_name: 'moralis' });
  });

  it('uses Temporal time: an attempt scheduled after the open period is admitted as a probe', async () => {
    const t = setup();
    await expect(t.fail()).rejects.toThrow();
    await expect(t.fail()).rejects.toThrow();
    t.advance(299_000);
    await expect(t.run(async () => 'too early')).rejects.toThrow('is open');
    t.advance(2_000);
    await expect(t.run(async () => 'probe')).resolves.toBe('probe');
    expect(t.reported.map((r) => r.event)).toEqual(['opened', 'half-opened']);
    expect((await t.store.load(t.cfg)).halfOpen.successes).toBe(1);
  });

  it('a forced-open circuit retries after the configured recheck interval', async () => {
    const t = setup({ forcedOpenRecheckMs: 45_000 });
    await t.store.command(t.cfg, 'forceOpen', T0);
    const err = (await t.run(async () => 1).catch((e: unknown) => e)) as ApplicationFailure;
    expect(err.nextRetryDelay).toBe(45_000);
    expect(err.message).toContain('forced open');
  });

  it('does not count non-retryable application failures (the caller’s own fault) by default', async () => {
    const t = setup();
    for (let i = 0; i < 5; i++) {
      await expect(t.run(async () => {
        throw ApplicationFailure.nonRetryable('401 bad key', 'UpstreamClientError');
      })).rejects.toThrow('401');
    }
    const s = await t.store.load(t.cfg);
    expect(s.state).toBe('closed');
    expect(s.stats.totalFailures).toBe(0);
  });

  it('lets the user classify errors', async () => {
    const t = setup({ classifyError: (e) => ((e as Error).message.includes('quota') ? 'ignored' : 'failure') });
    for (let i = 0; i < 3; i++) await expect(t.run(async () => { throw new Error('quota exceeded'); })).rejects.toThrow();
    expect((await t.store.load(t.cfg)).state).toBe('closed');
    await expect(t.fail()).rejects.toThrow();
    await expect(t.fail()).rejects.toThrow();
    expect((await t.store.load(t.cfg)).state).toBe('open');
  });

  it('does not count a result that made no upstream call, and such a probe frees its slot', async () => {
    const t = setup();
    const cached = { upstreamCalled: false, items: 3 };
    await expect(t.run(async () => cached)).resolves.toBe(cached);
    expect((await t.store.load(t.cfg)).stats.totalSuccesses).toBe(0);
    await expect(t.fail()).rejects.toThrow();
    await expect(t.fail()).rejects.toThrow();
    t.advance(301_000);
    await t.run(async () => cached); // admitted as a probe, proves nothing
    const s = await t.store.load(t.cfg);
    expect(s.state).toBe('half-open');
    expect(s.halfOpen).toMatchObject({ attempts: 0, successes: 0, leases: {} });
    expect(s.stats).toMatchObject({ totalSuccesses: 0, totalFailures: 2 });
    await t.run(async () => ({ upstreamCalled: true }));
    expect((await t.store.load(t.cfg)).stats.totalSuccesses).toBe(1);
    const custom = setup({ classifyResult: (r) => (r === 'from-cache' ? 'ignored' : 'success') });
    await custom.run(async () => 'from-cache');
    await custom.run(async () => ({ upstreamCalled: false })); // the default no longer applies
    expect((await custom.store.load(custom.cfg)).stats.totalSuccesses).toBe(1);
  });

  it('runs the activity when the store fails, and a failing reporter fails nothing', async () => {
    const broken: BreakerStore = {
      kind: 'broken',
      acquire: async () => { throw new Error('store exploded'); },
      record: async () => { throw new Error('store exploded'); },
      command: async () => { throw new Error('store exploded'); },
      load: async () => { throw new Error('store exploded'); },
    };
    await expect(setup({ store: broken }).run(async () => 'still ran')).resolves.toBe('still ran');
    const t = setup({ reporter: { report: () => { throw new Error('reporter down'); } } });
    // the reporter contract is fire-and-forget; a throwing one must still not fail the call
    await expect(t.fail()).rejects.toThrow('upstream 503');
    await expect(t.fail()).rejects.toThrow('upstream 503');
    expect((await t.store.load(t.cfg)).state).toBe('open');
  });

  it('leases a probe for the activity’s start-to-close timeout', async () => {
    const t = setup({}, { startToCloseTimeoutMs: 7_000 });
    await expect(t.fail()).rejects.toThrow();
    await expect(t.fail()).rejects.toThrow();
    t.advance(301_000);
    let leaseSeen: Record<string, number> = {};
    await t.run(async () => {
      leaseSeen = (await t.store.load(t.cfg)).halfOpen.leases;
    });
    const [lease] = Object.values(leaseSeen);
    expect(lease - (T0 + 301_000 + 7_000)).toBeGreaterThanOrEqual(0);
    expect(lease - (T0 + 301_000 + 7_000)).toBeLessThan(1_000);
  });

  it('rejects with a BENIGN failure: no error log line, no failed-activity metric in the SDK', async () => {
    const t = setup();
    await openCircuit(t);
    const err = (await t.run(async () => 1).catch((e: unknown) => e)) as ApplicationFailure;
    expect(err.type).toBe('CircuitOpenError');
    expect(err.category).toBe(ApplicationFailureCategory.BENIGN);
  });

  it('a paused, reset or cancelled activity and a worker shutdown never count as upstream failures', async () => {
    for (const details of [{ paused: true }, { reset: true }, { cancelRequested: true }, { workerShutdown: true }]) {
      const t = setup();
      const env = t.env();
      const running = env.run(async () => {
        env.cancel(details.workerShutdown ? 'WORKER_SHUTDOWN' : 'CANCELLED', new ActivityCancellationDetails(details));
        // An activity that reacts to its cancellation by throwing some error of its own:
        throw new Error(`upstream call aborted (${Object.keys(details)[0]})`);
      });
      await expect(running).rejects.toThrow('aborted');
      const s = await t.store.load(t.cfg);
      expect(s.stats, JSON.stringify(details)).toMatchObject({ totalFailures: 0, totalSuccesses: 0 });
    }
    // A heartbeat timeout is the upstream's slowness: it counts.
    const plain = setup();
    const env2 = plain.env();
    await expect(env2.run(async () => {
      env2.cancel('TIMED_OUT', new ActivityCancellationDetails({ timedOut: true }));
      throw new Error('read timed out');
    })).rejects.toThrow();
    expect((await plain.store.load(plain.cfg)).stats.totalFailures).toBe(1);
  });

  it('never sets a nextRetryDelay past the schedule-to-close deadline, and says so in one line', async () => {
    const logs: { level: string; msg: string; fields?: Record<string, unknown> }[] = [];
    const t = setup({ logger: recording(logs) });
    await openCircuit(t);
    // Scheduled now, 100 s of schedule-to-close: the 300 s open period cannot fit.
    const err = (await t.run(async () => 1, 'collectMoralis', { scheduleToCloseTimeoutMs: 100_000 }).catch((e: unknown) => e)) as ApplicationFailure;
    expect(err.type).toBe('CircuitOpenError');
    expect(err.nextRetryDelay).toBeGreaterThan(98_000);
    expect(err.nextRetryDelay).toBeLessThanOrEqual(100_000);
    const warned = logs.filter((l) => l.level === 'warn');
    expect(warned).toHaveLength(1);
    expect(warned[0].msg).toMatch(/does not fit the activity's schedule-to-close/);
    expect(warned[0].fields).toMatchObject({ breaker: 'moralis', activityType: 'collectMoralis' });
    // With room enough, the delay is the time to the probe and nothing is logged.
    logs.length = 0;
    const ok = (await t.run(async () => 1, 'collectMoralis', { scheduleToCloseTimeoutMs: 3_600_000 }).catch((e: unknown) => e)) as ApplicationFailure;
    expect(ok.nextRetryDelay).toBeGreaterThan(290_000);
    expect(logs.filter((l) => l.level === 'warn')).toEqual([]);
  });

  it('a rejection at the open period\'s end still waits at least 1 ms', async () => {
    const t = setup();
    await openCircuit(t);
    const err = (await t.run(async () => 1, 'collectMoralis', { scheduleToCloseTimeoutMs: 1, scheduledTimestampMs: T0 - 60_000 }).catch((e: unknown) => e)) as ApplicationFailure;
    expect(err.nextRetryDelay).toBe(1);
  });

  it('maps activities by own property only: `constructor` or `toString` is no activity of a breaker', async () => {
    const t = setup();
    for (const type of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      await expect(t.run(async () => 'untouched', type)).resolves.toBe('untouched');
    }
    expect((await t.store.load(t.cfg)).stats.totalSuccesses).toBe(0);
    expect(() => setup({ breakerFor: { collectMoralis: 'nope' } })).toThrow("unknown breaker 'nope': activity 'collectMoralis' is mapped to it (configured: moralis)");
  });

  it('takes plain-object settings with the seed\'s defaults, and names a bad field', async () => {
    const t = setup({ breakers: { moralis: { failureThreshold: 2 } } });
    await openCircuit(t);
    expect(() => setup({ breakers: { moralis: { failureThreshold: 0 } } })).toThrow(/invalid breaker config for 'moralis': failureThreshold/);
  });
});
