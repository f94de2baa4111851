import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';

const run = promisify(execFile);

export interface LayerEntry {
  /** The name written into the tar header, as is (so `../x` stays `../x`). */
  name: string;
  content?: string;
  type?: 'file' | 'directory' | 'symlink';
  linkname?: string;
}

async function tarOf(entries: readonly LayerEntry[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on('data', (c: unknown) => {
    chunks.push(c as Buffer);
  });
  const done = new Promise<void>((resolve, reject) => {
    p.on('end', () => resolve());
    p.on('error', reject);
  });
  for (const e of entries) {
    const type = e.type ?? 'file';
    if (type === 'file') p.entry({ name: e.name, mode: 0o644 }, e.content ?? '');
    else if (type === 'directory') p.entry({ name: e.name, type, mode: 0o755 });
    else p.entry({ name: e.name, type, linkname: e.linkname ?? '' });
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/**
 * Pushes a single-layer linux/amd64 image whose layer holds exactly `entries`
 * (built with tar-stream, so hostile names survive) and whose config has
 * `labels`: written as a skopeo `dir:` layout and copied as v2s2.
 */
export async function pushCraftedImage(
  ref: string,
  entries: readonly LayerEntry[],
  labels: Record<string, string>,
): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'iib-crafted-'));
  try {
    const tar = await tarOf(entries);
    const layer = gzipSync(tar);
    const config = Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        config: { Labels: labels },
        rootfs: { type: 'layers', diff_ids: [`sha256:${sha(tar)}`] },
      }),
    );
    const manifest = {
      schemaVersion: 2,
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      config: {
        mediaType: 'application/vnd.docker.container.image.v1+json',
        size: config.length,
        digest: `sha256:${sha(config)}`,
      },
      layers: [
        {
          mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
          size: layer.length,
          digest: `sha256:${sha(layer)}`,
        },
      ],
    };
    await writeFile(path.join(dir, 'version'), 'Directory Transport Version: 1.1\n');
    await writeFile(path.join(dir, sha(config)), config);
    await writeFile(path.join(dir, sha(layer)), layer);
    await writeFile(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
    await run('skopeo', ['copy', '--format', 'v2s2', `dir:${dir}`, `docker://${ref}`]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A minimal valid registry+v1 bundle (CSV without owned APIs) as layer entries and labels. */
export function minimalBundle(options: {
  pkg: string;
  version: string;
  relatedImages?: { name: string; image: string }[];
}): { entries: LayerEntry[]; labels: Record<string, string> } {
  const related = (options.relatedImages ?? [])
    .map((r) => `    - name: ${r.name}\n      image: ${r.image}\n`)
    .join('');
  const csv =
    'apiVersion: operators.coreos.com/v1alpha1\n' +
    'kind: ClusterServiceVersion\n' +
    'metadata:\n' +
    `  name: ${options.pkg}.v${options.version}\n` +
    'spec:\n' +
    `  version: ${options.version}\n` +
    `  displayName: ${options.pkg}\n` +
    (related ? `  relatedImages:\n${related}` : '') +
    '  install:\n    strategy: deployment\n    spec:\n      deployments: []\n';
  const labels = {
    'operators.operatorframework.io.bundle.mediatype.v1': 'registry+v1',
    'operators.operatorframework.io.bundle.manifests.v1': 'manifests/',
    'operators.operatorframework.io.bundle.metadata.v1': 'metadata/',
    'operators.operatorframework.io.bundle.package.v1': options.pkg,
    'operators.operatorframework.io.bundle.channels.v1': 'alpha',
    'operators.operatorframework.io.bundle.channel.default.v1': 'alpha',
  };
  const annotations = `annotations:\n${Object.entries(labels)
    .map(([k, v]) => `  ${k}: ${v}\n`)
    .join('')}`;
  return {
    entries: [
      { name: 'manifests/', type: 'directory' },
      { name: `manifests/${options.pkg}.clusterserviceversion.yaml`, content: csv },
      { name: 'metadata/', type: 'directory' },
      { name: 'metadata/annotations.yaml', content: annotations },
    ],
    labels,
  };
}
