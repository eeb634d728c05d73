#!/usr/bin/env node
'use strict';
// The `temporal-breaker` CLI. Installed from the package, it runs the compiled JavaScript in
// dist/ (tsx is not a dependency). In a clone of the repository (src/ beside it, the dev
// dependencies installed) it runs the TypeScript sources through tsx, so it is always current
// without a build.
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const source = join(__dirname, '..', 'src', 'cli', 'main.ts');
let cli;
if (existsSync(source) && canResolve('tsx/cjs')) {
  require('tsx/cjs');
  cli = require(source);
} else {
  try {
    cli = require('../dist/src/cli/main.js');
  } catch (e) {
    if (e && e.code === 'MODULE_NOT_FOUND' && /dist[\\/]src[\\/]cli[\\/]main/.test(e.message)) {
      process.stderr.write('temporal-breaker: the compiled CLI is missing (dist/src/cli/main.js): run `npm run build:lib`\n');
      process.exit(1);
    }
    throw e;
  }
}
cli.main(process.argv).then((code) => {
  process.exitCode = code;
});

function canResolve(id) {
  try {
    require.resolve(id);
    return true;
  } catch {
    return false;
  }
}
