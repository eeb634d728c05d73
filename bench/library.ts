/**
 * The library as the store bench measures it: the compiled package (dist/src, built by
 * `npm run build:lib`), as users run it. Under tsx the TypeScript sources carry esbuild's
 * keepNames wrappers (an Object.defineProperty per closure created), which cost the hot paths
 * measurably; BENCH_LIBRARY=src measures the sources instead.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

type Library = typeof import('../src');

const load = createRequire(__filename);

const newestUnder = (dir: string): number =>
  Math.max(0, ...readdirSync(dir, { withFileTypes: true }).map((e) => (e.isDirectory() ? newestUnder(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs)));

let loaded: Library | undefined;

/** The library, loaded (and checked against src/) once per process: a later edit of src/ does not stop a run under way. */
export function benchLibrary(): Library {
  loaded ??= loadLibrary();
  return loaded;
}

function loadLibrary(): Library {
  if (process.env.BENCH_LIBRARY === 'src') return load('../src') as Library;
  const root = join(__dirname, '..');
  const entry = join(root, 'dist', 'src', 'index.js');
  if (!existsSync(entry)) {
    throw new Error(`the store bench measures the compiled library and ${entry} is missing: run \`npm run build:lib\` first (npm run bench does), or set BENCH_LIBRARY=src`);
  }
  if (newestUnder(join(root, 'src')) > statSync(entry).mtimeMs) {
    throw new Error('dist/ is older than src/: run `npm run build:lib` first (npm run bench does), or set BENCH_LIBRARY=src');
  }
  return load(entry) as Library;
}
