#!/usr/bin/env node
'use strict';
// Thin launcher: the compiled CLI lives in dist/ (built by the workspace's `prepare` on `npm ci`).
require('../dist/cli.js').run(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
