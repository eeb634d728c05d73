import { Client } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { connectionOptions, explainConnectError, loadTemporalConnectSettings, type TemporalConnectSettings } from '../client';
import type { AppConfig } from '../config/schema';

export class CliError extends Error {
  override readonly name = 'CliError';
}

/**
 * The Temporal connection settings of the app: the SDK's client configuration (a temporal.toml
 * profile, TEMPORAL_API_KEY, TEMPORAL_TLS_*) with the configuration's address and namespace.
 * A bad setting is a CliError naming it.
 */
export function temporalSettings(config: AppConfig, env: NodeJS.ProcessEnv = process.env): TemporalConnectSettings {
  try {
    return loadTemporalConnectSettings({ env, address: config.temporal.address, namespace: config.temporal.namespace });
  } catch (e) {
    throw new CliError((e as Error).message);
  }
}

/** A native (Core) connection, or a one-line CliError naming the server and the setting to check. */
export async function connectNative(settings: TemporalConnectSettings): Promise<NativeConnection> {
  try {
    return await NativeConnection.connect(connectionOptions(settings));
  } catch (e) {
    throw new CliError(explainConnectError(e, settings));
  }
}

/** A client, or a one-line error naming the server that could not be reached and the setting to check. */
export async function connectClient(config: AppConfig, env: NodeJS.ProcessEnv = process.env): Promise<{ client: Client; connection: NativeConnection }> {
  const settings = temporalSettings(config, env);
  // The CLI's own runtime: Core's log lines stay out of the one-line errors.
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR'), telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } }, shutdownSignals: [] });
  } catch {
    // a runtime exists already in this process (the demo, a test): keep it
  }
  const connection = await connectNative(settings);
  return { client: new Client({ connection, namespace: settings.namespace }), connection };
}
