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
}

/** Runs `temporal-breaker <args>` to completion (killed after `timeoutMs`). */
export function runCli(args: string[], vars: ChildEnv = {}, timeoutMs = 30_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_BIN, ...args], { cwd: repoRoot, env: childEnv(vars), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL') {
        reject(new Error(`temporal-breaker ${args.join(' ')} did not finish within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
        return;
      }
      resolve({ code, signal, stdout, stderr, errorLines: stderr.split('\n').filter((l) => l.trim() !== '') });
    });
  });
}

/** One JSON log line of a worker (src/log/logger.ts), or the raw text when it is not JSON. */
export interface LogLine {
  level?: string;
  msg?: string;
  breaker?: string;
  [field: string]: unknown;
  raw: string;
}

const running = new Set<WorkerProcess>();
// If the test process goes away without its afterAll (a crash, a timeout), take the workers along.
process.once('exit', () => {
  for (const w of running) w.child.kill('SIGKILL');
});

/** A `temporal-breaker worker` child process. */
export class WorkerProcess {
  private out = '';
  private err = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(
    readonly label: string,
    readonly child: ChildProcess,
  ) {
    child.stdout?.on('data', (c: Buffer) => (this.out += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (this.err += c.toString()));
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    void this.exited.then(() => running.delete(this));
  }

  static start(label: string, vars: ChildEnv): WorkerProcess {
    const child = spawn(process.execPath, [CLI_BIN, 'worker'], { cwd: repoRoot, env: childEnv(vars), stdio: ['ignore', 'pipe', 'pipe'] });
    const w = new WorkerProcess(label, child);
    running.add(w);
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
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  get output(): string {
    return this.out + this.err;
  }

  /** Every output line, parsed when it is a JSON log line. */
  lines(): LogLine[] {
    return this.output
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((raw) => {
        try {
          const parsed = JSON.parse(raw) as unknown;
          if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return { ...(parsed as Record<string, unknown>), raw };
        } catch {
          // not a JSON line (the SDK's own logger, a stack trace)
        }
        return { raw };
      });
  }

  /** Resolves with the first line matching `predicate`; fails when the worker exits first or on timeout. */
  async waitForLine(predicate: (l: LogLine) => boolean, what: string, timeoutMs = 60_000): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.lines().find(predicate);
      if (hit) return hit;
      if (!this.alive) throw new Error(`worker ${this.label} (pid ${this.pid}) exited before ${what}:\n${this.output}`);
      if (Date.now() > deadline) throw new Error(`worker ${this.label} (pid ${this.pid}): no ${what} within ${timeoutMs} ms:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Resolves once the whole output so far satisfies `predicate` (output arrives through a pipe, a little late). */
  async waitForOutput(predicate: (output: string) => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.output)) {
      if (!this.alive) throw new Error(`worker ${this.label} (pid ${this.pid}) exited before ${what}:\n${this.output}`);
      if (Date.now() > deadline) throw new Error(`worker ${this.label} (pid ${this.pid}): no ${what} within ${timeoutMs} ms:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Waits for the worker's `worker running` line (its breaker workflows are started by then). */
  ready(timeoutMs = 60_000): Promise<LogLine> {
    return this.waitForLine((l) => l.msg === 'worker running', 'worker running', timeoutMs);
  }

  /**
   * SIGTERM (the worker shuts down gracefully), then SIGKILL after `graceMs`. Resolves with how it
   * ended; `killed` says whether SIGKILL was needed.
   */
  async stop(graceMs = 15_000): Promise<{ code: number | null; signal: NodeJS.Signals | null; killed: boolean }> {
    if (!this.alive) return { ...(await this.exited), killed: false };
    this.child.kill('SIGTERM');
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      this.child.kill('SIGKILL');
    }, graceMs);
    const result = await this.exited;
    clearTimeout(timer);
    return { ...result, killed };
  }
}

/** Stops every worker process still running (for afterAll). */
export async function stopAllWorkers(): Promise<void> {
  await Promise.all([...running].map((w) => w.stop()));
}

/** Whether a process with this pid still exists. */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
