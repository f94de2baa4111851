import { readdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { Document, isMap, isScalar, isSeq, parseDocument, Scalar, YAMLMap } from 'yaml';
import { ValidationError } from '../../../shared/errors';
import { readBundleFile } from '../tools/layers/bounded-read';

/**
 * The operator CSV of a bundle, edited the way IIB edits it (through the
 * operator-manifest library): pull specs are found in fixed places
 * (relatedImages, containerImage annotations, containers, initContainers,
 * RELATED_IMAGE_* env values) and guessed in other annotations; a
 * replacement is applied to every string value. The YAML document is edited
 * in place so comments, key order and quoting survive.
 */

/** A pull spec as operator-manifest's ImageName: registry, namespace, repo, tag (`sha256:...` for digests). */
export interface ImageName {
  registry?: string;
  namespace?: string;
  repo: string;
  tag: string;
}

export function parseImageName(spec: string): ImageName {
  const parts: string[] = [];
  let rest = spec;
  for (let i = 0; i < 2; i += 1) {
    const slash = rest.indexOf('/');
    if (slash < 0) break;
    parts.push(rest.slice(0, slash));
    rest = rest.slice(slash + 1);
  }
  parts.push(rest);
  const out: ImageName = { repo: parts[parts.length - 1] ?? '', tag: 'latest' };
  if (parts.length === 2) {
    const first = parts[0] ?? '';
    if (first.includes('.') || first.includes(':')) out.registry = first;
    else out.namespace = first;
  } else if (parts.length === 3) {
    out.registry = parts[0];
    out.namespace = parts[1];
  }
  for (const sep of ['@', ':']) {
    const at = out.repo.lastIndexOf(sep);
    if (at < 0) continue;
    out.tag = out.repo.slice(at + 1);
    out.repo = out.repo.slice(0, at);
    break;
  }
  return out;
}

export function imageNameToString(n: ImageName): string {
  let s = n.namespace ? `${n.namespace}/${n.repo}` : n.repo;
  if (n.tag && n.tag.includes(':')) s = `${s}@${n.tag}`;
  else if (n.tag) s = `${s}:${n.tag}`;
  return n.registry ? `${n.registry}/${s}` : s;
}

/** Identity of a pull spec: `quay.io/a/b` and `quay.io/a/b:latest` are the same image. */
export function imageKey(n: ImageName): string {
  return JSON.stringify([n.registry ?? null, n.namespace ?? null, n.repo, n.tag]);
}

/** old pull spec key -> new pull spec. */
export type Replacements = Map<string, ImageName>;

export function addReplacement(map: Replacements, from: ImageName, to: ImageName): void {
  map.set(imageKey(from), to);
}

// operator-manifest's pull spec heuristic: registry (with a dot) / namespaces / repo + tag or digest.
const ALNUM = '[a-zA-Z0-9]';
const NAME = '[a-zA-Z0-9\\-._]';
const BASIC = `(?:(?:${ALNUM}${NAME}*${ALNUM})|${ALNUM})`;
const TAG = `(?:(?::${BASIC})|(?:@sha256:[a-fA-F0-9]{64}))`;
const REGISTRY = `(?:${ALNUM}${NAME}*\\.${NAME}*${ALNUM}(?::\\d+)?)`;
const FULL = new RegExp(`^${REGISTRY}/(?:${BASIC}/)*${BASIC}${TAG}$`);
const CANDIDATE = /[a-zA-Z0-9/\-._@:]+/g;
const isAlnum = (c: string | undefined): boolean => c !== undefined && /[\p{L}\p{N}]/u.test(c);

/** (start, end) of every substring of `text` that looks like a pull spec. */
export function guessPullSpecs(text: string): [number, number][] {
  const out: [number, number][] = [];
  for (const m of text.matchAll(CANDIDATE)) {
    let i = m.index;
    let j = i + m[0].length;
    while (i < text.length && !isAlnum(text[i])) i += 1;
    while (j > 0 && !isAlnum(text[j - 1])) j -= 1;
    if (FULL.test(text.slice(i, j))) out.push([i, j]);
  }
  return out;
}

const KNOWN_ANNOTATION_KEYS = ['containerImage'];

/** One place in the CSV that holds a pull spec, with the name relatedImages would give it. */
interface NamedPullSpec {
  name: string;
  description: string;
  image: string;
  set(value: string): void;
}

function str(node: unknown): string | undefined {
  return isScalar(node) && typeof node.value === 'string' ? node.value : undefined;
}

function field(map: YAMLMap, key: string, describe: string, name: string): NamedPullSpec | undefined {
  const node = map.get(key, true);
  if (!isScalar(node) || typeof node.value !== 'string') return undefined;
  return {
    name,
    description: describe,
    get image() {
      return node.value as string;
    },
    set(value: string) {
      node.value = value;
    },
  };
}

function annotation(obj: YAMLMap, key: string, start?: number, end?: number): NamedPullSpec | undefined {
  const node = obj.get(key, true);
  if (!isScalar(node) || typeof node.value !== 'string') return undefined;
  const i = start ?? 0;
  const j = end ?? node.value.length;
  const image = node.value.slice(i, j);
  const n = parseImageName(image);
  return {
    name: `${n.repo}-${n.tag.replace(/^sha256:/, '')}-annotation`,
    description: `${key} annotation`,
    image,
    set(value: string) {
      const text = node.value as string;
      node.value = text.slice(0, i) + value + text.slice(j);
    },
  };
}

function seqItems(node: unknown): unknown[] {
  return isSeq(node) ? node.items : [];
}

function getIn(node: unknown, keys: string[]): unknown {
  let cur = node;
  for (const k of keys) {
    if (!isMap(cur)) return undefined;
    cur = cur.get(k, true);
  }
  return cur;
}

/** A ClusterServiceVersion file of a bundle. */
export class OperatorCsv {
  constructor(
    readonly file: string,
    readonly doc: Document,
  ) {}

  private get root(): YAMLMap {
    return this.doc.contents as YAMLMap;
  }

  private relatedImageSpecs(): NamedPullSpec[] {
    return seqItems(getIn(this.root, ['spec', 'relatedImages'])).flatMap((r) => {
      if (!isMap(r)) return [];
      const name = str(r.get('name', true)) ?? '';
      return field(r, 'image', `relatedImage ${name}`, name) ?? [];
    });
  }

  private containers(key: 'containers' | 'initContainers'): YAMLMap[] {
    const deployments = seqItems(getIn(this.root, ['spec', 'install', 'spec', 'deployments']));
    return deployments.flatMap((d) =>
      seqItems(getIn(d, ['spec', 'template', 'spec', key])).filter((c): c is YAMLMap => isMap(c)),
    );
  }

  private containerSpecs(key: 'containers' | 'initContainers'): NamedPullSpec[] {
    const label = key === 'containers' ? 'container' : 'initContainer';
    return this.containers(key).flatMap((c) => {
      const name = str(c.get('name', true)) ?? '';
      return field(c, 'image', `${label} ${name}`, name) ?? [];
    });
  }

  private envSpecs(): NamedPullSpec[] {
    const all = [...this.containers('containers'), ...this.containers('initContainers')];
    return all.flatMap((c) =>
      seqItems(c.get('env', true)).flatMap((e) => {
        if (!isMap(e)) return [];
        const name = str(e.get('name', true)) ?? '';
        if (!name.startsWith('RELATED_IMAGE_')) return [];
        if (e.has('valueFrom')) {
          throw new ValidationError(`${name}: "valueFrom" references are not supported`);
        }
        return field(e, 'value', `${name} var`, name.slice('RELATED_IMAGE_'.length).toLowerCase()) ?? [];
      }),
    );
  }

  /** Every `metadata.annotations` mapping in the document, as operator-manifest finds them. */
  private annotationObjects(): YAMLMap[] {
    const out: YAMLMap[] = [];
    const walk = (node: unknown): void => {
      if (isMap(node)) {
        const metadata = node.get('metadata', true);
        if (isMap(metadata)) {
          const ann = metadata.get('annotations', true);
          if (isMap(ann)) out.push(ann);
        }
        for (const pair of node.items) {
          const key = isScalar(pair.key) ? pair.key.value : pair.key;
          if (key !== 'metadata') walk(pair.value);
        }
      } else if (isSeq(node)) {
        for (const item of node.items) walk(item);
      }
    };
    walk(this.root);
    return out;
  }

  private knownAnnotationSpecs(): NamedPullSpec[] {
    return this.annotationObjects().flatMap((obj) =>
      KNOWN_ANNOTATION_KEYS.flatMap((k) => annotation(obj, k) ?? []),
    );
  }

  /** Pull specs guessed in other annotations, last first so replacing one keeps the others' offsets. */
  private guessedAnnotationSpecs(): NamedPullSpec[] {
    const found: NamedPullSpec[] = [];
    for (const obj of this.annotationObjects()) {
      for (const pair of obj.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : '';
        const value = str(pair.value);
        if (value === undefined || KNOWN_ANNOTATION_KEYS.includes(key)) continue;
        for (const [i, j] of guessPullSpecs(value)) {
          const a = annotation(obj, key, i, j);
          if (a) found.push(a);
        }
      }
    }
    return found.reverse();
  }

  private namedPullSpecs(): NamedPullSpec[] {
    return [
      ...this.relatedImageSpecs(),
      ...this.knownAnnotationSpecs(),
      ...this.containerSpecs('containers'),
      ...this.containerSpecs('initContainers'),
      ...this.envSpecs(),
      ...this.guessedAnnotationSpecs(),
    ];
  }

  /** The distinct pull specs of the CSV, in the order they are found. */
  pullSpecs(): ImageName[] {
    const seen = new Map<string, ImageName>();
    for (const p of this.namedPullSpecs()) {
      const n = parseImageName(p.image);
      if (!seen.has(imageKey(n))) seen.set(imageKey(n), n);
    }
    return [...seen.values()];
  }

  hasRelatedImages(): boolean {
    return this.relatedImageSpecs().length > 0;
  }

  /** Replaces every string value that is a replaced pull spec, and the pull specs inside annotations. */
  replaceEverywhere(replacements: Replacements): void {
    const swap = (text: string): string | undefined => {
      const old = parseImageName(text);
      const next = replacements.get(imageKey(old));
      return next && imageKey(next) !== imageKey(old) ? imageNameToString(next) : undefined;
    };
    const walk = (node: unknown, parentKey: unknown): void => {
      if (isMap(node)) {
        for (const pair of node.items) {
          const key = isScalar(pair.key) ? pair.key.value : pair.key;
          if (parentKey === 'metadata' && key === 'annotations') continue;
          if (isScalar(pair.value)) {
            const next = typeof pair.value.value === 'string' ? swap(pair.value.value) : undefined;
            if (next !== undefined) pair.value.value = next;
          } else walk(pair.value, key);
        }
      } else if (isSeq(node)) {
        node.items.forEach((item, index) => {
          if (isScalar(item)) {
            const next = typeof item.value === 'string' ? swap(item.value) : undefined;
            if (next !== undefined) item.value = next;
          } else walk(item, index);
        });
      }
    };
    walk(this.root, undefined);
    for (const spec of [...this.knownAnnotationSpecs(), ...this.guessedAnnotationSpecs()]) {
      const next = swap(spec.image);
      if (next !== undefined) spec.set(next);
    }
  }

  /** Sets spec.relatedImages from the pull specs found in the CSV (first of each name wins). */
  setRelatedImages(): void {
    const specs = this.namedPullSpecs();
    if (specs.length === 0) return;
    const byName = new Map<string, NamedPullSpec>();
    const conflicts: string[] = [];
    for (const p of specs) {
      const first = byName.get(p.name);
      if (!first) byName.set(p.name, p);
      else if (first.image !== p.image) {
        conflicts.push(`${first.description}: ${first.image} X ${p.description}: ${p.image}`);
      }
    }
    if (conflicts.length > 0) {
      throw new ValidationError(
        `${path.basename(this.file)} - Found conflicts when setting relatedImages: ${conflicts.join('; ')}`,
      );
    }
    const list = [...byName.values()].map((p) => ({ name: p.name, image: p.image }));
    const spec = this.root.get('spec', true);
    if (isMap(spec)) spec.set('relatedImages', this.doc.createNode(list));
    else this.root.set('spec', this.doc.createNode({ relatedImages: list }));
  }

  /** Sets `metadata.annotations[key]`, creating the mappings when absent. */
  setAnnotation(key: string, value: string): void {
    const child = (parent: YAMLMap, name: string): YAMLMap => {
      const node: unknown = parent.get(name, true);
      if (isMap(node)) return node;
      const created = this.doc.createNode({}) as YAMLMap;
      parent.set(name, created);
      return created;
    };
    child(child(this.root, 'metadata'), 'annotations').set(key, new Scalar(value));
  }

  async save(): Promise<void> {
    await writeFile(this.file, this.doc.toString({ lineWidth: 0 }));
  }
}

export function invalidYaml(detail: string): ValidationError {
  return new ValidationError(`The Operator Manifest is not in a valid YAML format: ${detail}`);
}

async function yamlFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await yamlFiles(p)));
    else if (e.isFile() && /\.ya?ml$/.test(e.name)) out.push(p);
  }
  return out;
}

