/**
 * Provisioning on first use: `npm start` and `npm test` on a fresh clone run
 * scripts/provision.sh themselves when a server they need is missing (the Temporal CLI dev
 * server, the time-skipping test server, redis-server), with its progress lines on the
 * terminal, so a new user needs no third command. A provisioned machine pays one file check.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { resolveServerExecutable, type TemporalServerKind } from './executables';

/** The repository's provisioning script, when this is a clone (an installed package has none). */
export const PROVISION_SCRIPT = resolve(__dirname, '../../scripts/provision.sh');

function onPath(name: string, env: NodeJS.ProcessEnv): boolean {
  return (env.PATH ?? '').split(delimiter).some((dir) => {
    if (!dir) return false;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** What is missing of what `needs` names (empty: nothing to do). */
export function missingServers(
  needs: { temporal?: TemporalServerKind[]; redis?: boolean; browser?: boolean; /** nginx, redis-sentinel, openssl: the TLS, ACL and Sentinel tests */ secure?: boolean },
  env: NodeJS.ProcessEnv = process.env,
): string[] {
  const missing: string[] = [];
  for (const kind of needs.temporal ?? []) {
    let found = false;
    try {
      found = resolveServerExecutable(kind, env).source !== 'sdk-download';
    } catch {
      found = true; // a wrong *_PATH is the user's setting: resolveServerExecutable reports it where it is used
    }
    if (!found) missing.push(kind === 'dev-server' ? 'the Temporal CLI (dev server)' : 'the time-skipping test server');
  }
  if (needs.redis && !env.REDIS_URL && !onPath('redis-server', env)) missing.push('redis-server');
  if (needs.browser && !onPath('chromium', env)) missing.push('chromium (for the Web UI browser test)');
  if (needs.secure) for (const bin of ['nginx', 'redis-sentinel', 'openssl']) if (!onPath(bin, env) && !existsSync(`/usr/sbin/${bin}`)) missing.push(`${bin} (for the TLS / Sentinel tests)`);
  return missing;
}

/**
 * Runs scripts/provision.sh when something `needs` names is missing. Returns what was missing
 * (empty when nothing was). Throws, naming the log, when provisioning fails.
 */
export function provisionIfMissing(needs: Parameters<typeof missingServers>[0], say: (line: string) => void, env: NodeJS.ProcessEnv = process.env): string[] {
  const missing = missingServers(needs, env);
  if (missing.length === 0 || env.TCB_NO_AUTO_PROVISION === '1' || !existsSync(PROVISION_SCRIPT)) return missing;
  say(`missing ${missing.join(', ')}: provisioning now (scripts/provision.sh; the first build of the Temporal CLI takes a few minutes)`);
  const started = Date.now();
  const r = spawnSync('bash', [PROVISION_SCRIPT], { stdio: ['ignore', 'inherit', 'inherit'], env });
  if (r.status !== 0) throw new Error(`provisioning failed (scripts/provision.sh exited ${r.status ?? r.signal}); run \`npm run provision\` to see why`);
  say(`provisioned in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return missing;
}
