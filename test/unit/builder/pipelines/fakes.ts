import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import pino from 'pino';
import { loadBuilderConfig } from '../../../../shared/config';
import type { BuildRequestEvent, RequestState, RequestType } from '../../../../shared/contracts';
import type { ArchImage, ImageConfig, ResolvedImage } from '../../../../services/builder/tools/images';
import type {
  BuildContext,
  Pipeline,
  PipelineConfig,
  RequestSecrets,
} from '../../../../services/builder/workspace/build-context';
import type { ImageBuilder, Registry, RequestReporter } from '../../../../services/builder/workspace/tools';
import {
  fixtureBundleDir,
  fixtureBundleLabels,
  INDEX_LABELS as indexLabels,
  writeBundlesCatalog,
} from '../../../support/fbc-images';

/**
 * Fakes of the tools a pipeline calls (the registry, the image builder, the
 * reporter): images live in memory as labels plus local directories for the
 * paths they hold; builds are recorded with the /configs they were given.
 */

const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';

export interface FakeImage {
  labels?: Record<string, string>;
  arches?: string[];
  /** Path in the image (e.g. `/configs`) -> a local directory with its files. */
  trees?: Record<string, string>;
}

interface Stored extends Required<FakeImage> {
  resolved: ResolvedImage;
}

const digestOf = (text: string): string => `sha256:${createHash('sha256').update(text).digest('hex')}`;
const repoOf = (ref: string): string => ref.replace(/@sha256:.*$/, '').replace(/:[^/:]+$/, '');

/** The registry: images by tag and by digest; copies and extractions recorded. */
export class FakeRegistry implements Registry {
  readonly images = new Map<string, Stored>();
  readonly copies: { src: string; dest: string; authFile: string | undefined }[] = [];
  private pushes = 0;

  constructor(
    readonly authFile: string | undefined = undefined,
    shared?: FakeRegistry,
  ) {
    if (shared) {
      this.images = shared.images;
      this.copies = shared.copies;
    }
  }

  /** Adds an image under `ref`; returns its `repo@sha256:...`. */
  add(ref: string, image: FakeImage = {}): string {
    this.pushes += 1;
    const digest = digestOf(`${ref}#${this.pushes}#${JSON.stringify(image)}`);
    const arches = image.arches ?? ['amd64'];
    const resolved = `${repoOf(ref)}@${digest}`;
    const stored: Stored = {
      labels: image.labels ?? {},
      arches,
      trees: image.trees ?? {},
      resolved: { ref, resolved, digest, arches: [...arches].sort(), isList: arches.length > 1 },
    };
    this.images.set(ref, stored);
    this.images.set(resolved, stored);
    return resolved;
  }

  private get(ref: string): Stored {
    const image = this.images.get(ref);
    if (!image) throw new Error(`manifest unknown: ${ref}`);
    return image;
  }

  withAuthFile(authFile: string | undefined): Registry {
    return new FakeRegistry(authFile, this);
  }

  async rawManifest(ref: string) {
    const { resolved } = this.get(ref);
    const json = { schemaVersion: 2, mediaType: DOCKER_MANIFEST, config: {}, layers: [] };
    return { raw: JSON.stringify(json), digest: resolved.digest, mediaType: DOCKER_MANIFEST, json };
  }

  async resolve(ref: string): Promise<ResolvedImage> {
    return { ...this.get(ref).resolved, ref };
  }

  async config(ref: string): Promise<ImageConfig> {
    return { config: { Labels: this.get(ref).labels } };
  }

  async labels(ref: string): Promise<Record<string, string>> {
    return this.get(ref).labels;
  }

  async archImage(): Promise<ArchImage> {
    throw new Error('not faked: archImage');
  }

  async archImages(): Promise<ArchImage[]> {
    throw new Error('not faked: archImages');
  }

  async copyAll(src: string, dest: string): Promise<void> {
    this.copies.push({ src, dest, authFile: this.authFile });
    const image = this.get(src);
    this.add(dest, { labels: image.labels, arches: image.arches, trees: image.trees });
  }

