import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import Table from 'cli-table3';
import type { BreakerCommand } from '../breaker/permit';
import type { BreakerStatus } from '../breaker/status';
import type { AppConfig } from '../config/schema';
import { breakerWorkflowId } from '../temporal/names';
import { CliError } from './temporal-client';

export function checkBreakerName(config: AppConfig, name: string): void {
  if (!(name in config.breakers)) {
    throw new CliError(`unknown breaker '${name}' (configured: ${Object.keys(config.breakers).join(', ')})`);
  }
}

async function update<T>(client: Client, name: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (e instanceof WorkflowNotFoundError || /not found/i.test((e as Error).message)) {
      throw new CliError(`breaker workflow '${breakerWorkflowId(name)}' is not running: start a worker (temporal-breaker worker)`);
    }
    if (e instanceof WorkflowUpdateFailedError) throw new CliError(`${name}: ${(e.cause as Error | undefined)?.message ?? e.message}`);
    throw new CliError(`${name}: ${(e as Error).message.split('\n')[0]}`);
  }
}

/** The exact current status, read from the store through the breaker's workflow. */
export function fetchStatus(client: Client, name: string): Promise<BreakerStatus> {
  return update(client, name, () => client.workflow.getHandle(breakerWorkflowId(name)).executeUpdate<BreakerStatus, []>('refreshStatus'));
}

export function sendCommand(client: Client, name: string, command: BreakerCommand, reason?: string): Promise<BreakerStatus> {
  return update(client, name, () =>
    client.workflow.getHandle(breakerWorkflowId(name)).executeUpdate<BreakerStatus, [{ command: BreakerCommand; reason?: string }]>('command', {
      args: [{ command, reason }],
    }),
  );
}

export function statusTable(statuses: BreakerStatus[]): string {
  // Colours only on a terminal (cli-table3's colours look at TERM, not at whether stdout is one).
  const plain = !process.stdout.isTTY || 'NO_COLOR' in process.env;
  const table = new Table({
    head: ['breaker', 'state', 'failures', 'timeout s', 'open until', 'opens', 'recoveries ok/failed', 'health'],
    ...(plain ? { style: { head: [], border: [] } } : {}),
  });
  for (const s of statuses) {
    table.push([
      s.collector_name,
      s.forced ? `${s.state} (forced)` : s.state,
      `${s.failure_count}/${s.failure_threshold}`,
      s.timeout_seconds,
      s.open_until ?? '',
      s.statistics.circuit_opens,
      `${s.statistics.successful_recoveries}/${s.statistics.failed_recoveries}`,
      s.health_score.toFixed(3),
    ]);
  }
  return table.toString();
}
