import Table from 'cli-table3';
import type { BreakerStatus } from '..';
import { BreakerClient, breakerWorkflowId, isUnknownBreakerError } from '../client';
import type { AppConfig } from '../config/schema';
import { CliError } from './temporal-client';

const own = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);

export function checkBreakerName(config: AppConfig, name: string): void {
  if (!own(config.breakers, name)) {
    throw new CliError(`unknown breaker '${name}' (configured: ${Object.keys(config.breakers).join(', ')})`);
  }
}

/** The library's client, with a CLI's errors: one line naming the breaker and what to do. */
export async function withBreakers<T>(breakers: BreakerClient, name: string, run: (b: BreakerClient) => Promise<T>): Promise<T> {
  try {
    return await run(breakers);
  } catch (e) {
    // The name was checked against the configuration first: unknown here means its workflow is not running.
    if (isUnknownBreakerError(e)) throw new CliError(`breaker workflow '${breakerWorkflowId(name)}' is not running: start a worker (temporal-breaker worker)`);
    throw new CliError(`${name}: ${(e as Error).message.split('\n')[0]}`);
  }
}

export function breakerClient(client: ConstructorParameters<typeof BreakerClient>[0]['client'], config: AppConfig): BreakerClient {
  return new BreakerClient({ client, taskQueue: config.temporal.taskQueue, breakers: Object.keys(config.breakers) });
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