  async copyToDir(): Promise<void> {
    throw new Error('not faked: copyToDir');
  }

  async pushDir(): Promise<void> {
    throw new Error('not faked: pushDir');
  }

  async extract(ref: string, _arch: string, prefix: string, _workDir: string, dest: string): Promise<void> {
    const wanted = `/${prefix.replace(/^\/+|\/+$/g, '')}`;
    for (const [where, dir] of Object.entries(this.get(ref).trees)) {
      if (prefix !== '' && where !== wanted && !where.startsWith(`${wanted}/`)) continue;
      await cp(dir, path.join(dest, where), { recursive: true });
    }
  }
}

export interface Build {
  arch: string;
  dockerfile: string;
  /** The files of `/configs` the build was given (relative path -> text). */
  configs: Map<string, string>;
  /** Every file of the build context (relative path -> text). */
  context: Map<string, string>;
  tag: string;
}

/** buildah: builds recorded, pushes and manifest lists land in the fake registry. */
export class FakeBuilder implements ImageBuilder {
  readonly builds: Build[] = [];
  readonly lists: { images: string[]; dests: string[] }[] = [];
  /** Runs once the manifest list is pushed (a test moves an image meanwhile). */
  afterList: (() => void) | undefined;
  private readonly local = new Map<string, Build>();

  constructor(private readonly registry: FakeRegistry) {}

  async buildArch(opts: { contextDir: string; dockerfile: string; tag: string; arch: string }) {
    const build = {
      arch: opts.arch,
      tag: opts.tag,
      dockerfile: await readFile(opts.dockerfile, 'utf8'),
      configs: await readTree(path.join(opts.contextDir, 'configs')),
      context: await readTree(opts.contextDir),
    };
    this.builds.push(build);
    this.local.set(opts.tag, build);
  }

  async push(local: string, dest: string): Promise<void> {
    if (!this.local.has(local)) throw new Error(`no local image ${local}`);
    this.registry.add(dest);
  }

  async pushManifestList(_name: string, images: string[], dests: string[]): Promise<void> {
    this.lists.push({ images, dests });
    for (const d of dests) this.registry.add(d, { arches: images.map((i) => i.split('-').pop() as string) });
    this.afterList?.();
  }

  async from(): Promise<void> {
    throw new Error('not faked: from');
  }

  async mount(): Promise<string> {
    throw new Error('not faked: mount');
  }

  async copy(): Promise<void> {
    throw new Error('not faked: copy');
  }

  async runIn(): Promise<void> {
    throw new Error('not faked: runIn');
  }

  async removeContainer(): Promise<void> {}
}

export interface Update {
  state: RequestState;
  reason: string;
  fields?: Record<string, unknown>;
}

export class FakeReporter implements RequestReporter {
  readonly updates: Update[] = [];
  readonly lines: string[] = [];
  readonly artifactSets: Record<string, unknown>[] = [];

  log(line: string): void {
    this.lines.push(line);
  }

  async state(state: RequestState, reason: string, fields?: Record<string, unknown>): Promise<void> {
    this.updates.push({ state, reason, fields });
  }

  async progress(reason: string, fields?: Record<string, unknown>): Promise<void> {
    await this.state('in_progress', reason, fields);
  }

  async artifacts(artifacts: Record<string, unknown>): Promise<void> {
    this.artifactSets.push(artifacts);
  }

  /** The last update, which a finished pipeline makes its final state. */
  get final(): Update {
    const last = this.updates[this.updates.length - 1];
    if (!last) throw new Error('no state reported');
    return last;
  }
}

export const REGISTRY = 'registry.test/iib';

/** One request run against the fakes, in a work directory of its own. */
export class FakeRequest {
  readonly registry = new FakeRegistry();
  readonly builder = new FakeBuilder(this.registry);
  readonly reporter = new FakeReporter();
  private dirs: string[] = [];

  constructor(
    readonly id: number,
    readonly type: RequestType,
  ) {}

