// A Temporal outage under load: the dev server runs on a database file (`--db-filename`), two
// worker processes guard collectors whose reddit calls take 12 s and fail; while those calls are in
// flight the server is stopped for 30 s and then started again on the same file and port.
// - Decisions never need Temporal: the running activities keep being guarded (their failures are
//   recorded in the shared store and open the circuit while the server is down);
// - no worker crashes, and they serve again once it is back;
// - the CLI says in one line that the server is unreachable while it is down;
// - the transition reported while it was down is not lost: the reporter sends it again until the
//   server takes it, and the breaker workflow's status, memo and BreakerState search attribute
//   match the store soon after the server returns (measured and logged).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BreakerState } from '../../src/breaker/state';
import type { BreakerStatus } from '../../src/breaker/status';
import { freePort } from '../../src/dev/net';
import { resolveServerExecutable } from '../../src/dev/executables';
import { startSimulator, type Simulator } from '../../src/sim';
import { BREAKER_STATE_ATTRIBUTE, breakerWorkflowId } from '../../src/temporal/names';
import type { AuditEntry } from '../../workflows/circuit-breaker';
import type { CollectorTotals } from '../../workflows/collectors';
import { Fleet, runCli, simulatorEnv, waitFor } from '../helpers/fleet';
import { newRedis, redisUrl } from '../helpers/redis';

const OUTAGE_MS = 30_000;
const CALLS = 4;
const id = randomUUID().slice(0, 8);
const taskQueue = `faults-temporal-outage-${id}`;
const keyPrefix = `temporal-outage-${id}:cb_state:`;

let dir: string;
let port: number;
let server: ChildProcess | null = null;
let serverOutput = '';
let sim: Simulator;
let fleet: Fleet;
let connection: Connection | null = null;
let client: Client;

/** `temporal server start-dev` on the database file; resolves once the namespace answers. */
async function startServer(): Promise<number> {
  const exe = resolveServerExecutable('dev-server').executable;
  if (!exe) throw new Error('this test starts the provisioned Temporal CLI itself: run `npm run provision`');
  const t0 = Date.now();
  server = spawn(
    exe.path,
    ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--headless', '--db-filename', join(dir, 'temporal.db'), '--search-attribute', `${BREAKER_STATE_ATTRIBUTE}=Keyword`, '--log-level', 'error'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  server.stdout?.on('data', (c: Buffer) => (serverOutput += c.toString()));
  server.stderr?.on('data', (c: Buffer) => (serverOutput += c.toString()));
  await waitFor(
    async () => {
      if (server?.exitCode !== null) throw new Error(`the dev server exited: ${serverOutput}`);
      const c = await Connection.connect({ address: `127.0.0.1:${port}`, connectTimeout: 1_000 });
      try {
        await c.workflowService.describeNamespace({ namespace: 'default' });
        return true;
      } finally {
        await c.close();
      }
    },
    'the dev server to answer',
    60_000,
    100,
  );
  return Date.now() - t0;
}

async function stopServer(): Promise<void> {
  const s = server;
  server = null;
  if (!s || s.exitCode !== null || s.signalCode !== null) return;
  const gone = new Promise((r) => s.once('exit', r));
  s.kill('SIGTERM');
  const t = setTimeout(() => s.kill('SIGKILL'), 10_000);
  await gone;
  clearTimeout(t);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tcb-temporal-outage-'));
  port = await freePort();
  [sim] = await Promise.all([startSimulator({ port: 0 }), startServer()]);
  connection = await Connection.connect({ address: `127.0.0.1:${port}` });
  client = new Client({ connection });
  fleet = new Fleet({
    TEMPORAL_ADDRESS: `127.0.0.1:${port}`,
    TEMPORAL_TASK_QUEUE: taskQueue,
    REDIS_URL: redisUrl(),
    REDIS_KEY_PREFIX: keyPrefix,
    BREAKERS: 'reddit,moralis',
    BREAKER_FAILURE_THRESHOLD: '3',
    // Open for the whole test: the state to catch up with is 'open'.
    BREAKER_TIMEOUT_SECONDS: '600',
    ...simulatorEnv(sim),
  });
});

