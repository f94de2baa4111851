import { existsSync } from 'node:fs';
import * as path from 'node:path';

/** The package's root: the first parent holding package.json (src and dist sit at different depths). */
function packageRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

/**
 * Where `npm run build` puts the page's compiled scripts. Found from the
 * package root, so the gateway run from dist/ and the tests run from the
 * sources serve the same files.
 */
export function browserScriptsDir(): string {
  return path.join(packageRoot(__dirname), 'dist', 'ui');
}

/** ReDoc's self-contained bundle, from node_modules. */
export function redocBundle(): string {
  return require.resolve('redoc/bundles/redoc.standalone.js');
}
