import { Client, Connection } from '@temporalio/client';
import { BreakerClient, type BreakerClientOptions } from './breaker-client';
import { connectionOptions, explainConnectError, loadTemporalConnectSettings, type LoadTemporalConnectOptions, type TemporalConnectSettings } from './connect-settings';

export class TemporalConnectError extends Error {
  override readonly name = 'TemporalConnectError';
}

export interface ConnectBreakerClientOptions extends LoadTemporalConnectOptions, Omit<BreakerClientOptions, 'client'> {
  /** How long to wait for the server (default 10 s). */
  connectTimeoutMs?: number;
}

export interface ConnectedBreakerClient {
  breakers: BreakerClient;
  client: Client;
  connection: Connection;
  settings: TemporalConnectSettings;
  close(): Promise<void>;
}

/**
 * A BreakerClient on a connection made from the SDK's client configuration (`@temporalio/envconfig`:
 * TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*, `temporal.toml` profiles).
 * A failure is a TemporalConnectError of one line naming the server and the setting to check.
 */
export async function connectBreakerClient(options: ConnectBreakerClientOptions = {}): Promise<ConnectedBreakerClient> {
  const { connectTimeoutMs = 10_000, taskQueue, breakers, ...load } = options;
  const settings = loadTemporalConnectSettings(load);
  let connection: Connection;
  try {
    connection = await Connection.connect({ ...connectionOptions(settings), connectTimeout: connectTimeoutMs });
  } catch (e) {
    throw new TemporalConnectError(explainConnectError(e, settings), { cause: e });
  }
  const client = new Client({ connection, namespace: settings.namespace });
  return {
    breakers: new BreakerClient({ client, taskQueue, breakers }),
    client,
    connection,
    settings,
    close: () => connection.close(),
  };
}
