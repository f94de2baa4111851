import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { labelLines, pushScratchImage, servedDigest } from './scratch-images';

export { requireRegistry, servedDigest } from './scratch-images';

/**
 * Builds small images for the bundle tests with buildah (vfs storage, chroot
 * isolation, FROM scratch + COPY, so no emulation for the foreign arch) and
 * pushes them to the test registry.
 */

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
    await pushScratchImage(ref, name, ctxDir, ['COPY . /', ...labelLines(spec.labels)], arches);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return servedDigest(ref);
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
