import { Client, Connection } from '@temporalio/client';
import type { AppConfig } from '../config/schema';

export class CliError extends Error {
  override readonly name = 'CliError';
}

/** A client, or a one-line error naming the address that could not be reached. */
export async function connectClient(config: AppConfig): Promise<{ client: Client; connection: Connection }> {
  const address = config.temporal.address;
  let connection: Connection;
  try {
    connection = await Connection.connect({ address, connectTimeout: 5_000 });
  } catch (e) {
    throw new CliError(`cannot reach Temporal at ${address}: ${(e as Error).message.split('\n')[0]} (set TEMPORAL_ADDRESS)`);
  }
  return { client: new Client({ connection, namespace: config.temporal.namespace }), connection };
}