  async run(
    pipeline: Pipeline,
    params: Record<string, unknown>,
    secrets: RequestSecrets = {},
    settings: Partial<PipelineConfig> = {},
  ) {
    const workDir = await this.tempDir('iib-pipeline-');
    const config = { ...loadBuilderConfig({ IIB_REGISTRY: REGISTRY }), incrementalPush: false, ...settings };
    // The params are the test's, unchecked: the pipelines' own checks are under test too.
    const event = {
      id: this.id,
      request_type: this.type,
      user: 'tester',
      batch: this.id,
      params,
      submitted_at: new Date().toISOString(),
    } as BuildRequestEvent;
    const ctx: BuildContext = {
      event,
      params,
      secrets,
      workDir,
      reporter: this.reporter,
      images: this.registry,
      buildah: this.builder,
      authFile: undefined,
      config,
      registry: REGISTRY,
      binaryImageConfig: undefined,
      log: pino({ level: 'silent' }),
      localTags: [],
    };
    await pipeline(ctx);
    return ctx;
  }

  /** A temporary directory, removed by cleanup(). */
  async tempDir(prefix = 'iib-fake-'): Promise<string> {
    const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
    this.dirs.push(dir);
    return dir;
  }

  /** A directory holding the given files (relative path -> text). */
  async files(files: Record<string, string>): Promise<string> {
    const dir = await this.tempDir();
    for (const [rel, text] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
      await writeFile(path.join(dir, rel), text);
    }
    return dir;
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.dirs.map((d) => rm(d, { recursive: true, force: true })));
    this.dirs = [];
  }
}

/** Every file under `dir` (relative path -> text); empty when there is no such directory. */
export async function readTree(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (rel: string): Promise<void> => {
    const entries = await readdir(path.join(dir, rel), { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(r);
      else out.set(r, await readFile(path.join(dir, r), 'utf8'));
    }
  };
  await walk('');
  return out;
}

/** An index's labels: file-based, of OCP `version`, for `scope`. */
export const INDEX_LABELS = (version: string, scope = 'prod'): Record<string, string> =>
  indexLabels(version, scope);

/** A fixture bundle as an image in the fake registry; returns its `repo@sha256:...`. */
export async function addBundleImage(
  registry: FakeRegistry,
  ref: string,
  op: string,
  version: string,
  extraLabels: Record<string, string> = {},
): Promise<string> {
  const dir = fixtureBundleDir(op, version);
  return registry.add(ref, {
    labels: await fixtureBundleLabels(op, version, extraLabels),
    trees: { '/manifests': path.join(dir, 'manifests'), '/metadata': path.join(dir, 'metadata') },
  });
}

/** An index image of the given fixture bundles (added in order) in the fake registry; returns its `repo@sha256:...`. */
export async function addIndexImage(
  req: FakeRequest,
  ref: string,
  bundles: { op: string; version: string; image: string }[],
  labels: Record<string, string> = INDEX_LABELS('v4.12'),
  arches = ['amd64'],
): Promise<string> {
  const dir = await req.tempDir('iib-fake-index-');
  await writeBundlesCatalog(dir, bundles);
  return req.registry.add(ref, { labels, arches, trees: { '/configs': dir } });
}

/**
 * The index most tests start from: `ref` holding foo 0.1.0 and bar 0.1.0 (both
 * bundles in the registry too); returns the bundles' `repo@sha256:...`.
 */
export async function addFooBarIndex(
  req: FakeRequest,
  ref: string,
  arches = ['amd64'],
): Promise<{ foo1: string; bar1: string }> {
  const foo1 = await addBundleImage(req.registry, 'quay.test/ns/foo-bundle:0.1.0', 'foo', '0.1.0');
  const bar1 = await addBundleImage(req.registry, 'quay.test/ns/bar-bundle:0.1.0', 'bar', '0.1.0');
  const bundles = [
    { op: 'foo', version: '0.1.0', image: foo1 },
    { op: 'bar', version: '0.1.0', image: bar1 },
  ];
  await addIndexImage(req, ref, bundles, INDEX_LABELS('v4.12'), arches);
  return { foo1, bar1 };
}
