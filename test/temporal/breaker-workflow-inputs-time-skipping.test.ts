// Issue #12, items 8, 9 and 10: the breaker workflow under bursts, skewed clocks and oversized
// input. The workflow runs on a worker of its own here, with the real control activities over a
// memory store the test also reads, so an activity can be held in flight at will. Nothing awaits
// a result through the time-skipping client: the server never skips through the workflow's timers.
import { Client, WorkflowUpdateFailedError, WorkflowUpdateStage, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBreakerControlActivities, type BreakerControlActivities } from '../../activities/breaker-control';
import { parseBreakerConfig, type BreakerConfig } from '../../src/breaker/config';
import type { BreakerStatus } from '../../src/breaker/status';
import type { Transition } from '../../src/breaker/transitions';
import { MemoryBreakerStore } from '../../src/store/memory-store';
import { breakerWorkflowId, registerSearchAttributes } from '../../src/worker';
import type { AuditEntry } from '../../workflows/circuit-breaker';
import { workflowBundle } from '../helpers/breaker-harness';
import { createTimeSkippingEnv } from '../helpers/temporal-env';

const NAMES = ['burst', 'flood', 'skew', 'big'] as const;
const taskQueue = `inputs-${process.pid}`;
const MB = 1 << 20;

let env: TestWorkflowEnvironment;
let plain: Client;
let worker: Worker;
let running: Promise<void>;
const store = new MemoryBreakerStore();
const breakers = new Map<string, BreakerConfig>(NAMES.map((n) => [n, parseBreakerConfig({ collectorName: n })]));

/** Holds the next call of an activity for a breaker until released. */
const holds = new Map<string, { entered: () => void; released: Promise<void> }>();
function hold(activity: keyof BreakerControlActivities, name: string): { entered: Promise<void>; release: () => void } {
  let entered!: () => void;
  let release!: () => void;
  const enteredP = new Promise<void>((r) => (entered = r));
  const released = new Promise<void>((r) => (release = r));
  holds.set(`${activity}/${name}`, { entered, released });
  return { entered: enteredP, release };
}
async function held(activity: string, name: string): Promise<void> {
  const h = holds.get(`${activity}/${name}`);
  if (!h) return;
  holds.delete(`${activity}/${name}`);
  h.entered();
  await h.released;
}

const within = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms))]);

