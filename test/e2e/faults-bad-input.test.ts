// The bad-input matrix: every invalid input gets a clear error that names the problem, and the
// test checks the message. Invalid breaker config fields (parseBreakerConfig and the worker's
// environment), malformed signal payloads to `circuit-breaker:moralis` (the audit query names the
// problem), an unknown command in the `command` update, corrupt and wrong-type values at a breaker's
// Redis key (the worker's log names the breaker and the reason), an unknown breaker name and an
// unreachable Temporal server at the CLI (one line), and an unreachable Redis (the store degrades
// to its in-process breaker, activities still succeed).
import { randomUUID } from 'node:crypto';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import Redis from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBreakerConfig } from '../../src/breaker/config';
import type { BreakerStatus } from '../../src/breaker/status';
import { loadConfig } from '../../src/config/load';
import { jsonLogger } from '../../src/log/logger';
import { MemoryResultStore } from '../../src/results';
import { startSimulator, simulatorProvidersConfig, type Simulator } from '../../src/sim';
import { RedisBreakerStore } from '../../src/store/redis-store';
import { breakerWorkflowId } from '../../src/temporal/names';
import { createAppWorker } from '../../src/app/worker';
import type { AuditEntry } from '../../workflows/circuit-breaker';
import type { CollectorTotals } from '../../workflows/collectors';
import { workflowBundle } from '../helpers/breaker-harness';
import { Fleet, runCli, simulatorEnv, waitFor, type EnvVars, type FleetWorker, type LogLine } from '../helpers/fleet';
import { freePort, newRedis, redisUrl } from '../helpers/redis';
import { createDevServerEnv } from '../helpers/temporal-env';

const id = randomUUID().slice(0, 8);
const taskQueue = `faults-bad-input-${id}`;
const keyPrefix = `bad-input-${id}:cb_state:`;

let env: TestWorkflowEnvironment;
let sim: Simulator;
let fleet: Fleet;
let redis: Redis;
let vars: EnvVars;
let worker: FleetWorker;

beforeAll(async () => {
  [env, sim] = await Promise.all([createDevServerEnv(), startSimulator({ port: 0 })]);
  redis = newRedis(redisUrl());
  vars = {
    TEMPORAL_ADDRESS: env.address,
    TEMPORAL_TASK_QUEUE: taskQueue,
    REDIS_URL: redisUrl(),
    REDIS_KEY_PREFIX: keyPrefix,
    BREAKERS: 'moralis,glassnode',
    ...simulatorEnv(sim),
  };
  fleet = new Fleet(vars);
  worker = fleet.start({}, 'worker');
  await worker.ready();
});

afterAll(async () => {
  await fleet?.shutdown();
  await redis?.del(keyPrefix + 'moralis', keyPrefix + 'glassnode');
  await redis?.quit();
  await sim?.close();
  await env?.teardown();
});

/** The CLI's whole stderr must be one line: `temporal-breaker: <message>`. */
function oneLine(r: { code: number | null; errorLines: string[]; stderr: string }): string {
  expect(r.errorLines, r.stderr).toHaveLength(1);
  expect(r.errorLines[0]).toMatch(/^temporal-breaker: /);
  return r.errorLines[0]!;
}

