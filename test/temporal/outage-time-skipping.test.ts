// A provider outage end to end in the time-skipping environment: the real 300 s open period,
// skipped, never shortened. Collector workflow → interceptor → Redis → simulator.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../src';
import type { BreakerStatus } from '../../src/breaker/status';
import { startHarness, type Harness } from '../helpers/breaker-harness';
import { createTimeSkippingEnv } from '../helpers/temporal-env';

let env: TestWorkflowEnvironment;
let h: Harness;
let worker: Worker;
let running: Promise<void>;

beforeAll(async () => {
  env = await createTimeSkippingEnv();
  h = await startHarness(env);
  worker = await h.newWorker();
  running = worker.run();
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  await h?.close();
  await env?.teardown();
});

const status = (name: string): Promise<BreakerStatus> => new CircuitBreaker(h.breakers.get(name)!, h.stores.breakers).getStatus(Date.now());
const calls = async (p: 'moralis' | 'glassnode') => (await h.sim.control.stats()).providers[p].calls;

describe('a provider outage (wait policy)', () => {
  it('opens after 5 failures, sends nothing while open, then at most 3 probes, and recovers', async () => {
    await h.sim.control.setFaults('moralis', { outage: true });
    const handle = await env.client.workflow.start('onChainCollectorWorkflow', {
      taskQueue: h.taskQueue,
      workflowId: `collector-${h.taskQueue}`,
      args: [{ sources: ['moralis'], maxCycles: 1 }],
    });
    await env.sleep('40 seconds'); // retries at 1, 2, 4, 8 s: five failures
    let s = await status('moralis');
    expect(s.state).toBe('open');
    expect(s.statistics.circuit_opens).toBe(1);
    expect(await calls('moralis')).toBe(5);

    await env.sleep('200 seconds'); // still inside the 300 s open period
    expect((await status('moralis')).state).toBe('open');
    expect(await calls('moralis')).toBe(5);

    await h.sim.control.clearFaults('moralis');
    const result = await handle.result(); // time skips to the probe time
    expect(result).toMatchObject({ collected: 1, failed: 0 });
    await env.sleep('5 seconds');
    s = await status('moralis');
    const probes = (await calls('moralis')) - 5;
    expect(probes).toBeGreaterThanOrEqual(1);
    expect(probes).toBeLessThanOrEqual(3);
    console.log('probe calls', probes, s.state, s.half_open, s.statistics);
  });
});
