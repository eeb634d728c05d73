/**
 * Bundles the workflow code (workflows/index.ts) with the SDK's bundler, exactly as a Worker
 * would, and writes dist/workflow-bundle.js (usable as `workflowBundle: { codePath }`).
 * Fails (exit 1) when workflow code imports a disallowed module (fs, net, ioredis, ...).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';

const root = resolve(__dirname, '..');
const workflowsPath = resolve(root, 'workflows/index.ts');
const outFile = resolve(root, 'dist/workflow-bundle.js');

async function main(): Promise<void> {
  const started = Date.now();
  const { code } = await bundleWorkflowCode({
    workflowsPath,
    logger: {
      // keep the bundler's chatter out of the build log; warnings and errors still show
      log: () => undefined,
      trace: () => undefined,
      debug: () => undefined,
      info: () => undefined,
      warn: (message, meta) => console.warn(`[bundle-workflows] ${message}`, meta ?? ''),
      error: (message, meta) => console.error(`[bundle-workflows] ${message}`, meta ?? ''),
    },
  });
  await mkdir(dirname(outFile), { recursive: true });
  await writeFile(outFile, code);
  console.log(
    `[bundle-workflows] ${relative(root, workflowsPath)} -> ${relative(root, outFile)} ` +
      `(${Math.round(code.length / 1024)} KiB, ${Date.now() - started} ms)`,
  );
}

main().catch((err: unknown) => {
  console.error('[bundle-workflows] FAILED: the workflow bundle does not build.');
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
