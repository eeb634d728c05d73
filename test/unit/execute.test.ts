// CircuitBreaker.execute, on both of its paths: a store that answers in the caller's turn (the
// memory store, called without awaiting) and any other store (awaited). The same script runs on
// each and must leave the same outcomes, errors, transitions and state.
import { describe, expect, it } from 'vitest';
import { CircuitBreaker, CircuitOpenError, MemoryBreakerStore, type BreakerStore, type Transition } from '../../src';

const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);

/** The memory store behind the plain async interface only: execute must await it. */
function awaitedOnly(inner: MemoryBreakerStore): BreakerStore {
  return {
    kind: 'awaited',
    acquire: (...a) => inner.acquire(...a),
    record: (...a) => inner.record(...a),
    command: (...a) => inner.command(...a),
    load: (...a) => inner.load(...a),
  };
}

const paths = [
  ['instant (memory store)', (m: MemoryBreakerStore): BreakerStore => m],
  ['awaited (any store)', awaitedOnly],
] as const;

class Ignored extends Error {}

function setup(wrap: (m: MemoryBreakerStore) => BreakerStore, config: Record<string, unknown> = {}, worker?: string) {
  const clock = { now: T0 };
  const memory = new MemoryBreakerStore();
  const transitions: Transition[] = [];
  const breaker = new CircuitBreaker({ collectorName: 'glassnode', ...config }, wrap(memory), {
    clock: () => clock.now,
    isFailure: (e) => !(e instanceof Ignored),
    onTransition: (t) => transitions.push(t),
    ...(worker === undefined ? {} : { worker }),
  });
  return { clock, memory, breaker, transitions };
}

describe.each(paths)('execute, %s', (_label, wrap) => {
  it('returns what fn returns, sync or async, and counts a success', async () => {
    const { breaker } = setup(wrap);
    await expect(breaker.execute(async () => 'a')).resolves.toBe('a');
    await expect(breaker.execute(() => 7)).resolves.toBe(7);
    await expect(breaker.execute(async () => undefined)).resolves.toBeUndefined();
    const status = await breaker.getStatus();
    expect(status.statistics.total_successes).toBe(3);
  });

  it('rethrows the very error fn threw (sync, async, even undefined) and counts each as a failure', async () => {
    const { breaker } = setup(wrap, { failureThreshold: 10 });
    const boom = new Error('boom');
    await expect(breaker.execute(async () => Promise.reject(boom))).rejects.toBe(boom);
    await expect(
      breaker.execute(() => {
        throw boom;
      }),
    ).rejects.toBe(boom);
    const thrown = await breaker.execute(() => Promise.reject(undefined)).then(
      () => 'resolved',
      (e: unknown) => ['rejected', e],
    );
    expect(thrown).toEqual(['rejected', undefined]);
    const status = await breaker.getStatus();
    expect(status.failure_count).toBe(3);
    expect(status.statistics.total_failures).toBe(3);
  });

  it('an error isFailure rejects is rethrown and counted as neither outcome', async () => {
    const { breaker } = setup(wrap, { failureThreshold: 1 });
    const ignored = new Ignored('not the provider');
    await expect(breaker.execute(async () => Promise.reject(ignored))).rejects.toBe(ignored);
    const status = await breaker.getStatus();
    expect(status.state).toBe('closed');
    expect(status.failure_count).toBe(0);
    expect([status.statistics.total_failures, status.statistics.total_successes]).toEqual([0, 0]);
  });

  it('opens at the threshold, then rejects without calling fn, naming the retry time', async () => {
    const { breaker, clock, transitions } = setup(wrap, { failureThreshold: 2, timeoutSeconds: 30 });
    for (let i = 0; i < 2; i++) await breaker.execute(async () => Promise.reject(new Error('down'))).catch(() => undefined);
    expect(transitions.map((t) => t.event)).toEqual(['opened']);
    clock.now += 10_000;
    let called = false;
    const error = await breaker
      .execute(async () => {
        called = true;
      })
      .catch((e: unknown) => e);
    expect(called).toBe(false);
    expect(error).toBeInstanceOf(CircuitOpenError);
    expect((error as CircuitOpenError).retryAfterMs).toBe(20_000);
    expect((error as CircuitOpenError).status.state).toBe('open');
  });

  it('records the outcome at the time fn ended, not the time it was admitted', async () => {
    const { breaker, clock } = setup(wrap, { failureThreshold: 1 });
    await breaker
      .execute(async () => {
        clock.now += 4_000;
        throw new Error('slow failure');
      })
      .catch(() => undefined);
    const status = await breaker.getStatus();
    expect(status.state).toBe('open');
    expect(Date.parse(status.last_failure_time!)).toBe(T0 + 4_000);
  });

  it('probes after the timeout and recovers, notifying each transition once', async () => {
    const { breaker, clock, transitions } = setup(wrap, { failureThreshold: 1, timeoutSeconds: 5, halfOpenSuccessThreshold: 2 });
    await breaker.execute(async () => Promise.reject(new Error('down'))).catch(() => undefined);
    clock.now += 5_000;
    await breaker.execute(async () => 'probe 1');
    await breaker.execute(async () => 'probe 2');
    expect(transitions.map((t) => t.event)).toEqual(['opened', 'half-opened', 'recovered']);
    expect((await breaker.getStatus()).state).toBe('closed');
  });

  it('a rate mode records the attempt duration (slow calls) and the worker option (the quorum)', async () => {
    const config = { mode: 'count-window' as const, windowSize: 10, minimumNumberOfCalls: 2, slowCallDurationMs: 20, slowCallRateThreshold: 100, minFailingWorkers: 2 };
    const { breaker, memory, transitions } = setup(wrap, config, 'worker-a');
    const other = new CircuitBreaker({ collectorName: 'glassnode', ...config }, wrap(memory), { worker: 'worker-b' });
    const slow = () => new Promise<string>((resolve) => setTimeout(() => resolve('late'), 40));
    await expect(breaker.execute(slow)).resolves.toBe('late');
    await expect(breaker.execute(slow)).resolves.toBe('late');
    expect((await breaker.getStatus()).state).toBe('closed'); // slow, but from one worker
    await expect(other.execute(slow)).resolves.toBe('late');
    expect((await breaker.getStatus()).state).toBe('open');
    expect((await memory.load(breaker.config)).stats.totalSuccesses).toBe(3);
    expect(transitions).toEqual([]); // the other breaker's listener, not this one's, saw the opening
  });

  it('a clock that is not a time is an error naming now, and nothing is recorded', async () => {
    const { breaker, clock } = setup(wrap);
    clock.now = Number.NaN;
    let called = false;
    await expect(
      breaker.execute(async () => {
        called = true;
      }),
    ).rejects.toThrow(/now must be a number of milliseconds/);
    expect(called).toBe(false);
  });
});

