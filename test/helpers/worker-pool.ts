/**
 * Forks test/helpers/contention-worker.ts children (run with tsx) and talks to them over IPC.
 * Used by the multi-process Redis tests.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { RunRequest, RunSummary, WorkerReply, WorkerRequest } from './contention-worker';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type Request = DistributiveOmit<WorkerRequest, 'id'>;

export const CONTENTION_WORKER = join(__dirname, 'contention-worker.ts');

export class WorkerProcess {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(readonly child: ChildProcess) {
    child.on('message', (m: WorkerReply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.value);
      else p.reject(new Error(`worker ${child.pid}: ${m.error}`));
    });
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        for (const p of this.pending.values()) p.reject(new Error(`worker ${child.pid} exited (${signal ?? code})`));
        this.pending.clear();
        resolve({ code, signal });
      });
    });
  }

  static start(): WorkerProcess {
    return new WorkerProcess(fork(CONTENTION_WORKER, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  request<T = unknown>(req: Request): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ ...req, id } as WorkerRequest, (err) => {
        if (err) {
          this.pending.delete(id);
          reject(err);
        }
      });
    });
  }

  run(req: Omit<RunRequest, 'op'>): Promise<RunSummary> {
    return this.request<RunSummary>({ op: 'run', ...req });
  }

  /** Asks the child to quit; kills it if it has not exited within 5 s. */
  async stop(): Promise<void> {
    if (!this.alive) return;
    this.request({ op: 'exit' }).catch(() => undefined);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await this.exited;
    clearTimeout(timer);
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!this.alive) return;
    this.child.kill(signal);
    await this.exited;
  }
}