describe('invalid breaker config fields (parseBreakerConfig)', () => {
  const cases: [string, Record<string, unknown> | null, string, RegExp][] = [
    ['collectorName: bad characters', { collectorName: 'bad name' }, 'collectorName', /collectorName must match \[A-Za-z0-9_.-\]\+/],
    ['collectorName: not a string', { collectorName: 5 }, 'collectorName', /collectorName must be a string/],
    ['collectorName: missing', { collectorName: undefined }, 'collectorName', /collectorName must be a string/],
    ['failureThreshold: 0', { failureThreshold: 0 }, 'failureThreshold', /failureThreshold must be greater than 0/],
    ['failureThreshold: 2.5', { failureThreshold: 2.5 }, 'failureThreshold', /failureThreshold must be a whole number/],
    ['failureThreshold: "5"', { failureThreshold: '5' }, 'failureThreshold', /failureThreshold must be a number/],
    ['timeoutSeconds: -1', { timeoutSeconds: -1 }, 'timeoutSeconds', /timeoutSeconds must be greater than 0/],
    ['halfOpenMaxCalls: 0', { halfOpenMaxCalls: 0 }, 'halfOpenMaxCalls', /halfOpenMaxCalls must be greater than 0/],
    ['halfOpenSuccessThreshold > halfOpenMaxCalls', { halfOpenSuccessThreshold: 4 }, 'halfOpenSuccessThreshold', /halfOpenSuccessThreshold \(4\) must be ≤ halfOpenMaxCalls \(3\)/],
    ['backoffMultiplier: 0.9', { backoffMultiplier: 0.9 }, 'backoffMultiplier', /backoffMultiplier must be at least 1/],
    ['backoffMultiplier: 101', { backoffMultiplier: 101 }, 'backoffMultiplier', /backoffMultiplier must be at most 100/],
    ['maxTimeoutSeconds < timeoutSeconds', { maxTimeoutSeconds: 100 }, 'maxTimeoutSeconds', /maxTimeoutSeconds \(100\) must be ≥ timeoutSeconds \(300\)/],
    ['an unknown field', { colour: 'red' }, '(root)', /colour/],
    ['not an object', null, '(root)', /expected object/],
  ];
  it.each(cases)('%s', (_label, fields, field, message) => {
    const input = fields === null ? null : { collectorName: 'moralis', ...fields };
    let error: (Error & { issues?: { field: string; message: string }[] }) | undefined;
    try {
      parseBreakerConfig(input);
    } catch (e) {
      error = e as Error;
    }
    expect(error?.name).toBe('BreakerConfigError');
    expect(error!.message).toMatch(/^invalid breaker config/);
    expect(error!.message).toMatch(message);
    expect(error!.issues?.map((i) => i.field)).toContain(field);
  });
});