it('both paths leave the same state after the same script', async () => {
  const script = async (t: ReturnType<typeof setup>) => {
    const outcomes = ['ok', 'fail', 'ok', 'fail', 'fail', 'fail', 'ignored', 'fail', 'ok', 'ok', 'ok'];
    for (const [i, o] of outcomes.entries()) {
      t.clock.now = T0 + i * 7_000;
      await t.breaker
        .execute(async () => {
          if (o === 'fail') throw new Error('down');
          if (o === 'ignored') throw new Ignored('mine');
          return o;
        })
        .catch(() => undefined);
    }
    return { state: await t.memory.load(t.breaker.config), events: t.transitions.map((x) => [x.event, x.at]) };
  };
  const config = { failureThreshold: 3, timeoutSeconds: 10, halfOpenSuccessThreshold: 1 };
  const [a, b] = await Promise.all(paths.map(([, wrap]) => script(setup(wrap, config))));
  const { incarnation: _a, ...left } = a!.state;
  const { incarnation: _b, ...right } = b!.state;
  expect(left).toEqual(right);
  expect(a!.events).toEqual(b!.events);
  expect(a!.events.length).toBeGreaterThan(1);
});

it('on the memory store, execute takes the instant path (it never awaits acquire or record)', async () => {
  class InstantOnly extends MemoryBreakerStore {
    override acquire(): never {
      throw new Error('execute awaited acquire');
    }
    override record(): never {
      throw new Error('execute awaited record');
    }
  }
  const breaker = new CircuitBreaker({ collectorName: 'reddit', failureThreshold: 1 }, new InstantOnly());
  await expect(breaker.execute(async () => 'ok')).resolves.toBe('ok');
  await expect(breaker.execute(async () => Promise.reject(new Error('down')))).rejects.toThrow('down');
  await expect(breaker.execute(async () => 'not called')).rejects.toBeInstanceOf(CircuitOpenError);
});
