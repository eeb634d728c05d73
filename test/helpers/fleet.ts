/**
 * A fleet of real worker processes for the fault tests: `node bin/temporal-breaker.js worker`
 * children started with an explicit environment, their output kept (and parsed when it is a
 * JSON log line) for assertions, stopped gracefully (SIGTERM) or killed (SIGKILL) one by one.
 *
 * Nothing is left behind: every child is registered; `fleet.shutdown()` (afterAll) stops them and
 * checks by pid that none survived, and a process `exit` hook SIGKILLs any child still alive if the
 * test process itself goes away first.
 *
 * The child's environment is the parent's without any variable the configuration reads
 * (ENV_VARS), plus exactly what the test passes, so a developer's own settings never leak in.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type Redis from 'ioredis';
import { PROVIDERS } from '../../src/providers';
import type { Simulator } from '../../src/sim';
import { repoRoot } from './paths';

// One way to build a child's environment and find the CLI, shared with processes.ts.
export { CLI_BIN as CLI, childEnv as cleanEnv, type ChildEnv as EnvVars } from './processes';
import { CLI_BIN as CLI, childEnv as cleanEnv, type ChildEnv as EnvVars } from './processes';

/** `<PROVIDER>_BASE_URL` and `<PROVIDER>_API_KEY` of every provider, pointing at the simulator. */
export function simulatorEnv(sim: Simulator): EnvVars {
  const vars: EnvVars = {};
  for (const p of PROVIDERS) {
    vars[`${p.toUpperCase()}_BASE_URL`] = sim.providers[p].baseUrl;
    vars[`${p.toUpperCase()}_API_KEY`] = sim.providers[p].apiKey;
  }
  return vars;
}

/** One line of a worker's output: the JSON log fields when it is a JSON line, always the raw text. */
export interface LogLine {
  level?: string;
  msg?: string;
  breaker?: string;
  [field: string]: unknown;
  raw: string;
}

function parseLines(text: string): LogLine[] {
  const out: LogLine[] = [];
  for (const raw of text.split('\n')) {
    if (raw.trim() === '') continue;
    try {
      const parsed = JSON.parse(raw) as unknown;
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
        out.push({ ...(parsed as Record<string, unknown>), raw });
        continue;
      }
    } catch {
      // the SDK's own log lines, stack traces
    }
    out.push({ raw });
  }
  return out;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const live = new Set<ChildProcess>();
let hooked = false;
function register(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (!hooked) {
    hooked = true;
    // Last resort: the test process is going away with children still running.
    process.once('exit', () => {
      for (const c of live) c.kill('SIGKILL');
    });
  }
}

/** Whether a process with this pid exists (a zombie counts until reaped). */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A `temporal-breaker worker` child process. */
export class FleetWorker {
  private text = '';
  readonly exited: Promise<Exit>;
  readonly startedAt = Date.now();
  /** Set when the test stopped or killed this worker on purpose. */
  private ending: 'stop' | 'kill' | null = null;
  private exitInfo: Exit | null = null;

  constructor(
    readonly label: string,
    readonly child: ChildProcess,
  ) {
    child.stdout?.on('data', (c: Buffer) => (this.text += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (this.text += c.toString()));
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      }),
    );
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get alive(): boolean {
    return this.exitInfo === null;
  }

  /** Exited without the test asking it to (a crash). */
  get crashed(): boolean {
    return this.exitInfo !== null && this.ending === null;
  }

  get exit(): Exit | null {
    return this.exitInfo;
  }

  get output(): string {
    return this.text;
  }

  lines(): LogLine[] {
    return parseLines(this.text);
  }

  /** The output's last lines, for failure messages. */
  tail(n = 40): string {
    return this.text.split('\n').slice(-n).join('\n');
  }

  /** Resolves with the first line matching `predicate`; fails if the worker exits first or on timeout. */
  async waitForLine(predicate: (l: LogLine) => boolean, what: string, timeoutMs = 60_000): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.lines().find(predicate);
      if (hit) return hit;
      if (!this.alive) throw new Error(`worker ${this.label} (pid ${this.pid}) exited (${JSON.stringify(this.exitInfo)}) before ${what}:\n${this.tail()}`);
      if (Date.now() > deadline) throw new Error(`worker ${this.label} (pid ${this.pid}): no ${what} within ${timeoutMs} ms:\n${this.tail()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Waits for `worker running` (the worker polls its task queue and its breaker workflows exist). */
  ready(timeoutMs = 90_000): Promise<LogLine> {
    return this.waitForLine((l) => l.msg === 'worker running', "'worker running'", timeoutMs);
  }

  /** SIGTERM (graceful shutdown), SIGKILL after `graceMs`. */
  async stop(graceMs = 20_000): Promise<Exit & { killed: boolean }> {
    this.ending ??= 'stop';
    if (!this.alive) return { ...(await this.exited), killed: false };
    this.child.kill('SIGTERM');
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      this.child.kill('SIGKILL');
    }, graceMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return { ...exit, killed };
  }

  /** Kills abruptly (default SIGKILL: no shutdown code runs); resolves when the process is gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<Exit> {
    this.ending ??= 'kill';
    if (!this.alive) return this.exited;
    this.child.kill(signal);
    return this.exited;
  }
}

/** Worker processes sharing one base environment. */
export class Fleet {
  readonly workers: FleetWorker[] = [];
  private seq = 0;

  constructor(readonly baseEnv: EnvVars) {}

  /** Starts one worker (not waiting for it to be ready). */
  start(extraEnv: EnvVars = {}, label = `w${++this.seq}`): FleetWorker {
    const child = spawn(process.execPath, [CLI, 'worker'], {
      cwd: repoRoot,
      env: cleanEnv({ TCB_LOG_LEVEL: 'info', ...this.baseEnv, ...extraEnv }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    register(child);
    const w = new FleetWorker(label, child);
    this.workers.push(w);
    return w;
  }

  /** Starts `n` workers and waits until each is running. */
  async startReady(n: number, extraEnv: EnvVars = {}): Promise<FleetWorker[]> {
    const started = Array.from({ length: n }, () => this.start(extraEnv));
    await Promise.all(started.map((w) => w.ready()));
    return started;
  }

  get alive(): FleetWorker[] {
    return this.workers.filter((w) => w.alive);
  }

  /** Workers that exited without being asked to. */
  get crashed(): FleetWorker[] {
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

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Non-empty lines of stderr. */
  errorLines: string[];
  ms: number;
}

/** Runs `temporal-breaker <args>` to completion with a clean environment plus `vars`. */
export function runCli(args: string[], vars: EnvVars = {}, timeoutMs = 60_000): Promise<CliRun> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: repoRoot, env: cleanEnv(vars), stdio: ['ignore', 'pipe', 'pipe'] });
    register(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) {
        reject(new Error(`temporal-breaker ${args.join(' ')} did not finish within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
        return;
      }
      resolve({ code, signal, stdout, stderr, errorLines: stderr.split('\n').filter((l) => l.trim() !== ''), ms: Date.now() - started });
    });
  });
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
export function activityFailures(w: FleetWorker): ActivityFailure[] {
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
