import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { extractLayers } from '../../services/builder/tools/layers/layer-extractor';
import { repoRoot } from './env';

const run = promisify(execFile);

/** Helpers to look at what the builder pushed, with the real tools (skopeo, iib-catalog). */

export async function submit(
  api: string,
  endpoint: string,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${api}/builds/${endpoint}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

export async function skopeo(args: string[]): Promise<string> {
  const { stdout } = await run('skopeo', args, { maxBuffer: 256 * 1024 * 1024 });
  return stdout;
}

/** `skopeo inspect --raw`: the arches of a manifest list (or the one arch of an image). */
export async function imageArches(ref: string, authFile?: string): Promise<string[]> {
  const auth = authFile ? ['--authfile', authFile] : [];
  const raw = JSON.parse(await skopeo(['inspect', '--raw', ...auth, `docker://${ref}`])) as {
    manifests?: { platform?: { architecture?: string } }[];
  };
  if (raw.manifests) return raw.manifests.map((m) => m.platform?.architecture ?? '?').sort();
  const cfg = JSON.parse(await skopeo(['inspect', '--config', ...auth, `docker://${ref}`])) as {
    architecture?: string;
  };
  return [cfg.architecture ?? '?'];
}

/** `skopeo inspect --config` of one arch: labels, entrypoint, cmd, layer count. */
export async function imageConfig(
  ref: string,
  arch: string,
  authFile?: string,
): Promise<{
  labels: Record<string, string>;
  entrypoint: string[];
  cmd: string[];
  layers: number;
  diffIds: string[];
}> {
  const auth = authFile ? ['--authfile', authFile] : [];
  const cfg = JSON.parse(
    await skopeo(['--override-arch', arch, 'inspect', '--config', ...auth, `docker://${ref}`]),
  ) as {
    config?: { Labels?: Record<string, string>; Entrypoint?: string[]; Cmd?: string[] };
    rootfs?: { diff_ids?: string[] };
  };
  return {
    labels: cfg.config?.Labels ?? {},
    entrypoint: cfg.config?.Entrypoint ?? [],
    cmd: cfg.config?.Cmd ?? [],
    layers: cfg.rootfs?.diff_ids?.length ?? 0,
    diffIds: cfg.rootfs?.diff_ids ?? [],
  };
}

/**
 * Copies one arch of an image with skopeo and applies its layers (whiteouts
 * included) into a fresh directory; returns `<dir>/<prefix>` (default /configs).
 * The caller removes `root` when done.
 */
export async function extractFromImage(
  ref: string,
  arch: string,
  prefix = 'configs',
  authFile?: string,
): Promise<{ root: string; dir: string }> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'iib-extract-'));
  const layout = path.join(root, 'layout');
  const auth = authFile ? ['--src-authfile', authFile] : [];
  await skopeo(['--override-arch', arch, 'copy', ...auth, `docker://${ref}`, `dir:${layout}`]);
  const manifest = JSON.parse(await readFile(path.join(layout, 'manifest.json'), 'utf8')) as {
    layers?: { digest: string }[];
  };
  const layers = (manifest.layers ?? []).map((l) => path.join(layout, l.digest.replace(/^sha256:/, '')));
  const out = path.join(root, 'rootfs');
  await extractLayers(layers, prefix, out, {
    maxBytes: 4 * 1024 * 1024 * 1024,
    maxReadBytes: 16 * 1024 * 1024 * 1024,
    maxFileBytes: 1024 * 1024 * 1024,
    maxFiles: 1_000_000,
    maxEntries: 10_000_000,
  });
  await rm(layout, { recursive: true, force: true });
  return { root, dir: path.join(out, prefix) };
}

/** `iib-catalog validate <dir>` (the project's opm-validate equivalent): exit code and output. */
export async function validateCatalogDir(dir: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [
      path.join(repoRoot, 'bin', 'iib-catalog.js'),
      'validate',
      dir,
    ]);
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}
