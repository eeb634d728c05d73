/**
 * Child processes for the end-to-end tests: the CLI (`node bin/temporal-breaker.js …`) run once
 * to completion, and long-running `worker` processes whose output is kept for assertions.
 *
 * The child's environment is the parent's without any variable the configuration reads
 * (ENV_VARS), plus exactly what the test passes: a developer's own TEMPORAL_ADDRESS or
 * BREAKER_* settings never leak into a test. Every worker started here is registered, so
 * `stopAllWorkers()` in an afterAll leaves no process behind (and an exit hook SIGKILLs any still
 * running if the test process ends first).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { ENV_VARS } from '../../src/config/env';
import { PROVIDERS, type Provider } from '../../src/providers';
import { repoRoot } from './paths';

export const CLI_BIN = join(repoRoot, 'bin/temporal-breaker.js');

export type ChildEnv = Record<string, string | undefined>;

/** The parent's environment without configuration variables, overlaid with `vars`. */
export function childEnv(vars: ChildEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const v of ENV_VARS) delete env[v.name];
  // Output as on a plain pipe: no colour codes (vitest's FORCE_COLOR would put them in tables).
  delete env.FORCE_COLOR;
  delete env.TCB_LOG_LEVEL;
  env.NO_COLOR = '1';
  for (const [k, v] of Object.entries(vars)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** What a worker or CLI process needs to join a test deployment: server, queue, Redis, simulator. */
export interface DeploymentSpec {
  temporalAddress: string;
  taskQueue: string;
  redisUrl: string;
  keyPrefix: string;
  /** The upstream simulator's provider endpoints (`Simulator.providers`). */
  providers: Readonly<Record<Provider, { baseUrl: string; apiKey: string }>>;
  namespace?: string;
}

/** The configuration variables of a deployment (TCB_LOG_LEVEL=debug: every breaker line is kept). */
export function deploymentEnv(d: DeploymentSpec): Record<string, string> {
  const vars: Record<string, string> = {
    TEMPORAL_ADDRESS: d.temporalAddress,
    TEMPORAL_NAMESPACE: d.namespace ?? 'default',
    TEMPORAL_TASK_QUEUE: d.taskQueue,
    REDIS_URL: d.redisUrl,
    REDIS_KEY_PREFIX: d.keyPrefix,
    // A generous store timeout: these tests are about sharing state, not about the outage policy.
    REDIS_TIMEOUT_MS: '2000',
    TCB_LOG_LEVEL: 'debug',
  };
  for (const p of PROVIDERS) {
    vars[`${p.toUpperCase()}_BASE_URL`] = d.providers[p].baseUrl;
    vars[`${p.toUpperCase()}_API_KEY`] = d.providers[p].apiKey;
  }
  return vars;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Non-empty lines of stderr. */
  errorLines: string[];
  /** Wall time from spawn to exit. */
  ms: number;
}

/** Runs `temporal-breaker <args>` to completion (killed after `timeoutMs`) with a clean environment plus `vars`. */
export function runCli(args: string[], vars: ChildEnv = {}, timeoutMs = 60_000): Promise<CliResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_BIN, ...args], { cwd: repoRoot, env: childEnv(vars), stdio: ['ignore', 'pipe', 'pipe'] });
    track(child);
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

/** One line of a worker's output: the JSON log fields (src/log/logger.ts) when it is a JSON line, always the raw text. */
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

const children = new Set<ChildProcess>();
const workers = new Set<WorkerProcess>();
// If the test process goes away without its afterAll (a crash, a timeout), take the children along.
process.once('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});
function track(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
}

/** A `temporal-breaker worker` child process; its output (stdout and stderr, in arrival order) is kept. */
export class WorkerProcess {
  private text = '';
  readonly exited: Promise<Exit>;
  readonly startedAt = Date.now();
  /** Set when the test stopped or killed this worker on purpose. */
  private ending: 'stop' | 'kill' | null = null;
  private exitInfo: Exit | null = null;

  private constructor(
    readonly label: string,
    readonly child: ChildProcess,
  ) {
    child.stdout?.on('data', (c: Buffer) => (this.text += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (this.text += c.toString()));
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        workers.delete(this);
        resolve(this.exitInfo);
      }),
    );
  }

  static start(label: string, vars: ChildEnv): WorkerProcess {
    const child = spawn(process.execPath, [CLI_BIN, 'worker'], { cwd: repoRoot, env: childEnv(vars), stdio: ['ignore', 'pipe', 'pipe'] });
    track(child);
    const w = new WorkerProcess(label, child);
    workers.add(w);
    return w;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** The identity the SDK gives this worker by default (`pid@hostname`), as recorded in histories. */
  get identityPrefix(): string {
    return `${this.pid}@`;
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

  /** Every output line, parsed when it is a JSON log line. */
  lines(): LogLine[] {
    return parseLines(this.text);
  }

  /** The output's last lines, for failure messages. */
  tail(n = 60): string {
    return this.text.split('\n').slice(-n).join('\n');
  }

  /** Resolves with the first line matching `predicate`; fails when the worker exits first or on timeout. */
  async waitForLine(predicate: (l: LogLine) => boolean, what: string, timeoutMs = 60_000): Promise<LogLine> {
    let hit: LogLine | undefined;
    await this.waitUntil(() => (hit = this.lines().find(predicate)) !== undefined, what, timeoutMs);
    return hit!;
  }

  /** Resolves once the whole output so far satisfies `predicate` (output arrives through a pipe, a little late). */
  waitForOutput(predicate: (output: string) => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    return this.waitUntil(() => predicate(this.text), what, timeoutMs);
  }

  private async waitUntil(done: () => boolean, what: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (!this.alive) throw new Error(`worker ${this.label} (pid ${this.pid}) exited (${JSON.stringify(this.exitInfo)}) before ${what}:\n${this.tail()}`);
      if (Date.now() > deadline) throw new Error(`worker ${this.label} (pid ${this.pid}): no ${what} within ${timeoutMs} ms:\n${this.tail()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Waits for `worker running` (the worker polls its task queue and its breaker workflows exist). */
  ready(timeoutMs = 90_000): Promise<LogLine> {
    return this.waitForLine((l) => l.msg === 'worker running', "'worker running'", timeoutMs);
  }

  /** SIGTERM (graceful shutdown), SIGKILL after `graceMs`; `killed` says whether SIGKILL was needed. */
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

/** Stops every worker process still running (for afterAll). */
export async function stopAllWorkers(): Promise<void> {
  await Promise.all([...workers].map((w) => w.stop()));
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