/** The one CSV of a bundle's manifests directory (IIB's OperatorManifest.from_directory). */
export async function loadOperatorCsv(manifestsDir: string): Promise<OperatorCsv> {
  const csvs: OperatorCsv[] = [];
  for (const file of await yamlFiles(manifestsDir)) {
    const shownName = path.posix.join('manifests', ...path.relative(manifestsDir, file).split(path.sep));
    const doc = parseDocument(await readBundleFile(file, shownName), { keepSourceTokens: false });
    if (doc.errors.length > 0) {
      throw invalidYaml(`${path.basename(file)}: ${doc.errors[0]?.message.split('\n')[0] ?? ''}`);
    }
    if (!isMap(doc.contents) || str(doc.contents.get('kind', true)) !== 'ClusterServiceVersion') continue;
    if (!isMap(doc.contents.get('spec', true)) || !isMap(doc.contents.get('metadata', true))) {
      throw new ValidationError(
        `The ClusterServiceVersion ${path.basename(file)} must have "metadata" and "spec" objects`,
      );
    }
    csvs.push(new OperatorCsv(file, doc));
  }
  if (csvs.length === 0) throw new ValidationError('Missing ClusterServiceVersion in operator manifests');
  if (csvs.length > 1) {
    throw new ValidationError(
      `Operator bundle may contain only 1 CSV file, but contains more: ${csvs
        .map((c) => path.relative(manifestsDir, c.file))
        .join(', ')}`,
    );
  }
  return csvs[0] as OperatorCsv;
}
