import { resolve } from 'node:path';

/** The repository root. */
export const repoRoot = resolve(__dirname, '../..');
/** The workflow bundle entry, for `Worker.create({ workflowsPath })`. */
export const workflowsPath = resolve(repoRoot, 'workflows/index.ts');