describe('invalid configuration from the environment: the worker exits with one line naming the variable', () => {
  const cases: [EnvVars, RegExp][] = [
    [{ BREAKER_FAILURE_THRESHOLD: 'abc' }, /BREAKER_FAILURE_THRESHOLD='abc' is not a number/],
    [{ BREAKER_FAILURE_THRESHOLD: '0' }, /BREAKER_FAILURE_THRESHOLD.*failureThreshold must be greater than 0/],
    [{ BREAKER_TIMEOUT_SECONDS: '1.5' }, /BREAKER_TIMEOUT_SECONDS.*timeoutSeconds must be a whole number/],
    [{ BREAKER_HALF_OPEN_SUCCESS_THRESHOLD: '5' }, /BREAKER_HALF_OPEN_SUCCESS_THRESHOLD.*halfOpenSuccessThreshold \(5\) must be ≤ halfOpenMaxCalls \(3\)/],
    [{ BREAKER_BACKOFF_MULTIPLIER: '0.5' }, /BREAKER_BACKOFF_MULTIPLIER.*backoffMultiplier must be at least 1/],
    [{ BREAKER_MAX_TIMEOUT_SECONDS: '10' }, /BREAKER_MAX_TIMEOUT_SECONDS.*maxTimeoutSeconds \(10\) must be ≥ timeoutSeconds \(300\)/],
    [{ BREAKERS: 'moralis,bad name' }, /BREAKERS.*'bad name'.*\[A-Za-z0-9_.-\]\+/],
    [{ REDIS_URL: 'http://localhost:6379' }, /REDIS_URL.*must start with redis:\/\//],
    [{ REDIS_ON_UNAVAILABLE: 'maybe' }, /REDIS_ON_UNAVAILABLE.*"fallback"\|"allow"\|"reject"/],
  ];
  it('each case', async () => {
    const runs = await Promise.all(cases.map(([bad]) => runCli(['worker'], { ...vars, ...bad })));
    for (const [i, r] of runs.entries()) {
      const [bad, message] = cases[i]!;
      expect({ bad, code: r.code }).toEqual({ bad, code: 1 });
      const line = oneLine(r);
      expect(line).toMatch(/^temporal-breaker: invalid configuration: /);
      expect(line).toMatch(message);
    }
  });
});

describe('malformed input to the breaker workflow circuit-breaker:moralis', () => {
  const handle = () => env.client.workflow.getHandle(breakerWorkflowId('moralis'));
  const audit = () => handle().query<AuditEntry[]>('audit');

  it('malformed signal payloads: the audit query shows a rejected-input entry naming the problem', async () => {
    const h = handle();
    await h.signal('forceOpen', 'oops');
    await h.signal('reset', { reason: 42 });
    await h.signal('forceClose', [1, 2]);
    await h.signal('transition', {});
    await h.signal('transition', { event: 'opened', from: 'closed', to: 'sideways', at: 1, timeoutSeconds: 300 });
    const expected = [
      'forceOpen signal: expected { reason?: string }, got "oops"; the command is applied without a reason',
      'reset signal: reason must be a string, got 42; the command is applied without a reason',
      'forceClose signal: expected { reason?: string }, got [1,2]; the command is applied without a reason',
      'malformed transition signal ignored: {}',
      'malformed transition signal ignored: {"event":"opened","from":"closed","to":"sideways","at":1,"timeoutSeconds":300}',
    ];
    const rejected = await waitFor(async () => {
      const r = (await audit()).filter((a) => a.kind === 'rejected-input').map((a) => a.detail);
      return r.length >= expected.length ? r : null;
    }, 'five rejected-input audit entries', 30_000);
    expect(rejected).toEqual(expected);
    // The command signals still did what their name says (only the bad reason was dropped); the
    // malformed transitions changed nothing.
    const commands = await waitFor(async () => {
      const c = (await audit()).filter((a) => a.kind === 'command').map((a) => a.detail);
      return c.length >= 3 ? c : null;
    }, 'the three commands applied', 30_000);
    expect(commands).toEqual(['forceOpen → open', 'reset → closed', 'forceClose → closed']);
    expect(await h.query<BreakerStatus | null>('status')).toMatchObject({ state: 'closed', forced: false });
  });

  it('the command update: an unknown command (or a malformed argument) is rejected with an error naming it', async () => {
    const h = handle();
    const updateError = async (arg: unknown): Promise<string> => {
      try {
        await h.executeUpdate('command', { args: [arg] });
      } catch (e) {
        expect(e).toBeInstanceOf(WorkflowUpdateFailedError);
        return `${(e as Error).message} / ${((e as Error).cause as Error | undefined)?.message ?? ''}`;
      }
      throw new Error(`update accepted: ${JSON.stringify(arg)}`);
    };
    expect(await updateError({ command: 'explode' })).toContain("command update: unknown command 'explode' (expected forceOpen, forceClose, reset)");
    expect(await updateError({ command: 'reset', reason: 5 })).toContain('command update: reason must be a string, got 5');
    expect(await updateError('forceOpen')).toContain('command update: expected { command, reason? }');
    expect(await updateError(null)).toContain('command update: expected { command, reason? }');
    // Rejected by the validator: nothing was applied, and the breaker still obeys a good command.
    const ok = await h.executeUpdate<BreakerStatus, [{ command: string; reason?: string }]>('command', { args: [{ command: 'forceOpen', reason: 'after bad input' }] });
    expect(ok).toMatchObject({ state: 'open', forced: true });
    const back = await h.executeUpdate<BreakerStatus, [{ command: string }]>('command', { args: [{ command: 'reset' }] });
    expect(back).toMatchObject({ state: 'closed', forced: false });
  });
});

describe('corrupt and wrong-type values at the breaker key', () => {
  const key = () => keyPrefix + 'moralis';
  const repairLines = (): LogLine[] => worker.lines().filter((l) => l.msg?.startsWith('corrupt breaker state in Redis'));
  const statusViaCli = async () => {
    const r = await runCli(['status', 'moralis', '--json'], vars);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as BreakerStatus;
  };
  const validStats = { totalFailures: 3, totalSuccesses: 7, circuitOpens: 1, successfulRecoveries: 1, failedRecoveries: 0, timeInOpenStateMs: 1000, lastOpenTime: null };
  const cases: [string, () => Promise<unknown>, RegExp, Partial<BreakerStatus['statistics']>][] = [
    ['not JSON', () => redis.set(key(), 'not json{'), /^not JSON$/, { total_successes: 0 }],
    ['a JSON string', () => redis.set(key(), '"closed"'), /^not an object$/, { total_successes: 0 }],
    ['an unknown state (statistics readable)', () => redis.set(key(), JSON.stringify({ v: 1, state: 'sideways', stats: validStats })), /^state: unknown state$/, { total_successes: 7, total_failures: 3 }],
    ['a negative count', () => redis.set(key(), JSON.stringify({ v: 1, state: 'closed', forced: false, epoch: 0, failureCount: -2, stats: validStats })), /^failureCount: not a count$/, { total_successes: 7 }],
    ['a hash (wrong Redis type)', async () => (await redis.del(key()), redis.hset(key(), 'state', 'open')), /^wrong Redis type \(WRONGTYPE/, { total_successes: 0 }],
    ['a list (wrong Redis type)', async () => (await redis.del(key()), redis.rpush(key(), 'open')), /^wrong Redis type \(WRONGTYPE/, { total_successes: 0 }],
  ];
  it.each(cases)('%s: logged with the breaker and the reason, replaced, never a crash', async (_label, write, reason, stats) => {
    const before = repairLines().length;
    await write();
    const status = await statusViaCli();
    expect(status).toMatchObject({ state: 'closed', collector_name: 'moralis', statistics: stats });
    const lines = repairLines().slice(before);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'error', breaker: 'moralis', key: key() });
    expect(lines[0]!.reason).toMatch(reason);
    expect(await redis.type(key())).toBe('string'); // replaced by a valid state
    expect(worker.alive).toBe(true);
  });

  it('a corrupt value met by an activity: repaired on the way, the activity succeeds', async () => {
    const before = repairLines().length;
    await redis.set(key(), '{"v":1,"state":');
    const totals = await env.client.workflow.execute('onChainCollectorWorkflow', {
      taskQueue,
      workflowId: `bad-input-corrupt-collector-${id}`,
      args: [{ sources: ['moralis'], maxCycles: 1, startToCloseSeconds: 10 }],
    });
    expect(totals).toMatchObject<Partial<CollectorTotals>>({ collected: 1, failed: 0 });
    const lines = repairLines().slice(before);
    expect(lines.map((l) => [l.breaker, l.reason])).toEqual([['moralis', 'not JSON']]);
  });
});

describe('the CLI: one line naming the problem', () => {
  it('an unknown breaker name', async () => {
    const runs = await Promise.all([
      runCli(['status', 'nosuch'], vars),
      runCli(['force-open', 'nosuch', '--reason', 'x'], vars),
      runCli(['reset', 'bad name!'], vars),
    ]);
    for (const [r, name] of runs.map((r, i) => [r, ['nosuch', 'nosuch', 'bad name!'][i]] as const)) {
      expect(r.code).toBe(1);
      expect(oneLine(r)).toBe(`temporal-breaker: unknown breaker '${name}' (configured: moralis, glassnode)`);
    }
  });

  it('an unknown command', async () => {
    const r = await runCli(['explode', 'moralis'], vars);
    expect(r.code).not.toBe(0);
    expect(oneLine(r)).toMatch(/unknown command 'explode'/);
  });

  it('an unreachable Temporal server (status, a command, the worker)', async () => {
    const address = `127.0.0.1:${await freePort()}`;
    const bad = { ...vars, TEMPORAL_ADDRESS: address };
    const runs = await Promise.all([runCli(['status', 'moralis'], bad), runCli(['force-open', 'moralis'], bad), runCli(['worker'], bad)]);
    for (const r of runs) {
      expect(r.code).toBe(1);
      expect(oneLine(r)).toBe(`temporal-breaker: Temporal at ${address} is unreachable: connection refused (is the server running? check TEMPORAL_ADDRESS)`);
    }
    console.info(`[bad-input] unreachable Temporal: CLI answered in ${runs.map((r) => r.ms).join(', ')} ms`);
  });
});

describe('an unreachable Redis', () => {
  it('a worker process: the store degrades to its in-process breaker (logged with the breaker), the breaker workflows keep answering', async () => {
    const badRedis = `redis://127.0.0.1:${await freePort()}`;
    const queue = `${taskQueue}-no-redis`;
    const w = fleet.start({ TEMPORAL_TASK_QUEUE: queue, REDIS_URL: badRedis, BREAKERS: 'twitter' }, 'no-redis');
    await w.ready();
    const degraded = await w.waitForLine((l) => l.msg?.startsWith('Redis unreachable') === true, "'Redis unreachable'", 30_000);
    expect(degraded).toMatchObject({ level: 'error', msg: 'Redis unreachable: breaker decisions now served by an in-process breaker', breaker: 'twitter', policy: 'fallback' });
    expect(typeof degraded.error).toBe('string');
    // The status (readBreakerStatus, an activity) is answered by the in-process breaker.
    const r = await runCli(['status', 'twitter', '--json'], { ...vars, TEMPORAL_TASK_QUEUE: queue, REDIS_URL: badRedis, BREAKERS: 'twitter' });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ collector_name: 'twitter', state: 'closed' });
    // A collector cannot store its result in that Redis: its attempt fails with an error naming
    // the result store (not the provider's fault: the breaker does not count it).
    const progress = await env.client.workflow.execute('socialCollectorWorkflow', {
      taskQueue: queue,
      workflowId: `bad-input-no-redis-${id}`,
      args: [{ sources: ['twitter'], policy: { twitter: 'skip' }, skipMaxAttempts: 1, maxCycles: 1, startToCloseSeconds: 10 }],
    });
    expect(progress).toMatchObject({ cycles: 1, failed: 1 });
    expect(w.output).toMatch(/twitter: cannot read the result store: /);
    expect(w.lines().filter((l) => /running the activity unguarded/.test(l.msg ?? ''))).toEqual([]);
    expect(w.alive).toBe(true);
    await w.stop();
  });

  it('the breaker store alone unreachable: a collector activity behind the breaker still succeeds', async () => {
    const queue = `${taskQueue}-breaker-store-down`;
    const config = loadConfig({}, {
      temporal: { taskQueue: queue },
      redis: { url: `redis://127.0.0.1:${await freePort()}` },
      breakers: { moralis: {} },
      providers: simulatorProvidersConfig(sim.url),
    });
    const lines: string[] = [];
    const logger = jsonLogger('debug', (l) => lines.push(l));
    const unreachable = new Redis(config.redis.url!, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 500 });
    unreachable.on('error', () => undefined);
    const store = new RedisBreakerStore({ redis: unreachable, keyPrefix, timeoutMs: config.redis.timeoutMs, logger });
    const results = new MemoryResultStore();
    const { worker: w } = await createAppWorker({
      config,
      connection: env.nativeConnection,
      store,
      results,
      logger,
      workflowBundle: await workflowBundle(),
    });
    try {
      const totals = await w.runUntil(
        env.client.workflow.execute('onChainCollectorWorkflow', {
          taskQueue: queue,
          workflowId: `bad-input-breaker-store-down-${id}`,
          args: [{ sources: ['moralis'], maxCycles: 2, intervalSeconds: 1, startToCloseSeconds: 10 }],
        }),
      );
      expect(totals).toMatchObject<Partial<CollectorTotals>>({ collected: 2, failed: 0 });
      expect(await results.count('moralis')).toBe(2);
      expect(store.degraded).toBe(true);
      const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(logged.find((l) => String(l.msg).startsWith('Redis unreachable'))).toMatchObject({ level: 'error', breaker: 'moralis', policy: 'fallback' });
    } finally {
      unreachable.disconnect();
    }
  });
});
