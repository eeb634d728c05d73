// The `temporal-breaker` CLI end to end, as an operator runs it: `node bin/temporal-breaker.js …`
// in a child process, against a dev server and a `worker` process (also the CLI), with the
// breaker state in a real Redis and the collectors calling the upstream simulator. Usage and
// configuration errors need no server: each is one line on stderr naming the problem, and a
// non-zero exit code (1: the command failed; 2: commander rejected the arguments).
import { randomUUID } from 'node:crypto';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BreakerStatus } from '../../src/breaker/status';
import { PROVIDERS } from '../../src/providers';
import { startSimulator, type Simulator } from '../../src/sim';
import { BREAKER_STATE_ATTRIBUTE } from '../../src/temporal/names';
import type { AuditEntry } from '../../workflows/circuit-breaker';
import type { CollectorTotals } from '../../workflows/collectors';
import { deploymentEnv, processExists, runCli, stopAllWorkers, WorkerProcess, type CliResult } from '../helpers/processes';
import { redisUrl } from '../helpers/redis';
import { createDevServerEnv } from '../helpers/temporal-env';

const CONFIGURED = 'moralis, glassnode, twitter, reddit, lunarcrush';

/** The status keys of the seed's `get_status()` (DESIGN.md, "Status"). */
const SEED_KEYS = [
  'state',
  'collector_name',
  'failure_count',
  'consecutive_successes',
  'failure_threshold',
  'timeout_seconds',
  'last_failure_time',
  'last_state_change',
  'half_open',
  'statistics',
  'health_score',
];
const HALF_OPEN_KEYS = ['attempts', 'successes', 'max_calls', 'success_threshold', 'success_rate'];
const STATISTICS_KEYS = ['total_failures', 'total_successes', 'circuit_opens', 'successful_recoveries', 'failed_recoveries', 'time_in_open_state', 'last_open_time'];
const ISO_SECOND = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

/** A failed run: the exit code and stderr's lines. */
function failure(r: CliResult): { code: number | null; lines: string[] } {
  return { code: r.code, lines: r.errorLines };
}

describe('usage and configuration errors: one line naming the problem, non-zero exit', { concurrent: true }, () => {
  it('an unknown breaker names itself and the configured ones', async () => {
    const status = await runCli(['status', 'nope']);
    expect(failure(status)).toEqual({ code: 1, lines: [`temporal-breaker: unknown breaker 'nope' (configured: ${CONFIGURED})`] });
    expect(status.stdout).toBe('');
    const forceOpen = await runCli(['force-open', 'nope', '--reason', 'x'], { BREAKERS: 'moralis,glassnode' });
    expect(failure(forceOpen)).toEqual({ code: 1, lines: ["temporal-breaker: unknown breaker 'nope' (configured: moralis, glassnode)"] });
  });

  it('an unreachable server names the address (status and worker)', async () => {
    const [status, worker] = await Promise.all([
      runCli(['status', 'moralis'], { TEMPORAL_ADDRESS: '127.0.0.1:1' }),
      runCli(['worker'], { TEMPORAL_ADDRESS: '127.0.0.1:1' }),
    ]);
    for (const r of [status, worker]) {
      expect(r.code).toBe(1);
      expect(r.errorLines).toHaveLength(1);
      expect(r.errorLines[0]).toBe('temporal-breaker: Temporal at 127.0.0.1:1 is unreachable: connection refused (is the server running? check TEMPORAL_ADDRESS)');
    }
  });

  it('a bad argument is rejected before anything is contacted', async () => {
    const results = await Promise.all([
      runCli(['force-open']),
      runCli(['status', 'moralis', '--bogus']),
      runCli(['force-open', 'moralis', '--reason', ' ']),
      runCli(['stauts']),
    ]);
    expect(results.map(failure)).toEqual([
      { code: 2, lines: ["temporal-breaker: missing required argument 'name' (see --help)"] },
      { code: 2, lines: ["temporal-breaker: unknown option '--bogus' (see --help)"] },
      { code: 2, lines: ["temporal-breaker: option '--reason <text>' argument ' ' is invalid. reason must not be empty (see --help)"] },
      { code: 2, lines: ["temporal-breaker: unknown command 'stauts' (Did you mean status?) (see --help)"] },
    ]);
  });

  it('a --reason above 500 characters is refused before anything is contacted, on one short line naming it', async () => {
    // 100 000 characters: one argument of the OS's argv holds at most 128 KB (1 MB is tried in-process in test/unit/bad-input-bounds.test.ts).
    const r = await runCli(['force-open', 'moralis', '--reason', 'r'.repeat(100_000)], { TEMPORAL_ADDRESS: '127.0.0.1:1' });
    expect(failure(r)).toEqual({
      code: 2,
      lines: [`temporal-breaker: option '--reason <text>' argument '${'r'.repeat(40)}…' is invalid. --reason is 100000 characters long; at most 500 characters (see --help)`],
    });
  });

  it('an invalid configuration value names the variable', async () => {
    const results = await Promise.all([
      runCli(['status', 'moralis'], { BREAKER_TIMEOUT_SECONDS: 'abc' }),
      runCli(['force-open', 'moralis'], { REDIS_URL: 'http://x' }),
      runCli(['worker'], { BREAKER_TIMEOUT_SECONDS: '0' }),
      runCli(['status'], { TCB_CONFIG_FILE: '/nonexistent/tcb.json' }),
    ]);
    expect(results.map(failure)).toEqual([
      { code: 1, lines: ["temporal-breaker: invalid configuration: BREAKER_TIMEOUT_SECONDS='abc' is not a number"] },
      { code: 1, lines: ['temporal-breaker: invalid configuration: redis.url (REDIS_URL): redis.url must start with redis:// or rediss://'] },
      { code: 1, lines: ['temporal-breaker: invalid configuration: breakerDefaults.timeoutSeconds (BREAKER_TIMEOUT_SECONDS): timeoutSeconds must be greater than 0'] },
      { code: 1, lines: ["temporal-breaker: cannot read TCB_CONFIG_FILE '/nonexistent/tcb.json': ENOENT: no such file or directory, open '/nonexistent/tcb.json'"] },
    ]);
  });
});

