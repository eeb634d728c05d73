// `temporal-circuit-breaker/workflows` must build into Temporal's workflow sandbox on its own:
// the SDK's bundler (as a user's Worker runs it) rejects any Node-only module reachable from it.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/paths';

const errors: string[] = [];
const quiet = { trace() {}, debug() {}, info() {}, warn() {}, log() {}, error: (m: string, meta?: unknown) => errors.push(`${m} ${JSON.stringify(meta ?? '')}`) };
// Inside the repository (test/artifacts is ignored by git), so the bundler resolves our packages.
mkdirSync(join(repoRoot, 'test/artifacts'), { recursive: true });
const dir = mkdtempSync(join(repoRoot, 'test/artifacts/wf-entry-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the workflows entry point', () => {
  it('bundles alone, re-exported as a user does, with nothing Node-only reachable', async () => {
    const userWorkflows = join(dir, 'workflows.ts');
    writeFileSync(userWorkflows, `export { circuitBreakerWorkflow } from ${JSON.stringify(join(repoRoot, 'src/workflows'))};\n`);
    errors.length = 0;
    const { code } = await bundleWorkflowCode({ workflowsPath: userWorkflows, logger: quiet as never }).catch((e: Error) => {
      throw new Error(`${e.message}\n${errors.join('\n')}`);
    });
    expect(code).toContain('circuitBreakerWorkflow');
    expect(code).not.toMatch(/require\(["']ioredis["']\)/);
  }, 60_000);

  it('the check can fail: a Node import reachable from workflow code is refused', async () => {
    const bad = join(dir, 'bad.ts');
    writeFileSync(bad, `import { readFileSync } from 'node:fs';\nexport async function badWorkflow() { return readFileSync('/etc/hostname', 'utf8'); }\n`);
    errors.length = 0;
    await expect(bundleWorkflowCode({ workflowsPath: bad, logger: quiet as never })).rejects.toThrow();
    expect(errors.join('\n')).toMatch(/node:fs|\bfs\b/);
  }, 60_000);
});
