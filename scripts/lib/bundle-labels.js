#!/usr/bin/env node
// Prints the image labels of an operator bundle, one `key=value` per line:
// the key/values of its metadata/annotations.yaml (what `opm` and IIB read
// back from a bundle image's config).
//   node scripts/lib/bundle-labels.js <bundle-dir>/metadata/annotations.yaml
'use strict';

const fs = require('node:fs');
const YAML = require('yaml');

function bundleLabels(file) {
  const doc = YAML.parse(fs.readFileSync(file, 'utf8'));
  const annotations = doc && doc.annotations;
  if (!annotations || typeof annotations !== 'object' || Array.isArray(annotations)) {
    throw new Error(`${file}: no 'annotations' map`);
  }
  return Object.entries(annotations).map(([key, value]) => {
    const text = String(value);
    if (/[\r\n]/.test(key) || /[\r\n]/.test(text)) throw new Error(`${file}: annotation ${key} spans lines`);
    return [key, text];
  });
}

if (require.main === module) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: node scripts/lib/bundle-labels.js <annotations.yaml>\n');
    process.exit(2);
  }
  try {
    for (const [key, value] of bundleLabels(file)) process.stdout.write(`${key}=${value}\n`);
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}

module.exports = { bundleLabels };
