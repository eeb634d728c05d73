/**
 * The demo's local Temporal server: the Temporal CLI dev server (`temporal server start-dev`),
 * started from the provisioned executable (TEMPORAL_CLI_PATH or the provisioning cache) with the
 * BreakerState search attribute and, unless --no-ui, the Web UI. Without a provisioned CLI, the
 * SDK's test environment downloads one (needs internet and the dev dependencies).
 */
import { Connection } from '@temporalio/client';
import { PROVISION_HINT, resolveServerExecutable } from '../dev/executables';
import { BREAKER_STATE_ATTRIBUTE } from '../client';
import { portAnswers, preferPort, sleep, spawnManaged, type ManagedProcess } from './processes';

export interface DemoTemporal {
  /** host:port of the frontend. */
  address: string;
  /** Web UI base URL, or null without UI. */
  uiUrl: string | null;
  /** The process we started (null when the SDK started it). */
  process: ManagedProcess | null;
  /** Path of the Temporal CLI, when known (for the `temporal workflow signal` command). */
  cliPath: string | null;
  /** Which executable, found how. */
  description: string;
  stop(): Promise<void>;
}

export interface DevServerOptions {
  ui: boolean;
  namespace: string;
  signal: AbortSignal;
  env?: NodeJS.ProcessEnv;
}

const READY_TIMEOUT_MS = 60_000;

/** Resolves once the frontend answers for the namespace; rejects when `failed()` says why it never will. */
async function waitUntilReady(address: string, namespace: string, signal: AbortSignal, failed: () => string | null): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  const port = Number(address.split(':').pop());
  for (;;) {
    if (signal.aborted) throw new Error('aborted');
    const why = failed();
    if (why) throw new Error(why);
    if (Date.now() > deadline) throw new Error(`the Temporal dev server did not answer on ${address} within ${READY_TIMEOUT_MS / 1000} s`);
    if (await portAnswers(port, '127.0.0.1')) {
      let connection: Connection | undefined;
      try {
        connection = await Connection.connect({ address, connectTimeout: 2_000 });
        await connection.workflowService.describeNamespace({ namespace });
        return;
      } catch {
        // not ready yet
      } finally {
        await connection?.close().catch(() => undefined);
      }
    }
    await sleep(100, signal);
  }
}

export async function startDevServer(opts: DevServerOptions): Promise<DemoTemporal> {
  const resolved = resolveServerExecutable('dev-server', opts.env ?? process.env);
  if (!resolved.executable) return startWithSdk(opts, resolved.description);

  const cli = resolved.executable.path;
  const port = await preferPort(7233);
  const uiPort = opts.ui ? await preferPort(port + 1000 <= 65535 ? port + 1000 : 8233) : null;
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port)];
  if (uiPort !== null) args.push('--ui-port', String(uiPort));
  else args.push('--headless');
  if (opts.namespace !== 'default') args.push('--namespace', opts.namespace);
  args.push('--search-attribute', `${BREAKER_STATE_ATTRIBUTE}=Keyword`, '--log-level', 'error');

  const proc = await spawnManaged('temporal dev server', cli, args);
  const address = `127.0.0.1:${port}`;
  try {
    await waitUntilReady(address, opts.namespace, opts.signal, () =>
      proc.done() ? `the Temporal dev server (${cli}) exited during startup: ${proc.output() || 'no output'}` : null,
    );
  } catch (e) {
    await proc.stop(2000);
    throw e;
  }
  return {
    address,
    uiUrl: uiPort !== null ? `http://127.0.0.1:${uiPort}` : null,
    process: proc,
    cliPath: cli,
    description: resolved.description,
    stop: () => proc.stop(),
  };
}

/** No provisioned CLI: the SDK's ephemeral dev server (it downloads the CLI once, then caches it). */
async function startWithSdk(opts: DevServerOptions, description: string): Promise<DemoTemporal> {
  let testing: typeof import('@temporalio/testing');
  try {
    testing = await import('@temporalio/testing');
  } catch (e) {
    throw new Error(`no Temporal CLI found (${description}) and @temporalio/testing is not installed: ${(e as Error).message}. ${PROVISION_HINT}`);
  }
  const uiPort = opts.ui ? await preferPort(8233) : undefined;
  let env: import('@temporalio/testing').TestWorkflowEnvironment;
  try {
    env = await testing.TestWorkflowEnvironment.createLocal({
      server: {
        ip: '127.0.0.1',
        ui: opts.ui,
        ...(uiPort ? { uiPort } : {}),
        namespace: opts.namespace,
        extraArgs: ['--search-attribute', `${BREAKER_STATE_ATTRIBUTE}=Keyword`],
      },
    });
  } catch (e) {
    throw new Error(`could not start a Temporal dev server from ${description}: ${(e as Error).message}. ${PROVISION_HINT}`);
  }
  return {
    address: env.address,
    uiUrl: uiPort ? `http://127.0.0.1:${uiPort}` : null,
    process: null,
    cliPath: null,
    description,
    stop: () => env.teardown(),
  };
}