afterAll(async () => {
  await fleet?.shutdown();
  await connection?.close();
  await stopServer();
  await sim?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function storeState(): Promise<BreakerState | null> {
  const r = newRedis();
  try {
    const raw = await r.get(`${keyPrefix}reddit`);
    return raw ? (JSON.parse(raw) as BreakerState) : null;
  } finally {
    r.disconnect();
  }
}

describe('stop the Temporal server for 30 s under load, start it again on the same database', () => {
  it('guards running activities, crashes nothing, the CLI says it is unreachable, the breaker workflow catches up', async () => {
    await sim.control.setFaults('reddit', { errorRate: 1, latencyMs: 12_000 });
    await fleet.startReady(2);
    const handles = await Promise.all(
      Array.from({ length: CALLS }, (_, i) =>
        client.workflow.start('socialCollectorWorkflow', {
          taskQueue,
          workflowId: `outage-reddit-${i}-${id}`,
          args: [{ sources: ['reddit'], policy: { reddit: 'skip' }, skipMaxAttempts: 1, intervalSeconds: 1, maxCycles: 1, startToCloseSeconds: 60 }],
        }),
      ),
    );
    await waitFor(async () => (await sim.control.stats()).providers.reddit.inFlight >= CALLS, `${CALLS} reddit calls in flight`, 30_000, 50);
    expect((await storeState())?.stats.totalFailures ?? 0).toBe(0);

    await connection!.close();
    connection = null;
    await stopServer();
    const stoppedAt = Date.now();
    console.info('[temporal-outage] dev server stopped');

    // While it is down: the CLI says so in one line; the in-flight calls end and are recorded.
    const cli = await runCli(['status', 'reddit'], fleet.baseEnv);
    expect({ code: cli.code, lines: cli.errorLines }).toEqual({
      code: 1,
      lines: [`temporal-breaker: Temporal at 127.0.0.1:${port} is unreachable: connection refused (is the server running? check TEMPORAL_ADDRESS)`],
    });
    const opened = await waitFor(async () => {
      const s = await storeState();
      return s && s.stats.totalFailures >= CALLS ? s : null;
    }, 'the in-flight calls to be recorded in the store', 25_000, 100);
    expect(opened.state, 'the circuit opened while Temporal was down').toBe('open');
    expect(Date.now() - stoppedAt, 'recorded while Temporal was down').toBeLessThan(OUTAGE_MS);
    console.info(`[temporal-outage] ${Date.now() - stoppedAt} ms into the outage: ${opened.stats.totalFailures} failures recorded, circuit ${opened.state}`);

    await new Promise((r) => setTimeout(r, Math.max(0, OUTAGE_MS - (Date.now() - stoppedAt))));
    expect(fleet.crashed.map((w) => `${w.label}: ${JSON.stringify(w.exit)}\n${w.tail()}`)).toEqual([]);
    const startMs = await startServer();
    const backAt = Date.now();
    console.info(`[temporal-outage] dev server down ${backAt - startMs - stoppedAt} ms, answering again after a ${startMs} ms start`);
    connection = await Connection.connect({ address: `127.0.0.1:${port}` });
    client = new Client({ connection });

    // The breaker workflow catches up: status, memo and search attribute equal the store's state.
    const handle = client.workflow.getHandle(breakerWorkflowId('reddit'));
    const caughtUp = await waitFor(
      async () => {
        const store = await storeState();
        const status = await handle.query<BreakerStatus | null>('status');
        const d = await handle.describe();
        const memoState = (d.memo as { state?: string } | undefined)?.state;
        const attr = d.searchAttributes?.[BREAKER_STATE_ATTRIBUTE] as string[] | undefined;
        return store?.state === 'open' && status?.state === 'open' && memoState === 'open' && attr?.[0] === 'open' && status.statistics.total_failures === store.stats.totalFailures ? { status, d } : null;
      },
      'the breaker workflow to match the store',
      60_000,
      100,
    );
    const catchUpMs = Date.now() - backAt;
    console.info(`[temporal-outage] breaker workflow status, memo and BreakerState match the store ${catchUpMs} ms after the server answered again`);
    expect(caughtUp.status.statistics.total_failures).toBe(CALLS);
    // The transition itself reached the workflow's history (its audit), sent during the outage.
    const audit = await handle.query<AuditEntry[]>('audit');
    expect(audit.filter((e) => e.kind === 'transition' && /closed → open/.test(e.detail)), JSON.stringify(audit)).toHaveLength(1);
    const retried = fleet.lines().filter((l) => l.msg?.startsWith('breaker transition not reported to its workflow')).length;
    const delivered = fleet.lines().filter((l) => l.msg === 'breaker transitions delivered to their workflow after a failed report');
    console.info(`[temporal-outage] reports that failed during the outage and were sent again: ${retried}; delivered after ${delivered.map((l) => l.undeliveredForMs).join(', ') || '-'} ms`);

    // Nothing crashed; the workers serve again: a new collector runs to completion.
    expect(fleet.crashed.map((w) => `${w.label}: ${JSON.stringify(w.exit)}\n${w.tail()}`)).toEqual([]);
    const after = await client.workflow.start('onChainCollectorWorkflow', {
      taskQueue,
      workflowId: `outage-after-${id}`,
      args: [{ sources: ['moralis'], intervalSeconds: 1, maxCycles: 1, startToCloseSeconds: 10 }],
    });
    expect(await after.result()).toMatchObject({ cycles: 1, collected: 1 } satisfies Partial<CollectorTotals>);
    // The collectors of the outage finish too (their activities' completions reach the server once it is back).
    const results = (await Promise.all(handles.map((h) => client.workflow.getHandle(h.workflowId).result()))) as CollectorTotals[];
    for (const r of results) expect(r).toMatchObject({ cycles: 1, collected: 0 });
    expect(fleet.alive).toHaveLength(2);
  });
});
