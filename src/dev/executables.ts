/**
 * Where the Temporal servers for tests and the demo come from.
 *
 * `scripts/provision.sh` (`npm run provision`) builds the Temporal CLI (dev server) and wraps the
 * Java time-skipping test server for machines that cannot download them; it writes env.sh
 * exporting TEMPORAL_CLI_PATH / TEMPORAL_TEST_SERVER_PATH and links both into
 * `${XDG_CACHE_HOME:-~/.cache}/temporal-circuit-breaker/bin/`. The order here:
 *   1. the env var, when set (it must point at an executable: a wrong path is an error);
 *   2. the default cache location, when the provisioned executable is there;
 *   3. otherwise nothing: the SDK downloads its own server (works on a machine with internet).
 */
import { accessSync, constants } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export type TemporalServerKind = 'dev-server' | 'time-skipping';

/** Shape accepted by `@temporalio/testing` as `server.executable`. */
export interface ExistingPathExecutable {
  type: 'existing-path';
  path: string;
}

export interface ResolvedServerExecutable {
  kind: TemporalServerKind;
  /** Pass as `server.executable`; undefined means "let the SDK download it". */
  executable: ExistingPathExecutable | undefined;
  source: 'env' | 'provisioned-cache' | 'sdk-download';
  /** One line for logs: which executable, found how. */
  description: string;
}

export const PROVISION_HINT =
  'Run `npm run provision` (scripts/provision.sh) to build the Temporal CLI and the time-skipping test server ' +
  'from the Go module proxy and Maven Central, then `. ~/.cache/temporal-circuit-breaker/env.sh` ' +
  '(or rely on the default cache location). On a machine with internet the SDK downloads the servers itself.';

const ENV_VAR: Record<TemporalServerKind, string> = {
  'dev-server': 'TEMPORAL_CLI_PATH',
  'time-skipping': 'TEMPORAL_TEST_SERVER_PATH',
};

const CACHE_BIN_NAME: Record<TemporalServerKind, string> = {
  'dev-server': 'temporal',
  'time-skipping': 'temporal-test-server',
};

/** The provisioning cache directory (same rule as scripts/provision.sh). */
export function provisionCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TCB_CACHE_DIR) return env.TCB_CACHE_DIR;
  const base = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'temporal-circuit-breaker');
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function resolveServerExecutable(
  kind: TemporalServerKind,
  env: NodeJS.ProcessEnv = process.env,
): ResolvedServerExecutable {
  const envVar = ENV_VAR[kind];
  const fromEnv = env[envVar];
  if (fromEnv) {
    if (!isExecutable(fromEnv)) {
      throw new Error(`${envVar}=${fromEnv} is not an executable file. ${PROVISION_HINT}`);
    }
    return {
      kind,
      executable: { type: 'existing-path', path: fromEnv },
      source: 'env',
      description: `${fromEnv} (from ${envVar})`,
    };
  }
  const cached = join(provisionCacheDir(env), 'bin', CACHE_BIN_NAME[kind]);
  if (isExecutable(cached)) {
    return {
      kind,
      executable: { type: 'existing-path', path: cached },
      source: 'provisioned-cache',
      description: `${cached} (provisioned cache; ${envVar} unset)`,
    };
  }
  return {
    kind,
    executable: undefined,
    source: 'sdk-download',
    description: `the SDK's own download (${envVar} unset, nothing at ${cached})`,
  };
}
