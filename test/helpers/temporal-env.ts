/**
 * Temporal test environments on real servers: the Java time-skipping test server and the
 * Temporal CLI dev server, as provisioned by `npm run provision` (see src/dev/executables.ts),
 * or the SDK's own download when nothing is provisioned. A server that cannot be started fails
 * the test with a message saying how to provision it; nothing is skipped.
 */
import {
  TestWorkflowEnvironment,
  type LocalTestWorkflowEnvironmentOptions,
  type TimeSkippingTestWorkflowEnvironmentOptions,
} from '@temporalio/testing';
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import {
  PROVISION_HINT,
  resolveServerExecutable,
  type ResolvedServerExecutable,
  type TemporalServerKind,
} from '../../src/dev/executables';

const usedExecutable = new WeakMap<TestWorkflowEnvironment, ResolvedServerExecutable>();

/** Which server executable an environment created here runs on. */
export function serverExecutableOf(env: TestWorkflowEnvironment): ResolvedServerExecutable | undefined {
  return usedExecutable.get(env);
}

/**
 * Workers log at WARN in tests (TEMPORAL_LOG_LEVEL=INFO|DEBUG|TRACE for more). The SDK runtime
 * is per process and installed once; when a test installed its own first, that one stays.
 */
function installTestRuntime(): void {
  const level = (process.env.TEMPORAL_LOG_LEVEL ?? 'ERROR').toUpperCase() as LogLevel;
  try {
    Runtime.install({ logger: new DefaultLogger(level) });
  } catch {
    // already installed in this process
  }
}

async function start(
  kind: TemporalServerKind,
  create: (resolved: ResolvedServerExecutable) => Promise<TestWorkflowEnvironment>,
): Promise<TestWorkflowEnvironment> {
  installTestRuntime();
  const resolved = resolveServerExecutable(kind);
  const label = kind === 'time-skipping' ? 'time-skipping test server' : 'dev server (Temporal CLI)';
  const started = Date.now();
  let env: TestWorkflowEnvironment;
  try {
    env = await create(resolved);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(
      `Could not start the Temporal ${label} from ${resolved.description}: ${reason}\n${PROVISION_HINT}`,
      { cause: err },
    );
  }
  usedExecutable.set(env, resolved);
  console.info(`[temporal-env] ${label} at ${env.address} in ${Date.now() - started} ms, executable: ${resolved.description}`);
  return env;
}

/** A time-skipping environment (Java test server): timers fire as soon as nothing else can happen. */
export function createTimeSkippingEnv(
  opts: TimeSkippingTestWorkflowEnvironmentOptions = {},
): Promise<TestWorkflowEnvironment> {
  return start('time-skipping', (resolved) =>
    TestWorkflowEnvironment.createTimeSkipping({
      ...opts,
      server: {
        ...opts.server,
        ...(resolved.executable && !opts.server?.executable ? { executable: resolved.executable } : {}),
      },
    }),
  );
}

/** A full local Temporal server (CLI dev server, in-memory SQLite); real time, no skipping. */
export function createDevServerEnv(opts: LocalTestWorkflowEnvironmentOptions = {}): Promise<TestWorkflowEnvironment> {
  return start('dev-server', (resolved) =>
    TestWorkflowEnvironment.createLocal({
      ...opts,
      server: {
        ...opts.server,
        ...(resolved.executable && !opts.server?.executable ? { executable: resolved.executable } : {}),
      },
    }),
  );
}