async function waitFor<T>(probe: () => Promise<T | null | undefined | false>, what: string, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms${last ? ` (${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const start = (name: string, args: Record<string, unknown> = {}): Promise<WorkflowHandleWithFirstExecutionRunId> =>
  plain.workflow.start('circuitBreakerWorkflow', { taskQueue, workflowId: breakerWorkflowId(name), args: [{ name, ...args }] });
const latest = (name: string) => plain.workflow.getHandle(breakerWorkflowId(name));
// A query that reaches a run just as it continues as new can hang on the time-skipping server
// (up to 90 s): each one gets a deadline, and the polls below simply ask again.
const query = <T>(name: string, q: string): Promise<T> => plain.withDeadline(Date.now() + 3_000, () => latest(name).query<T>(q));
const audit = (name: string) => query<AuditEntry[]>(name, 'audit');
const status = (name: string) => query<BreakerStatus | null>(name, 'status');
const storeState = (name: string) => store.load(breakers.get(name)!);

beforeAll(async () => {
  env = await createTimeSkippingEnv();
  plain = new Client({ connection: env.connection });
  await registerSearchAttributes(env.connection, 'default');
  const base = createBreakerControlActivities({ store, breakers, probes: Object.fromEntries(NAMES.map((n) => [n, async () => undefined])) });
  const activities: BreakerControlActivities = {
    applyBreakerCommand: async (i) => (await held('applyBreakerCommand', i.name), base.applyBreakerCommand(i)),
    readBreakerStatus: async (i) => (await held('readBreakerStatus', i.name), base.readBreakerStatus(i)),
    probeBreaker: async (i) => (await held('probeBreaker', i.name), base.probeBreaker(i)),
  };
  worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: await workflowBundle(), activities });
  running = worker.run();
});

afterAll(async () => {
  for (const n of NAMES) await latest(n).terminate('test over').catch(() => undefined);
  if (worker?.getState() === 'RUNNING') worker.shutdown();
  await running;
  await env?.teardown();
});

async function replayClean(name: string, runId: string): Promise<void> {
  const history = await plain.workflow.getHandle(breakerWorkflowId(name), runId).fetchHistory();
  for await (const r of Worker.runReplayHistories({ workflowBundle: await workflowBundle() }, [{ workflowId: breakerWorkflowId(name), history }])) {
    expect(r.error).toBeUndefined();
  }
}

describe('item 8: continue-as-new never deadlocks and never leaves an update unanswered', () => {
  it('a burst of command updates and signals while the refresh activity is in flight: every update answered, continued as new, status and audit kept', async () => {
    const gate = hold('readBreakerStatus', 'burst');
    const handle = await start('burst', { maxEvents: 30 });
    const firstRun = handle.firstExecutionRunId;
    await within(gate.entered, 20_000, 'the first refresh');
    const updates = [];
    for (let i = 0; i < 6; i++) {
      updates.push(
        await handle.startUpdate<BreakerStatus, [{ command: string; reason?: string }]>('command', {
          args: [{ command: i % 2 ? 'reset' : 'forceOpen', reason: `update ${i}` }],
          waitForStage: WorkflowUpdateStage.ACCEPTED,
        }),
      );
    }
    for (let i = 0; i < 20; i++) await handle.signal(i % 2 ? 'forceClose' : 'forceOpen', { reason: `signal ${i}` });
    gate.release();

    const answers = await within(Promise.all(updates.map((u) => u.result())), 30_000, 'every command update answered');
    for (const a of answers) expect(a).toMatchObject({ collector_name: 'burst' });
    const d = await waitFor(async () => {
      const x = await latest('burst').describe();
      return x.runId !== firstRun && x;
    }, 'continued as new');
    expect(d.status.name).toBe('RUNNING');
    // Every command landed, across runs, in the order the workflow got them; the status is the store's.
    const commands = await waitFor(async () => {
      const c = (await audit('burst')).filter((a) => a.kind === 'command');
      return c.length >= 26 && c;
    }, 'all 26 commands in the audit');
    expect(commands).toHaveLength(26);
    for (let i = 0; i < 6; i++) expect(commands.some((c) => c.detail.includes(`(update ${i})`))).toBe(true);
    for (let i = 0; i < 20; i++) expect(commands.some((c) => c.detail.includes(`(signal ${i})`))).toBe(true);
    const s = await storeState('burst');
    await waitFor(async () => {
      const q = await status('burst');
      return q?.state === s.state && q.forced === s.forced;
    }, `the status shows the store's ${s.state}`);
    await replayClean('burst', firstRun);
  });

  it('a burst of command signals is worked off across runs: the limit is checked inside the command loop', async () => {
    const gate = hold('readBreakerStatus', 'flood');
    const handle = await start('flood', { maxEvents: 30 });
    const firstRun = handle.firstExecutionRunId;
    await within(gate.entered, 20_000, 'the first refresh');
    for (let i = 0; i < 40; i++) await handle.signal(i % 2 ? 'reset' : 'forceOpen', { reason: `flood ${i}` });
    gate.release();
    const commands = await waitFor(async () => {
      const c = (await audit('flood')).filter((a) => a.kind === 'command');
      return c.length >= 40 && c;
    }, 'all 40 commands in the audit', 60_000);
    expect(commands.map((c) => /\(flood (\d+)\)/.exec(c.detail)![1]).map(Number)).toEqual([...Array(40).keys()]);
    // The first run stopped at its limit: it scheduled the refresh and one command (not all 40), and
    // its history holds little more than the 40 signals and the task events they caused.
    const first = await plain.workflow.getHandle(breakerWorkflowId('flood'), firstRun).fetchHistory();
    const scheduled = first.events!.filter((e) => e.activityTaskScheduledEventAttributes).length;
    expect(scheduled).toBeLessThanOrEqual(3);
    expect(first.events!.length).toBeLessThan(200);
    expect(await status('flood')).toMatchObject({ state: 'closed', forced: false });
    await replayClean('flood', firstRun);
  });
});

