#!/usr/bin/env node
'use strict';
// Thin shim: the CLI is compiled TypeScript in dist/ (npm run build).
const { main } = require('../dist/services/cli/main.js');

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`iib: ${err && err.message ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
