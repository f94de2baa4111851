/**
 * What a request's work calls of its tools: the registry (skopeo), the image
 * builder (buildah) and the reporter. Pipelines and rooms depend on these
 * small interfaces, never on the concrete tools, so tests give them fakes;
 * the request workspace hands them the real ones (tools/images.ts,
 * tools/buildah.ts, lane/reporter.ts).
 */
import type { RequestState } from '../../../shared/contracts';
import type { ArchImage, ImageConfig, ResolvedImage } from '../tools/images';

/** A registry read and written through skopeo, with one auth file. */
export interface Registry {
  /** The same registry with another auth file (e.g. an overwrite token's). */
  withAuthFile(authFile: string | undefined): Registry;
  rawManifest(
    ref: string,
  ): Promise<{ raw: string; digest: string; mediaType: string | undefined; json: unknown }>;
  resolve(ref: string): Promise<ResolvedImage>;
  config(ref: string, arch?: string): Promise<ImageConfig>;
  labels(ref: string, arch?: string): Promise<Record<string, string>>;
  archImage(ref: string, arch: string): Promise<ArchImage>;
  archImages(ref: string, arches: string[]): Promise<ArchImage[]>;
  /** `skopeo copy --all`. */
  copyAll(src: string, dest: string): Promise<void>;
  /** Copies one image into a `dir:` layout. */
  copyToDir(ref: string, dir: string): Promise<void>;
  pushDir(dir: string, dest: string): Promise<void>;
  /** Extracts the files under `prefix` of one arch of an image into `dest` (layout kept in workDir). */
  extract(ref: string, arch: string, prefix: string, workDir: string, dest: string): Promise<void>;
}

/** Images built, pushed and run through buildah. */
export interface ImageBuilder {
  buildArch(opts: {
    contextDir: string;
    dockerfile: string;
    tag: string;
    arch: string;
    timestamp?: number;
  }): Promise<void>;
  push(local: string, dest: string): Promise<void>;
  pushManifestList(name: string, images: string[], dests: string[]): Promise<void>;
  /** A working container of one arch of an image. */
  from(image: string, arch: string, name: string): Promise<void>;
  mount(container: string): Promise<string>;
  copy(container: string, src: string, dest: string): Promise<void>;
  runIn(container: string, command: string[]): Promise<void>;
  removeContainer(container: string): Promise<void>;
}

/** Reports a request's progress, result and log lines to the gateway. */
export interface RequestReporter {
  log(line: string): void;
  state(state: RequestState, reason: string, fields?: Record<string, unknown>): Promise<void>;
  progress(reason: string, fields?: Record<string, unknown>): Promise<void>;
  artifacts(artifacts: Record<string, unknown>): Promise<void>;
}
