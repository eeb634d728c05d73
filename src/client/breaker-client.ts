import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { breakerNameProblem } from '../breaker/config';
import { UnknownBreakerError } from '../breaker/errors';
import type { BreakerCommand } from '../breaker/permit';
import type { BreakerStatus } from '../breaker/status';
import { BREAKER_WORKFLOW_TYPE, breakerWorkflowId } from '../temporal/names';
import type { AuditEntry } from '../../workflows/circuit-breaker';

export interface BreakerClientOptions {
  client: Client;
  /** The task queue the breaker workflows run on (the plugin starts them on its worker's); `list()` looks only there. */
  taskQueue?: string;
  /** The breaker names you configured: a name outside them is rejected without a server call, and `list()` lists exactly them. */
  breakers?: Iterable<string>;
}

/** Longest reason kept with a command (the breaker workflow keeps the same bound for signals). */
export const MAX_REASON_LENGTH = 500;
/** Most breakers `list()` reads. */
export const MAX_LISTED_BREAKERS = 1000;

/**
 * Operators' commands, for your own tooling. Each command is a workflow update of the breaker's
 * workflow: it answers with the breaker's new status once the shared store has applied it, and
 * it is recorded in that workflow's history (the audit log).
 */
export class BreakerClient {
  private readonly client: Client;
  private readonly taskQueue?: string;
  private readonly known?: ReadonlySet<string>;

  constructor(options: BreakerClientOptions) {
    if (!options?.client) throw new TypeError('BreakerClient: `client` (a @temporalio/client Client) is required');
    this.client = options.client;
    this.taskQueue = options.taskQueue;
    this.known = options.breakers === undefined ? undefined : new Set(options.breakers);
  }

  /** The exact current status, read from the store through the breaker's workflow. */
  status(name: string): Promise<BreakerStatus> {
    return this.call(name, (h) => h.executeUpdate<BreakerStatus, []>('refreshStatus'));
  }

  /** The status of every breaker: the configured ones, or those whose workflow runs (on `taskQueue`). */
  async list(): Promise<BreakerStatus[]> {
    const names = this.known ? [...this.known] : await this.runningBreakers();
    const statuses: BreakerStatus[] = [];
    for (const name of names.sort()) statuses.push(await this.status(name));
    return statuses;
  }

  forceOpen(name: string, reason?: string): Promise<BreakerStatus> {
    return this.command(name, 'forceOpen', reason);
  }

  forceClose(name: string, reason?: string): Promise<BreakerStatus> {
    return this.command(name, 'forceClose', reason);
  }

  reset(name: string, reason?: string): Promise<BreakerStatus> {
    return this.command(name, 'reset', reason);
  }

  /** The breaker workflow's audit trail of this run: commands, transitions, probes, rejected inputs (oldest first). */
  audit(name: string): Promise<AuditEntry[]> {
    return this.call(name, (h) => h.query<AuditEntry[]>('audit'));
  }

  async command(name: string, command: BreakerCommand, reason?: string): Promise<BreakerStatus> {
    if (reason !== undefined && typeof reason !== 'string') throw new TypeError(`reason must be a string, got ${typeof reason}`);
    if (reason !== undefined && reason.length > MAX_REASON_LENGTH) {
      throw new RangeError(`reason is ${reason.length} characters long; at most ${MAX_REASON_LENGTH}`);
    }
    return this.call(name, (h) =>
      h.executeUpdate<BreakerStatus, [{ command: BreakerCommand; reason?: string }]>('command', { args: [{ command, ...(reason ? { reason } : {}) }] }),
    );
  }

  private async runningBreakers(): Promise<string[]> {
    const query = `WorkflowType = '${BREAKER_WORKFLOW_TYPE}' AND ExecutionStatus = 'Running'` + (this.taskQueue ? ` AND TaskQueue = '${this.taskQueue.replace(/'/g, "\\'")}'` : '');
    const prefix = breakerWorkflowId('');
    const names: string[] = [];
    for await (const w of this.client.workflow.list({ query })) {
      if (w.workflowId.startsWith(prefix)) names.push(w.workflowId.slice(prefix.length));
      if (names.length >= MAX_LISTED_BREAKERS) break;
    }
    return names;
  }

  private async call<T>(name: string, run: (handle: ReturnType<Client['workflow']['getHandle']>) => Promise<T>): Promise<T> {
    this.check(name);
    try {
      return await run(this.client.workflow.getHandle(breakerWorkflowId(name)));
    } catch (e) {
      if (e instanceof WorkflowNotFoundError || /workflow (execution )?(not found|already completed)|not found/i.test((e as Error).message ?? '')) {
        throw new UnknownBreakerError(name, this.known, `no breaker workflow '${breakerWorkflowId(name)}' is running (a worker with CircuitBreakerPlugin configured for it starts it)`);
      }
      if (e instanceof WorkflowUpdateFailedError) throw new Error(`breaker '${name}': ${(e.cause as Error | undefined)?.message ?? e.message}`, { cause: e });
      throw e;
    }
  }

  private check(name: string): void {
    const problem = breakerNameProblem(name);
    if (problem) {
      const shown = String(name).length > 80 ? `${String(name).slice(0, 80)}…` : String(name);
      throw new UnknownBreakerError(shown, this.known, `not a breaker name (${problem})`);
    }
    if (this.known && !this.known.has(name)) throw new UnknownBreakerError(name, this.known);
  }
}
