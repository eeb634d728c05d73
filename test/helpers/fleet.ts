/**
 * A fleet of real worker processes for the fault tests (each a processes.ts WorkerProcess) sharing
 * one base environment, and what those tests read from them: failed activity attempts, stored
 * results, tallies.
 *
 * Nothing is left behind: `fleet.shutdown()` (afterAll) stops every worker and checks by pid that
 * none survived; processes.ts SIGKILLs any child still alive if the test process goes away first.
 */
import type Redis from 'ioredis';
import { PROVIDERS } from '../../src/providers';
import type { Simulator } from '../../src/sim';
import { processExists, WorkerProcess, type ChildEnv as EnvVars, type Exit, type LogLine } from './processes';

// The process helpers live in processes.ts; the fault tests import them from here too.
export { CLI_BIN as CLI, childEnv as cleanEnv, runCli, processExists, WorkerProcess as FleetWorker } from './processes';
export type { ChildEnv as EnvVars, CliResult as CliRun, Exit, LogLine } from './processes';

/** `<PROVIDER>_BASE_URL` and `<PROVIDER>_API_KEY` of every provider, pointing at the simulator. */
export function simulatorEnv(sim: Simulator): EnvVars {
  const vars: EnvVars = {};
  for (const p of PROVIDERS) {
    vars[`${p.toUpperCase()}_BASE_URL`] = sim.providers[p].baseUrl;
    vars[`${p.toUpperCase()}_API_KEY`] = sim.providers[p].apiKey;
  }
  return vars;
}

/** Worker processes sharing one base environment. */
export class Fleet {
  readonly workers: WorkerProcess[] = [];
  private seq = 0;

  constructor(readonly baseEnv: EnvVars) {}

  /** Starts one worker (not waiting for it to be ready). */
  start(extraEnv: EnvVars = {}, label = `w${++this.seq}`): WorkerProcess {
    const w = WorkerProcess.start(label, { TCB_LOG_LEVEL: 'info', ...this.baseEnv, ...extraEnv });
    this.workers.push(w);
    return w;
  }

  /** Starts `n` workers and waits until each is running. */
  async startReady(n: number, extraEnv: EnvVars = {}): Promise<WorkerProcess[]> {
    const started = Array.from({ length: n }, () => this.start(extraEnv));
    await Promise.all(started.map((w) => w.ready()));
    return started;
  }

  get alive(): WorkerProcess[] {
    return this.workers.filter((w) => w.alive);
  }

  /** Workers that exited without being asked to. */
  get crashed(): WorkerProcess[] {
    return this.workers.filter((w) => w.crashed);
  }

  /** Every log line of every worker (with the worker's label). */
  lines(): (LogLine & { worker: string })[] {
    return this.workers.flatMap((w) => w.lines().map((l) => ({ ...l, worker: w.label })));
  }

  /** Stops every live worker (SIGTERM, in parallel). */
  async stopAll(graceMs?: number): Promise<(Exit & { killed: boolean })[]> {
    return Promise.all(this.alive.map((w) => w.stop(graceMs)));
  }

  /**
   * For afterAll: stops whatever still runs, then checks by pid that no process this fleet
   * started is left. Throws naming the survivors (after SIGKILLing them).
   */
  async shutdown(): Promise<void> {
    await this.stopAll(10_000);
    const left = this.workers.filter((w) => processExists(w.pid) && w.alive);
    for (const w of left) w.child.kill('SIGKILL');
    if (left.length) throw new Error(`worker processes left running: ${left.map((w) => `${w.label} (pid ${w.pid})`).join(', ')}`);
  }
}

/** Polls `probe` until it returns a truthy value; fails with `what` after `timeoutMs`. */
export async function waitFor<T>(probe: () => Promise<T> | T, what: string, timeoutMs = 30_000, everyMs = 200): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what} after ${timeoutMs} ms${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** One failed activity attempt, as the SDK's worker logger reported it (`[WARN] Activity failed {…}`). */
export interface ActivityFailure {
  worker: string;
  activityType: string;
  workflowId: string;
  attempt: number;
  /** The ApplicationFailure's type, or the error's class name for other errors (e.g. `Error`). */
  type: string;
  message: string;
}

/**
 * Every `Activity failed` record in a worker's output. The SDK prints them with util.inspect:
 * the failure's own fields at four spaces of indentation (its cause's deeper), so the first
 * `    type: '…'` line is the failure's type.
 */
export function activityFailures(w: WorkerProcess): ActivityFailure[] {
  const out: ActivityFailure[] = [];
  const lines = w.output.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!/ \[(WARN|DEBUG)\] Activity failed \{$/.test(lines[i]!)) continue;
    const block: string[] = [];
    for (i++; i < lines.length && lines[i] !== '}'; i++) block.push(lines[i]!);
    const field = (re: RegExp) => block.map((l) => re.exec(l)?.[1]).find((v) => v !== undefined);
    const errorLine = field(/^ {2}error: (.*)$/) ?? '';
    const [, klass = 'unknown', message = errorLine] = /^(\w+): (.*)$/.exec(errorLine) ?? [];
    out.push({
      worker: w.label,
      activityType: field(/^ {2}activityType: '([^']+)'/) ?? 'unknown',
      workflowId: field(/^ {2}workflowId: '([^']+)'/) ?? 'unknown',
      attempt: Number(field(/^ {2}attempt: (\d+)/) ?? 0),
      type: klass === 'ApplicationFailure' ? (field(/^ {4}type: '([^']+)'/) ?? klass) : klass,
      message,
    });
  }
  return out;
}

/** Counts by key. */
export function tally<T>(items: T[], key: (t: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of items) out[key(t)] = (out[key(t)] ?? 0) + 1;
  return out;
}

/**
 * What the workers' result store (RedisResultStore, default prefix `tcb_result:`) holds for one
 * source: its counter (incremented only when a SET NX took) and the idempotency keys stored.
 */
export async function storedResults(redis: Redis, source: string, keyPrefix = 'tcb_result:'): Promise<{ count: number; keys: string[] }> {
  const head = `${keyPrefix}{${source}}:r:`;
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${keyPrefix}{${source}}:r:*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch.map((k) => k.slice(head.length)));
  } while (cursor !== '0');
  return { count: Number((await redis.get(`${keyPrefix}{${source}}:count`)) ?? 0), keys: keys.sort() };
}
