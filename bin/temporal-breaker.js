#!/usr/bin/env node
'use strict';
// Runs the CLI from its TypeScript source through tsx (a dependency), so it works without a build.
require('tsx/cjs');
require('../src/cli/main.ts')
  .main(process.argv)
  .then((code) => {
    process.exitCode = code;
  });
