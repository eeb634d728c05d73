/**
 * Copies the non-TypeScript files under src/ (Lua scripts, JSON, ...) next to the compiled code
 * in dist/src/, which tsc does not do. Part of `npm run build`.
 */
import { cpSync, existsSync } from 'node:fs';
import { extname, resolve } from 'node:path';

const root = resolve(__dirname, '..');
const from = resolve(root, 'src');
const to = resolve(root, 'dist/src');
const skip = new Set(['.ts', '.tsx', '.mts', '.cts']);
let copied = 0;

if (existsSync(from)) {
  cpSync(from, to, {
    recursive: true,
    filter: (src) => {
      const ext = extname(src);
      if (ext === '' || !skip.has(ext)) {
        if (ext !== '') copied += 1;
        return true;
      }
      return false;
    },
  });
}
console.error(`[copy-assets] ${copied} asset file(s) from src/ to dist/src/`);
