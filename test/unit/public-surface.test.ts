// The app (collectors, simulator, demo, CLI, configuration) is a user of the library: it imports
// the library only through its public entry points — the files behind the package's `exports`
// map — and the library never imports the app. Every import of every source file is resolved
// and checked; a new file is classified by where it lives.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import pkg from '../../package.json';
import { repoRoot } from '../helpers/paths';

/** The library's own files (besides the entry points): the core, stores, Temporal integration. */
const LIBRARY = [/^src\/(breaker|store|temporal|log|client)\//, /^src\/circuit-breaker\.ts$/, /^workflows\/(circuit-breaker|breaker-inputs)\.ts$/, /^activities\/breaker-control\.ts$/];
/** The entry points: what `exports` maps to, as sources. */
const ENTRIES = Object.values(pkg.exports)
  .flatMap((e) => (typeof e === 'string' ? [] : [e.require]))
  .map((js) => js.replace(/^\.\/dist\//, '').replace(/\.js$/, '.ts'));
/** The app: everything else under src/, activities/ and workflows/. */
const APP_ROOTS = ['src', 'activities', 'workflows'];

const isLibrary = (f: string) => LIBRARY.some((r) => r.test(f));
const isEntry = (f: string) => ENTRIES.includes(f);

function sources(dir: string): string[] {
  return readdirSync(join(repoRoot, dir)).flatMap((name) => {
    const rel = `${dir}/${name}`;
    if (statSync(join(repoRoot, rel)).isDirectory()) return sources(rel);
    return rel.endsWith('.ts') && !rel.endsWith('.d.ts') ? [rel] : [];
  });
}

/** Relative imports of a file (import, export … from, require, import()), resolved to repository paths. */
function localImports(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(join(repoRoot, file), 'utf8'), true, true);
  return info.importedFiles
    .map((i) => i.fileName)
    .filter((s) => s.startsWith('.'))
    .map((s) => {
      const base = resolve(repoRoot, dirname(file), s);
      const hit = [`${base}.ts`, join(base, 'index.ts'), base].find((p) => existsSync(p) && statSync(p).isFile());
      return relative(repoRoot, hit ?? base).split('\\').join('/');
    });
}

const all = APP_ROOTS.flatMap(sources);
const app = all.filter((f) => !isLibrary(f) && !isEntry(f));
const library = all.filter((f) => isLibrary(f) || isEntry(f));

describe('public surface', () => {
  it('has the four entry points of the exports map, as sources', () => {
    expect(ENTRIES.sort()).toEqual(['src/client.ts', 'src/index.ts', 'src/worker.ts', 'src/workflows.ts']);
    for (const e of ENTRIES) expect(existsSync(join(repoRoot, e)), e).toBe(true);
    expect(app).toContain('src/cli/main.ts');
    expect(app).toContain('activities/collectors/moralis.ts');
    expect(app).toContain('workflows/collectors.ts');
    expect(library).toContain('src/temporal/plugin.ts');
  });

  it('app code imports the library only through its entry points', () => {
    const offending = app.flatMap((f) => localImports(f).filter((t) => isLibrary(t)).map((t) => `${f} → ${t}`));
    expect(offending).toEqual([]);
  });

  it('the library never imports the app (its configuration, collectors, simulator, CLI)', () => {
    const offending = library.flatMap((f) => localImports(f).filter((t) => !isLibrary(t) && !isEntry(t)).map((t) => `${f} → ${t}`));
    expect(offending).toEqual([]);
  });

  it('the check can fail: an import of an internal module is caught', () => {
    expect(isLibrary('src/store/redis-store.ts')).toBe(true);
    expect(isEntry('src/store/redis-store.ts')).toBe(false);
    expect(isLibrary('src/config/schema.ts')).toBe(false);
  });
});
