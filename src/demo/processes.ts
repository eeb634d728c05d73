/**
 * Child processes the demo starts (Temporal dev server, redis-server): each in its own process
 * group, so a Ctrl-C in the terminal reaches the demo only and the demo stops them in order.
 * Whatever happens to the demo afterwards, a process still running when Node exits is killed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { connect, createServer } from 'node:net';
import { freePort } from '../dev/net';
import { delimiter, join } from 'node:path';

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly command: string;
  /** Resolves when the process has exited. */
  readonly exited: Promise<void>;
  /** Has it exited? */
  readonly done: () => boolean;
  /** The last few KB of its output (for error messages). */
  output(): string;
  /** SIGTERM to its process group, SIGKILL after `graceMs`; resolves when it is gone. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

const live = new Set<ManagedProcess>();
let exitHookInstalled = false;

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort (an uncaught error, process.exit): never leave a server behind.
  process.on('exit', () => {
    for (const p of live) if (!p.done()) killGroup(p.pid, 'SIGKILL');
  });
}

/** Spawns `command` in its own process group, capturing its output. Rejects if it cannot be spawned. */
export async function spawnManaged(name: string, command: string, args: string[]): Promise<ManagedProcess> {
  installExitHook();
  const child: ChildProcess = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-8192);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', () => resolve());
    child.once('error', (e) => reject(e));
  });
  let isDone = false;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      isDone = true;
      live.delete(managed);
      resolve();
    });
  });
  let stopping: Promise<void> | undefined;
  const managed: ManagedProcess = {
    name,
    pid: child.pid!,
    command: [command, ...args].join(' '),
    exited,
    done: () => isDone,
    output: () => tail.trim(),
    stop(graceMs = 5000) {
      stopping ??= (async () => {
        if (isDone) return;
        killGroup(child.pid!, 'SIGTERM');
        const timer = setTimeout(() => killGroup(child.pid!, 'SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
  live.add(managed);
  return managed;
}

/** The first executable called `name` on PATH, or null. */
export function findOnPath(name: string, env: NodeJS.ProcessEnv = process.env): string | null {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}


/** Can we bind `port` on 127.0.0.1 and does nobody answer on localhost? */
export { freePort };

/** Can we bind `port` on 127.0.0.1 and does nobody answer on localhost? */
export async function portIsFree(port: number): Promise<boolean> {
  const bindable = await new Promise<boolean>((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
  if (!bindable) return false;
  // Something may listen on another address of localhost (::1, 0.0.0.0).
  return !(await portAnswers(port));
}

/** Does anything accept a TCP connection on localhost:port? */
export function portAnswers(port: number, host = 'localhost'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => done(true));
  });
}

/** `preferred` when it is free, else any free port. */
export async function preferPort(preferred: number): Promise<number> {
  return (await portIsFree(preferred)) ? preferred : freePort();
}

export const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
