import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { ValidationError } from '../../../shared/errors';
import type { CommandRunner } from './command-runner';
import { withDigest } from './image-ref';
import { extractLayers, type ExtractLimits } from './layers/layer-extractor';

export const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

/**
 * Whether a raw manifest is a list of per-arch images (Docker manifest list,
 * OCI image index) or one image (Docker v2s2, OCI image manifest), or neither
 * (schema 1, an artifact). OCI lets a manifest leave out its mediaType, so
 * without one the shape decides.
 */
export function manifestKind(mediaType: string | undefined, json: unknown): 'list' | 'image' | undefined {
  const m = json as { schemaVersion?: number; manifests?: unknown; config?: unknown; layers?: unknown };
  if (m?.schemaVersion !== 2) return undefined;
  if (mediaType === DOCKER_LIST || mediaType === OCI_INDEX) return 'list';
  if (mediaType === DOCKER_MANIFEST || mediaType === OCI_MANIFEST) return 'image';
  if (mediaType !== undefined) return undefined;
  if (Array.isArray(m.manifests)) return 'list';
  if (m.config !== undefined && Array.isArray(m.layers)) return 'image';
  return undefined;
}

export interface ResolvedImage {
  ref: string;
  /** repo@sha256:... of what `ref` pointed at (the list itself for a manifest list). */
  resolved: string;
  digest: string;
  arches: string[];
  isList: boolean;
}

export interface ImageConfig {
  architecture?: string;
  config?: { Labels?: Record<string, string> | null };
}

interface ListEntry {
  digest: string;
  platform?: { architecture?: string };
}

export interface Descriptor {
  mediaType: string;
  size: number;
  digest: string;
}

/** A single-arch image manifest (Docker v2s2 or OCI). */
export interface ImageManifest {
  schemaVersion: number;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
  [key: string]: unknown;
}

/** An image config as stored in the registry; keys we do not touch are carried along. */
export interface RawImageConfig {
  architecture?: string;
  created?: string;
  config?: {
    Labels?: Record<string, string> | null;
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    Env?: string[] | null;
    WorkingDir?: string;
    [key: string]: unknown;
  };
  rootfs?: { type: string; diff_ids: string[] };
  history?: Record<string, unknown>[];
  [key: string]: unknown;
}

export interface ArchImage {
  /** repo@sha256:... of the single-arch manifest. */
  resolved: string;
  digest: string;
  manifest: ImageManifest;
  config: RawImageConfig;
}

export interface ToolSettings {
  /** Extra arguments for every skopeo call, e.g. an auth file. */
  authFile?: string;
  skopeoTimeout: string;
  attempts: number;
  extractLimits: ExtractLimits;
}

/** skopeo operations on remote images. */
export class Images {
  constructor(
    private readonly run: CommandRunner,
    private readonly settings: ToolSettings,
  ) {}

  /** The same operations with another auth file (e.g. an overwrite token's). */
  withAuthFile(authFile: string | undefined): Images {
    return new Images(this.run, { ...this.settings, authFile });
  }

  /** `skopeo copy --all --format v2s2`: a whole manifest list (or image) to another reference. */
  async copyAll(src: string, dest: string): Promise<void> {
    await this.run.run(
      'skopeo',
      [
        '--command-timeout',
        this.settings.skopeoTimeout,
        'copy',
        '--all',
        '--format',
        'v2s2',
        ...this.auth(),
        `docker://${src}`,
        `docker://${dest}`,
      ],
      { attempts: this.settings.attempts },
    );
  }

  private auth(): string[] {
    return this.settings.authFile ? ['--authfile', this.settings.authFile] : [];
  }

  async rawManifest(
    ref: string,
  ): Promise<{ raw: string; digest: string; mediaType: string | undefined; json: unknown }> {
    const { stdout } = await this.run.run(
      'skopeo',
      [
        '--command-timeout',
        this.settings.skopeoTimeout,
        'inspect',
        '--raw',
        ...this.auth(),
        `docker://${ref}`,
      ],
      { attempts: this.settings.attempts },
    );
    const digest = `sha256:${createHash('sha256').update(stdout).digest('hex')}`;
    let json: unknown;
    try {
      json = JSON.parse(stdout);
    } catch {
      throw new ValidationError(`The manifest of ${ref} is not valid JSON`);
    }
    return { raw: stdout, digest, mediaType: (json as { mediaType?: string }).mediaType, json };
  }

  async resolve(ref: string): Promise<ResolvedImage> {
    const m = await this.rawManifest(ref);
    const isList = manifestKind(m.mediaType, m.json) === 'list';
    let arches: string[];
    if (isList) {
      const manifests =
        (m.json as { manifests?: { platform?: { architecture?: string; os?: string } }[] }).manifests ?? [];
      // An OCI index may also list attestations (platform unknown/unknown): not an arch.
      arches = [
        ...new Set(
          manifests.map((x) => x.platform?.architecture).filter((a): a is string => !!a && a !== 'unknown'),
        ),
      ];
    } else {
      const cfg = await this.config(withDigest(ref, m.digest));
      arches = cfg.architecture ? [cfg.architecture] : [];
    }
    return { ref, resolved: withDigest(ref, m.digest), digest: m.digest, arches: arches.sort(), isList };
  }