describe('item 9: transitions are ordered by what the store issues, never by a worker clock', () => {
  it('transition signals with a far-future, then a skewed-back `at` both refresh the status to the store', async () => {
    const cfg = breakers.get('skew')!;
    await start('skew');
    await waitFor(async () => (await status('skew'))?.state === 'closed', 'the first refresh');
    const opened = (await store.command(cfg, 'forceOpen', Date.now())).transition!;
    await latest('skew').signal('transition', { ...opened, at: Date.now() + 10 * 365 * 86_400_000 } satisfies Transition);
    await waitFor(async () => (await status('skew'))?.state === 'open', 'open after a far-future transition');
    const closed = (await store.command(cfg, 'forceClose', Date.now())).transition!;
    // This worker's clock is 5 s behind: its transition's `at` is older than the last one seen.
    await latest('skew').signal('transition', { ...closed, at: Date.now() - 5_000 } satisfies Transition);
    await waitFor(async () => (await status('skew'))?.state === 'closed', 'closed after a transition with a skewed clock', 10_000);
    const reopened = (await store.command(cfg, 'forceOpen', Date.now())).transition!;
    await latest('skew').signal('transition', { ...reopened, at: 1 } satisfies Transition);
    await waitFor(async () => (await status('skew'))?.state === 'open', 'open again after a transition at 1970', 10_000);
    expect((await storeState('skew')).state).toBe('open');
  });
});

describe('item 10: every input and every audit entry is bounded', () => {
  it('1 MB through the signal, the update, a malformed payload and the start input: bounded audit, bounded continue-as-new input', async () => {
    const huge = 'r'.repeat(MB);
    const handle = await start('big', { maxEvents: 60, audit: [{ at: 0, kind: 'command', detail: 'y'.repeat(MB) }] });
    const firstRun = handle.firstExecutionRunId;
    await handle.signal('forceOpen', { reason: huge });
    await handle.signal('reset', huge);
    await handle.signal('transition', { event: huge, from: 'closed', to: 'open', at: 1, timeoutSeconds: 300 });
    // The update path: the same 500-character bound as BreakerClient, rejected by the validator.
    const rejected = await plain.withDeadline(Date.now() + 15_000, () => handle.executeUpdate('command', { args: [{ command: 'forceClose', reason: huge }] })).then(
      () => null,
      (e: Error) => e,
    );
    expect(rejected, `the update was ${rejected ? `refused with ${rejected.message}` : 'accepted'}`).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(`${rejected!.message} ${(rejected!.cause as Error | undefined)?.message}`).toContain(`command update: reason is ${MB} characters long; at most 500`);
    const ok = await handle.executeUpdate<BreakerStatus, [{ command: string; reason: string }]>('command', { args: [{ command: 'forceOpen', reason: 'r'.repeat(500) }] });
    expect(ok).toMatchObject({ state: 'open', forced: true });

    const entries = await waitFor(async () => {
      const a = await audit('big');
      return a.filter((e) => e.kind === 'command').length >= 3 && a;
    }, 'the commands in the audit');
    for (const e of entries) expect(e.detail.length, `${e.kind}: ${e.detail.slice(0, 80)}…`).toBeLessThanOrEqual(1000);
    expect(entries.map((e) => e.detail)).toContain(`forceOpen (${'r'.repeat(500)}) → open`);
    const rejectedInput = entries.filter((e) => e.kind === 'rejected-input').map((e) => e.detail);
    expect(rejectedInput).toHaveLength(2);
    expect(rejectedInput[0]).toMatch(/^reset signal: expected \{ reason\?: string \}, got a string of 1048576 characters/);
    expect(rejectedInput[1]).toMatch(/^malformed transition signal ignored: /);
    expect(entries.some((e) => e.kind === 'transition')).toBe(false);

    // Past its limit, the workflow continues as new; what it carries is small.
    for (let i = 0; i < 25; i++) await handle.signal('forceOpen', { reason: `filler ${i}` });
    const next = await waitFor(async () => {
      const d = await latest('big').describe();
      return d.runId !== firstRun && d.runId;
    }, 'continued as new', 30_000);
    // The first run's history holds the 1 MB payloads themselves (more than a gRPC reply carries):
    // read what was carried from the start of the next run instead.
    const history = await plain.workflow.getHandle(breakerWorkflowId('big'), next).fetchHistory();
    const started = history.events![0]!.workflowExecutionStartedEventAttributes!;
    expect(started.continuedExecutionRunId).toBeTruthy();
    const carried = (started.input!.payloads ?? []).reduce((n, p) => n + (p.data?.length ?? 0), 0);
    expect(carried).toBeLessThan(64 * 1024);
    // Queries right after continue-as-new can miss their deadline on the test server: poll.
    for (const e of await waitFor(() => audit('big'), 'the audit of the new run', 60_000)) expect(e.detail.length).toBeLessThanOrEqual(1000);
    expect(await waitFor(() => status('big'), 'the status of the new run', 60_000)).toMatchObject({ state: 'open', forced: true });
  });
});
