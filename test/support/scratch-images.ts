import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { registryHost } from './env';

const run = promisify(execFile);

/**
 * Small images for the builder tests, built with buildah (vfs storage, chroot
 * isolation, FROM scratch + COPY so the foreign arch needs no emulation) and
 * pushed to the test registry.
 */

const buildahEnv = { ...process.env, STORAGE_DRIVER: 'vfs', BUILDAH_ISOLATION: 'chroot' };

export async function buildah(args: string[]): Promise<string> {
  try {
    const { stdout } = await run('buildah', args, { env: buildahEnv, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const e = err as { code?: string; stderr?: string; message: string };
    if (e.code === 'ENOENT')
      throw new Error('buildah is not installed: run `bash scripts/stack.sh up`', { cause: err });
    throw new Error(`buildah ${args.join(' ')} failed: ${e.stderr ?? e.message}`, { cause: err });
  }
}

/** Fails with how to start the registry when it does not answer. */
export async function requireRegistry(): Promise<void> {
  const url = `http://${registryHost.replace(/^localhost(?=:|$)/, '127.0.0.1')}/v2/`;
  try {
    const res = await fetch(url);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
  } catch (err) {
    throw new Error(
      `the registry ${registryHost} does not answer (${(err as Error).message}): start it with \`bash scripts/stack.sh up\``,
      { cause: err },
    );
  }
}

/** sha256 of the manifest (list) the registry serves for a reference. */
export async function servedDigest(ref: string): Promise<string> {
  const { stdout } = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`], {
    maxBuffer: 16 * 1024 * 1024,
  });
  return `sha256:${createHash('sha256').update(stdout).digest('hex')}`;
}

/**
 * Builds `FROM scratch` + `lines` (COPY/LABEL ...) over the context `ctxDir`
 * for each arch and pushes it to `ref` (a manifest list for several arches).
 * `name` is the local name, unique to the caller; the local images are removed.
 */
export async function pushScratchImage(
  ref: string,
  name: string,
  ctxDir: string,
  lines: string[],
  arches: string[],
): Promise<void> {
  const file = path.join(path.dirname(ctxDir), `${path.basename(ctxDir)}.Containerfile`);
  await writeFile(file, `${['FROM scratch', ...lines].join('\n')}\n`);
  const common = ['build', '--quiet', '--format', 'docker', '--layers=false', '--os', 'linux'];
  if (arches.length === 1) {
    await buildah([...common, '--arch', arches[0]!, '-t', name, '-f', file, ctxDir]);
    await buildah(['push', '--quiet', '--format', 'v2s2', '--tls-verify=false', name, `docker://${ref}`]);
    await buildah(['rmi', '-f', name]).catch(() => undefined);
    return;
  }
  await buildah(['manifest', 'create', name]);
  try {
    for (const arch of arches) {
      await buildah([...common, '--arch', arch, '--manifest', name, '-f', file, ctxDir]);
    }
    await pushManifestList(name, ref);
  } finally {
    await buildah(['manifest', 'rm', name]).catch(() => undefined);
  }
}

/** Pushes a local manifest list and every image in it to the (plain HTTP) test registry. */
export async function pushManifestList(list: string, ref: string): Promise<void> {
  await buildah([
    'manifest',
    'push',
    '--quiet',
    '--all',
    '--format',
    'v2s2',
    '--tls-verify=false',
    list,
    `docker://${ref}`,
  ]);
}

/** `LABEL` lines for a Containerfile. */
export function labelLines(labels: Record<string, string> = {}): string[] {
  return Object.entries(labels).map(([k, v]) => `LABEL ${JSON.stringify(k)}=${JSON.stringify(v)}`);
}