  async config(ref: string, arch?: string): Promise<ImageConfig> {
    const args = ['--command-timeout', this.settings.skopeoTimeout];
    if (arch) args.push('--override-arch', arch);
    const { stdout } = await this.run.run(
      'skopeo',
      [...args, 'inspect', '--config', ...this.auth(), `docker://${ref}`],
      {
        attempts: this.settings.attempts,
      },
    );
    return JSON.parse(stdout) as ImageConfig;
  }

  async labels(ref: string, arch?: string): Promise<Record<string, string>> {
    return (await this.config(ref, arch)).config?.Labels ?? {};
  }

  /**
   * The single-arch manifest of `arch` in `ref` (a list or a plain image):
   * `repo@digest`, its raw JSON and its config (as stored, not summarised).
   */
  async archImage(ref: string, arch: string): Promise<ArchImage> {
    return (await this.archImages(ref, [arch]))[0] as ArchImage;
  }

  /** `archImage` for several arches, reading the list once and the arches in parallel. */
  async archImages(ref: string, arches: string[]): Promise<ArchImage[]> {
    const top = await this.rawManifest(ref);
    const isList = manifestKind(top.mediaType, top.json) === 'list';
    return Promise.all(
      arches.map(async (arch) => {
        let m = top;
        if (isList) {
          const entry = ((top.json as { manifests?: ListEntry[] }).manifests ?? []).find(
            (x) => x.platform?.architecture === arch,
          );
          if (!entry) throw new ValidationError(`${ref} has no image for the arch ${arch}`);
          m = await this.rawManifest(withDigest(ref, entry.digest));
        }
        return this.withConfig(ref, m);
      }),
    );
  }

  private async withConfig(ref: string, m: { digest: string; json: unknown }): Promise<ArchImage> {
    const resolved = withDigest(ref, m.digest);
    const { stdout } = await this.run.run(
      'skopeo',
      [
        '--command-timeout',
        this.settings.skopeoTimeout,
        'inspect',
        '--config',
        '--raw',
        ...this.auth(),
        `docker://${resolved}`,
      ],
      { attempts: this.settings.attempts },
    );
    return {
      resolved,
      digest: m.digest,
      manifest: m.json as ImageManifest,
      config: JSON.parse(stdout) as RawImageConfig,
    };
  }

  /** `skopeo copy` of one image (by digest) into a `dir:` layout. */
  async copyToDir(ref: string, dir: string): Promise<void> {
    await this.run.run(
      'skopeo',
      [
        '--command-timeout',
        this.settings.skopeoTimeout,
        'copy',
        ...(this.settings.authFile ? ['--src-authfile', this.settings.authFile] : []),
        `docker://${ref}`,
        `dir:${dir}`,
      ],
      { attempts: this.settings.attempts },
    );
  }

  /**
   * Pushes a `dir:` layout. Blobs the destination already has, or can mount
   * from a repository of the same registry, are not sent again (skopeo asks
   * the registry before it opens a blob file), so the layout may leave out
   * the blobs it expects to be reused.
   */
  async pushDir(dir: string, dest: string): Promise<void> {
    await this.run.run(
      'skopeo',
      [
        '--command-timeout',
        this.settings.skopeoTimeout,
        'copy',
        '--format',
        'v2s2',
        ...(this.settings.authFile ? ['--dest-authfile', this.settings.authFile] : []),
        `dir:${dir}`,
        `docker://${dest}`,
      ],
      { attempts: this.settings.attempts },
    );
  }

  /** Copies one arch of an image to a local dir and extracts `prefix` from its layers into `dest`. */
  async extract(ref: string, arch: string, prefix: string, workDir: string, dest: string): Promise<void> {
    const layout = path.join(workDir, `image-${arch}`);
    await this.run.run(
      'skopeo',
      [
        '--command-timeout',
        this.settings.skopeoTimeout,
        '--override-arch',
        arch,
        'copy',
        ...(this.settings.authFile ? ['--src-authfile', this.settings.authFile] : []),
        `docker://${ref}`,
        `dir:${layout}`,
      ],
      { attempts: this.settings.attempts },
    );
    const manifest = JSON.parse(await readFile(path.join(layout, 'manifest.json'), 'utf8')) as {
      layers?: { digest: string }[];
    };
    const files = (manifest.layers ?? []).map((l) => {
      // The digest names a file in the layout: anything but a plain digest could name another file.
      if (!/^sha256:[0-9a-f]{64}$/.test(l.digest)) {
        throw new ValidationError(`The image ${ref} has a layer with an invalid digest`);
      }
      return path.join(layout, l.digest.slice('sha256:'.length));
    });
    await extractLayers(files, prefix, dest, this.settings.extractLimits);
  }
}
