import { randomBytes } from 'node:crypto';
import { cp, lstat, rm } from 'node:fs/promises';
import * as path from 'node:path';
import { ValidationError } from '../../../shared/errors';
import type { BuildContext } from '../workspace/build-context';
import { CommandError } from '../tools/command-runner';
import { RootedTree } from '../tools/layers/rooted-tree';
import type { RawImageConfig } from '../tools/images';
import type { IndexCommand } from './serve-command';
import { builderArch, cacheDirOf } from './serve-command';

/** A serve cache made for this request's /configs, to be put into every arch's image. */
export interface ServeCache {
  /** Absolute path of the cache directory in the image (e.g. /tmp/cache). */
  imageDir: string;
  /** The cache as opm wrote it (modes kept), on this machine. */
  localDir: string;
}

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * `p` (absolute, in the image) resolved inside `root` without ever leaving it:
 * symlinks are followed as the container would see them (an absolute target
 * starts again at `root`), as the layer extractor's RootedTree resolves them.
 * Undefined when something on the way is missing, unreadable or the links loop.
 */
export async function resolveInRoot(root: string, p: string): Promise<string | undefined> {
  const tree = new RootedTree(root);
  try {
    const parts = await tree.resolve(p.split('/'), true, p);
    return (await tree.stat(parts)) ? tree.host(parts) : undefined;
  } catch {
    return undefined;
  }
}

/** The image's executable for `exe` (absolute, or looked up in the image's PATH), or undefined. */
async function findExecutable(root: string, exe: string, env: string[]): Promise<string | undefined> {
  const candidates = exe.includes('/')
    ? [exe]
    : (env.find((e) => e.startsWith('PATH='))?.slice(5) ?? DEFAULT_PATH)
        .split(':')
        .filter((d) => d.startsWith('/'))
        .map((d) => path.posix.join(d, exe));
  for (const c of candidates) {
    const host = await resolveInRoot(root, path.posix.resolve('/', c));
    const st = host ? await lstat(host).catch(() => undefined) : undefined;
    if (st?.isFile() && (st.mode & 0o111) !== 0) return c;
  }
  return undefined;
}

/** buildah's own lines around a failed `buildah run`, not the command's. */
const BUILDAH_WRAPPER =
  /^(Error: exit status \d+|subprocess exited with status \d+|error (running|while running) .*)$/i;

/** opm's own words from a failed `buildah run` (its fatal or Error line), not buildah's wrapper lines. */
export function opmWords(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !BUILDAH_WRAPPER.test(l));
  const own = lines.filter((l) => /level=(fatal|error)|^Error:/.test(l));
  const text = own[own.length - 1] ?? lines[lines.length - 1] ?? 'no error output';
  return text
    .replace(/^time="[^"]*"\s+/, '')
    .replace(/^level=\w+\s+msg="(.*)"$/, '$1')
    .replace(/^level=\w+\s+msg=/, '')
    .replace(/\\"/g, '"');
}

/**
 * Makes the serve cache for `configsDir` with the binary image's own opm:
 * a working container of the binary image for this machine's arch, the new
 * catalog copied to /configs with `buildah copy` (the copier of the
 * Dockerfile's `ADD configs /configs`, so names, bytes and modes match the
 * image's), then its command with `--cache-only`, as opm's generated
 * Dockerfile does in a RUN step. opm binds the cache to that exact catalog
 * (it refuses to serve when they differ), so it must be made from what ships.
 *
 * Undefined (no cache, as IIB) when the command names no cache directory or
 * the binary image has no such executable. A cache opm refuses to write fails
 * the request with opm's own message, before anything is pushed.
 */
export async function makeServeCache(
  ctx: BuildContext,
  binary: { ref: string; resolved: string; arches: string[] },
  base: RawImageConfig['config'] | undefined,
  command: IndexCommand,
  configsDir: string,
  contextDir: string,
): Promise<ServeCache | undefined> {
  const words = [...command.entrypoint, ...command.cmd];
  const imageDir = cacheDirOf(words, base?.WorkingDir);
  if (!imageDir) {
    ctx.reporter.log('no serve cache: the image command has no --cache-dir');
    return undefined;
  }
  const exe = command.entrypoint[0] ?? command.cmd[0];
  if (!exe) return undefined;
  const arch = builderArch();
  if (!binary.arches.includes(arch)) {
    throw new ValidationError(
      `The binary image ${binary.ref} has no ${arch} image, so its opm cannot make the serve cache on this builder`,
    );
  }
  const container = `iib-cache-${ctx.event.id}-${randomBytes(4).toString('hex')}`;
  await ctx.buildah.from(binary.resolved, arch, container);
  try {
    const root = await ctx.buildah.mount(container);
    if (!(await findExecutable(root, exe, base?.Env ?? []))) {
      ctx.reporter.log(`no serve cache: the binary image has no ${exe}`);
      return undefined;
    }
    await ctx.buildah.copy(container, configsDir, '/configs');
    try {
      await ctx.buildah.runIn(container, [...words, '--cache-only']);
    } catch (err) {
      if (!(err instanceof CommandError)) throw err;
      throw new ValidationError(`${exe} could not make the serve cache: ${opmWords(err.stderr)}`);
    }
    const made = await resolveInRoot(root, imageDir);
    const st = made ? await lstat(made).catch(() => undefined) : undefined;
    if (!made || !st?.isDirectory()) {
      throw new ValidationError(
        `${exe} ${words.slice(1).join(' ')} --cache-only wrote no cache at ${imageDir}`,
      );
    }
    const localDir = path.join(contextDir, 'cache');
    await rm(localDir, { recursive: true, force: true });
    // Modes are part of what opm checks; cp keeps them and copies links as links.
    await cp(made, localDir, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
    ctx.reporter.log(`serve cache made by the binary image's ${exe} for ${imageDir}`);
    return { imageDir, localDir };
  } finally {
    // Not awaited: the build does not need the container gone (removing a
    // vfs copy takes a while), and removeContainer never throws.
    void ctx.buildah.removeContainer(container);
  }
}
