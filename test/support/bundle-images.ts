import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { registryHost } from './env';

const run = promisify(execFile);

/**
 * Builds small images for the bundle tests with buildah (vfs storage, chroot
 * isolation, FROM scratch + COPY, so no emulation for the foreign arch) and
 * pushes them to the test registry.
 */

const buildahEnv = { ...process.env, STORAGE_DRIVER: 'vfs', BUILDAH_ISOLATION: 'chroot' };

async function buildah(args: string[]): Promise<string> {
  try {
    const { stdout } = await run('buildah', args, { env: buildahEnv, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const e = err as { code?: string; stderr?: string; message: string };
    if (e.code === 'ENOENT') throw new Error('buildah is not installed: run `npm run stack`');
    throw new Error(`buildah ${args.join(' ')} failed: ${e.stderr ?? e.message}`);
  }
}

/** Fails with how to start the registry when it does not answer. */
export async function requireRegistry(): Promise<void> {
  try {
    const res = await fetch(`http://${registryHost}/v2/`);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
  } catch (err) {
    throw new Error(
      `the registry ${registryHost} does not answer (${(err as Error).message}): start it with \`npm run stack\``,
    );
  }
}

export interface ImageSpec {
  /** Path in the image -> content. */
  files: Record<string, string>;
  labels?: Record<string, string>;
  arches?: string[];
}

/**
 * Builds and pushes an image (a manifest list when there are several arches)
 * and returns the digest the registry serves for `ref`.
 */
export async function pushImage(ref: string, spec: ImageSpec): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'iib-test-image-'));
  const arches = spec.arches ?? ['amd64'];
  const name = `localhost/iib-bundle-test/${randomBytes(6).toString('hex')}`;
  try {
    const ctxDir = path.join(dir, 'root');
    await mkdir(ctxDir, { recursive: true });
    for (const [p, content] of Object.entries(spec.files)) {
      const file = path.join(ctxDir, p);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, content);
    }
    const containerfile = path.join(dir, 'Containerfile');
    await writeFile(containerfile, 'FROM scratch\nCOPY . /\n');
    const labels = Object.entries(spec.labels ?? {}).flatMap(([k, v]) => ['--label', `${k}=${v}`]);
    const common = ['build', '--quiet', '--format', 'docker', '--layers=false', '--os', 'linux'];
    if (arches.length === 1) {
      await buildah([...common, '--arch', arches[0]!, ...labels, '-t', name, '-f', containerfile, ctxDir]);
      await buildah(['push', '--quiet', '--format', 'v2s2', '--tls-verify=false', name, `docker://${ref}`]);
      await buildah(['rmi', '-f', name]).catch(() => undefined);
    } else {
      await buildah(['manifest', 'create', name]);
      try {
        for (const arch of arches) {
          await buildah([
            ...common,
            '--arch',
            arch,
            ...labels,
            '--manifest',
            name,
            '-f',
            containerfile,
            ctxDir,
          ]);
        }
        await buildah([
          'manifest',
          'push',
          '--quiet',
          '--all',
          '--format',
          'v2s2',
          '--tls-verify=false',
          name,
          `docker://${ref}`,
        ]);
      } finally {
        await buildah(['manifest', 'rm', name]).catch(() => undefined);
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return servedDigest(ref);
}

/** sha256 of the manifest (list) the registry serves for a reference. */
export async function servedDigest(ref: string): Promise<string> {
  const { stdout } = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`], {
    maxBuffer: 16 * 1024 * 1024,
  });
  return `sha256:${createHash('sha256').update(stdout).digest('hex')}`;
}

export interface CsvSpec {
  name: string;
  annotations?: Record<string, string>;
  containers?: { name: string; image: string; env?: { name: string; value: string }[] }[];
  relatedImages?: { name: string; image: string }[];
}

export function csvYaml(spec: CsvSpec): string {
  return stringify(
    {
      apiVersion: 'operators.coreos.com/v1alpha1',
      kind: 'ClusterServiceVersion',
      metadata: { name: spec.name, annotations: spec.annotations ?? {} },
      spec: {
        displayName: spec.name,
        install: {
          strategy: 'deployment',
          spec: {
            deployments: [
              {
                name: `${spec.name}-controller`,
                spec: {
                  selector: { matchLabels: { app: spec.name } },
                  template: {
                    metadata: { labels: { app: spec.name } },
                    spec: { containers: spec.containers ?? [] },
                  },
                },
              },
            ],
          },
        },
        ...(spec.relatedImages ? { relatedImages: spec.relatedImages } : {}),
      },
    },
    { lineWidth: 0 },
  );
}

/** A bundle image: /manifests/<csv>, /metadata/annotations.yaml, the bundle labels. */
export async function pushBundle(
  ref: string,
  pkg: string,
  csv: CsvSpec,
  arches: string[] = ['amd64'],
): Promise<string> {
  const annotations = {
    'operators.operatorframework.io.bundle.mediatype.v1': 'registry+v1',
    'operators.operatorframework.io.bundle.manifests.v1': 'manifests/',
    'operators.operatorframework.io.bundle.metadata.v1': 'metadata/',
    'operators.operatorframework.io.bundle.package.v1': pkg,
    'operators.operatorframework.io.bundle.channels.v1': 'stable',
  };
  return pushImage(ref, {
    files: {
      [`manifests/${csv.name}.clusterserviceversion.yaml`]: csvYaml(csv),
      'metadata/annotations.yaml': stringify({ annotations }),
    },
    labels: { ...annotations, 'com.redhat.delivery.operator.bundle': 'true' },
    arches,
  });
}
