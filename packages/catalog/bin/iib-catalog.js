#!/usr/bin/env node
'use strict';
// Thin shim: the CLI is compiled TypeScript in dist/ (npm run build).
require('../dist/index.js').runCliProcess();
