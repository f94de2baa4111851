import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { ValidationError } from '../../shared/errors';
import type { CommandRunner } from './command-runner';
import { withDigest } from './image-ref';
import { extractLayers } from './layer-extractor';

const LIST_TYPES = new Set([
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.index.v1+json',
]);

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

export interface ToolSettings {
  /** Extra arguments for every skopeo call, e.g. an auth file. */
  authFile?: string;
  skopeoTimeout: string;
  attempts: number;
  maxExtractBytes: number;
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
    const isList = m.mediaType !== undefined && LIST_TYPES.has(m.mediaType);
    let arches: string[];
    if (isList) {
      const manifests =
        (m.json as { manifests?: { platform?: { architecture?: string; os?: string } }[] }).manifests ?? [];
      arches = [...new Set(manifests.map((x) => x.platform?.architecture).filter((a): a is string => !!a))];
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
    const files = (manifest.layers ?? []).map((l) => path.join(layout, l.digest.replace(/^sha256:/, '')));
    await extractLayers(files, prefix, dest, { maxBytes: this.settings.maxExtractBytes });
  }
}
