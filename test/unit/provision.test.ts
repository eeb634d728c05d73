// Provisioning on first use (src/dev/provision.ts): `npm start` and `npm test` on a fresh clone
// run scripts/provision.sh themselves when a server they need is missing, and only then.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { missingServers, provisionIfMissing, PROVISION_SCRIPT } from '../../src/dev/provision';

const root = mkdtempSync(join(tmpdir(), 'tcb-provision-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** An environment whose cache and PATH hold exactly `present`. */
function machine(present: ('temporal' | 'temporal-test-server' | 'redis-server' | 'chromium')[]): NodeJS.ProcessEnv {
  const dir = mkdtempSync(join(root, 'm-'));
  mkdirSync(join(dir, 'cache/bin'), { recursive: true });
  mkdirSync(join(dir, 'path'));
  for (const p of present) {
    const file = p.startsWith('temporal') ? join(dir, 'cache/bin', p) : join(dir, 'path', p);
    writeFileSync(file, '#!/bin/sh\n');
    chmodSync(file, 0o755);
  }
  return { TCB_CACHE_DIR: join(dir, 'cache'), PATH: join(dir, 'path') };
}

describe('provisioning on first use', () => {
  it('names what a fresh machine lacks', () => {
    expect(missingServers({ temporal: ['dev-server', 'time-skipping'], redis: true, browser: true }, machine([]))).toEqual([
      'the Temporal CLI (dev server)',
      'the time-skipping test server',
      'redis-server',
      'chromium (for the Web UI browser test)',
    ]);
  });

  it('finds nothing missing on a provisioned machine, and asks only for what is needed', () => {
    const all = machine(['temporal', 'temporal-test-server', 'redis-server', 'chromium']);
    expect(missingServers({ temporal: ['dev-server', 'time-skipping'], redis: true, browser: true }, all)).toEqual([]);
    const onlyCli = machine(['temporal']);
    expect(missingServers({ temporal: ['dev-server'], redis: false }, onlyCli)).toEqual([]);
    // REDIS_URL set: the user's Redis, no redis-server needed.
    expect(missingServers({ redis: true }, { ...machine([]), REDIS_URL: 'redis://127.0.0.1:6379' })).toEqual([]);
  });

  it('runs nothing when nothing is missing, and can be turned off', () => {
    const said: string[] = [];
    expect(provisionIfMissing({ temporal: ['dev-server'] }, (l) => said.push(l), machine(['temporal']))).toEqual([]);
    expect(provisionIfMissing({ temporal: ['dev-server'] }, (l) => said.push(l), { ...machine([]), TCB_NO_AUTO_PROVISION: '1' })).toEqual(['the Temporal CLI (dev server)']);
    expect(said).toEqual([]);
  });

  it('uses the repository script', () => {
    expect(PROVISION_SCRIPT).toMatch(/scripts\/provision\.sh$/);
  });
});
