import * as path from 'node:path';
import type { RawImageConfig } from '../tools/images';

/** What IIB's Dockerfile (opm's generated one) starts an index image with. */
export const IIB_ENTRYPOINT = ['/bin/opm'];
export const IIB_CMD = ['serve', '/configs', '--cache-dir=/tmp/cache'];

export interface IndexCommand {
  entrypoint: string[];
  cmd: string[];
}

/**
 * The ENTRYPOINT and CMD of an index image built on `base` (the binary
 * image's runtime config). A binary image that already starts a catalog
 * server (`<exe> serve ...`, as IIB's ose-operator-registry images do) keeps
 * its own command, so the cache lands where its opm will look; any other
 * (upstream opm's `registry serve --database ...`, a shell, nothing) gets
 * IIB's. Binaryless catalogs have none: see binaryCommand.
 */
export function indexCommand(base: RawImageConfig['config'] | undefined): IndexCommand {
  const entrypoint = base?.Entrypoint ?? [];
  const cmd = base?.Cmd ?? [];
  const words = [...entrypoint, ...cmd];
  if (entrypoint.length > 0 && words[1] === 'serve') return { entrypoint: [...entrypoint], cmd: [...cmd] };
  return { entrypoint: [...IIB_ENTRYPOINT], cmd: [...IIB_CMD] };
}

/**
 * The directory a serve command keeps its cache in (`--cache-dir=X` or
 * `--cache-dir X`; the last one wins, as with opm's flag parsing), as an
 * absolute path in the image (relative ones are taken from `workingDir`), or
 * undefined when the command has none.
 */
export function cacheDirOf(command: readonly string[], workingDir = '/'): string | undefined {
  let dir: string | undefined;
  command.forEach((word, i) => {
    if (word.startsWith('--cache-dir=')) dir = word.slice('--cache-dir='.length);
    else if (word === '--cache-dir' && i + 1 < command.length) dir = command[i + 1];
  });
  if (dir === undefined || dir === '') return undefined;
  const abs = path.posix.resolve(workingDir || '/', dir);
  return abs === '/' ? undefined : abs.replace(/\/+$/, '');
}

/** The catalog directory a serve command serves (`serve <dir>`), or undefined. */
export function servedDirOf(command: readonly string[]): string | undefined {
  const i = command.indexOf('serve');
  const dir = i >= 0 ? command[i + 1] : undefined;
  return dir !== undefined && !dir.startsWith('-') ? dir : undefined;
}

/** The arch of this machine in image terms (the one the binary's opm can run on here). */
export function builderArch(nodeArch: string = process.arch): string {
  const map: Record<string, string> = { x64: 'amd64', arm64: 'arm64', ppc64: 'ppc64le', s390x: 's390x' };
  return map[nodeArch] ?? nodeArch;
}