describe('against a dev server and a worker process', () => {
  const id = randomUUID().slice(0, 8);
  const taskQueue = `cli-${id}`;
  let env: TestWorkflowEnvironment;
  let sim: Simulator;
  let worker: WorkerProcess;
  let vars: Record<string, string>;

  const cli = (...args: string[]) => runCli(args, vars);
  async function statusJson(name = 'moralis'): Promise<BreakerStatus> {
    const r = await cli('status', name, '--json');
    expect(failure(r)).toEqual({ code: 0, lines: [] });
    return JSON.parse(r.stdout) as BreakerStatus;
  }
  const audit = () => env.client.workflow.getHandle('circuit-breaker:moralis').query<AuditEntry[]>('audit');

  beforeAll(async () => {
    [env, sim] = await Promise.all([
      createDevServerEnv({ server: { searchAttributes: [defineSearchAttributeKey(BREAKER_STATE_ATTRIBUTE, SearchAttributeType.KEYWORD)] } }),
      startSimulator({ port: 0 }),
    ]);
    vars = deploymentEnv({ temporalAddress: env.address, taskQueue, redisUrl: redisUrl(), keyPrefix: `cli-${id}:cb_state:`, providers: sim.providers });
  });

  afterEach((ctx) => {
    if ((ctx.task.result?.state === 'fail' || process.env.TCB_TEST_LOGS) && worker) console.info(`[cli] worker output:\n${worker.output.split('\n').slice(-200).join('\n')}`);
  });

  afterAll(async () => {
    await stopAllWorkers();
    await sim?.close();
    await env?.teardown();
  });

  it('before any worker ran: status says the breaker workflow is not running', async () => {
    expect(failure(await cli('status', 'moralis'))).toEqual({
      code: 1,
      lines: ["temporal-breaker: breaker workflow 'circuit-breaker:moralis' is not running: start a worker (temporal-breaker worker)"],
    });
  });

  it('`worker` starts, registers everything and starts the breaker workflows', async () => {
    worker = WorkerProcess.start('cli', vars);
    const ready = await worker.ready();
    expect(ready).toMatchObject({ taskQueue, breakers: [...PROVIDERS] });
    for (const p of PROVIDERS) {
      const d = await env.client.workflow.getHandle(`circuit-breaker:${p}`).describe();
      expect(d.status.name).toBe('RUNNING');
      expect(d.taskQueue).toBe(taskQueue);
    }
  });

  it('`status moralis --json` prints the exact status with the seed keys', async () => {
    const s = await statusJson();
    for (const k of SEED_KEYS) expect(s).toHaveProperty(k);
    for (const k of HALF_OPEN_KEYS) expect(s.half_open).toHaveProperty(k);
    for (const k of STATISTICS_KEYS) expect(s.statistics).toHaveProperty(k);
    expect(s).toMatchObject({
      state: 'closed',
      collector_name: 'moralis',
      failure_count: 0,
      consecutive_successes: 0,
      failure_threshold: 5,
      timeout_seconds: 300,
      last_failure_time: null,
      half_open: { attempts: 0, successes: 0, max_calls: 3, success_threshold: 2 },
      statistics: { total_failures: 0, total_successes: 0, circuit_opens: 0, successful_recoveries: 0, failed_recoveries: 0, time_in_open_state: 0, last_open_time: null },
      health_score: 1,
    });
    if (s.last_state_change !== null) expect(s.last_state_change).toMatch(ISO_SECOND);
  });

  it('`status` prints a table of every breaker; `status --json` an array', async () => {
    const [table, json] = await Promise.all([cli('status'), cli('status', '--json')]);
    expect(failure(table)).toEqual({ code: 0, lines: [] });
    for (const p of PROVIDERS) expect(table.stdout).toMatch(new RegExp(`│ ${p} +│ closed +│ 0/5 +│ 300 `));
    const all = JSON.parse(json.stdout) as BreakerStatus[];
    expect(all.map((s) => [s.collector_name, s.state])).toEqual(PROVIDERS.map((p) => [p, 'closed']));
  });

  it('`force-open --reason` holds the circuit open: status shows it forced, collectors are short-circuited', async () => {
    const r = await cli('force-open', 'moralis', '--reason', 'provider maintenance');
    expect(failure(r)).toEqual({ code: 0, lines: [] });
    expect(r.stdout).toBe('moralis: open (forced)\n');

    const s = await statusJson();
    expect(s).toMatchObject({ state: 'open', forced: true, statistics: { circuit_opens: 1 } });
    expect(s.statistics.last_open_time).toMatch(ISO_SECOND);
    expect((await audit()).map((a) => a.detail)).toContain('forceOpen (provider maintenance) → open');

    // The worker rejects the collector's moralis call; the provider is never called.
    const totals = await env.client.workflow.execute('onChainCollectorWorkflow', {
      taskQueue,
      workflowId: `collect-${id}-forced`,
      args: [{ sources: ['moralis', 'glassnode'], maxCycles: 1, policy: { moralis: 'skip', glassnode: 'skip' } }],
    });
    expect(totals).toMatchObject<Partial<CollectorTotals>>({ skipped: 1, collected: 1, failed: 0 });
    const stats = await sim.control.stats();
    expect(stats.providers.moralis.calls).toBe(0);
    expect(stats.providers.glassnode.calls).toBe(1);
  });

  it('`force-close --json` closes it and prints the new status; statistics are kept', async () => {
    const r = await cli('force-close', 'moralis', '--reason', 'maintenance over', '--json');
    expect(failure(r)).toEqual({ code: 0, lines: [] });
    const s = JSON.parse(r.stdout) as BreakerStatus;
    expect(s).toMatchObject({ state: 'closed', forced: false, failure_count: 0, timeout_seconds: 300, statistics: { circuit_opens: 1 } });
    expect(s.statistics.time_in_open_state).toBeGreaterThanOrEqual(0);
    expect(await statusJson()).toMatchObject({ state: 'closed', forced: false });
  });

  it('`reset` (no reason needed) closes and clears the counters, keeping the statistics', async () => {
    await cli('force-open', 'moralis');
    const r = await cli('reset', 'moralis');
    expect(failure(r)).toEqual({ code: 0, lines: [] });
    expect(r.stdout).toBe('moralis: closed\n');
    expect(await statusJson()).toMatchObject({ state: 'closed', forced: false, failure_count: 0, statistics: { circuit_opens: 2 } });
    const commands = (await audit()).filter((a) => a.kind === 'command').map((a) => a.detail);
    expect(commands).toEqual(['forceOpen (provider maintenance) → open', 'forceClose (maintenance over) → closed', 'forceOpen → open', 'reset → closed']);
    // another breaker was never touched
    expect(await statusJson('glassnode')).toMatchObject({ state: 'closed', statistics: { circuit_opens: 0, total_successes: 1 } });
  });

  it('the worker stops cleanly on SIGTERM', async () => {
    expect(await worker.stop()).toEqual({ code: 0, signal: null, killed: false });
    expect(processExists(worker.pid)).toBe(false);
  });
});
