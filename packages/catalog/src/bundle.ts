/**
 * Parsing a bundle's `manifests/` and `metadata/` as opm's bundle parser does
 * (pkg/registry/parse.go): files in name order, first document of each, the
 * first CSV only, annotations from the first metadata file that has them.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { decodeFirst, isRecord } from './decode';
import { MAX_MANIFEST_BYTES, readTextCapped } from './bounded-read';
import { inputError } from './errors';

type Obj = Record<string, unknown>;

export interface ApiKey {
  group: string;
  version: string;
  kind: string;
  plural: string;
}

export interface DependencyItem {
  type: string;
  value: unknown;
}

export interface ParsedBundle {
  dir: string;
  /** CSV metadata.name */
  name: string;
  package: string;
  channels: string[];
  defaultChannel: string;
  /** Every decoded manifest in file order (the CSV once). */
  objects: Obj[];
  csv: Obj;
  csvFile: string;
  version: string;
  replaces: string;
  skips: string[];
  skipRange: string;
  /** properties.yaml entries followed by the derived ones (olm.package, CSV olm.properties, olm.gvk). */
  properties: DependencyItem[];
  dependencies: DependencyItem[];
  warnings: string[];
}

const ANNOTATION_PACKAGE = 'operators.operatorframework.io.bundle.package.v1';
const ANNOTATION_CHANNELS = 'operators.operatorframework.io.bundle.channels.v1';
const ANNOTATION_DEFAULT = 'operators.operatorframework.io.bundle.channel.default.v1';

function rec(v: unknown): Obj {
  return isRecord(v) ? v : {};
}

function s(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

async function listFiles(dir: string, file: string): Promise<string[]> {
  try {
    const entries = await fsp.readdir(dir, { withFileTypes: true });
    return entries
      .filter((e) => !e.isDirectory())
      .map((e) => e.name)
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw inputError(
      file,
      code === 'ENOENT' ? 'directory not found' : `cannot read directory (${code ?? 'error'})`,
    );
  }
}

export function csvSpec(csv: Obj): Obj {
  return rec(csv.spec);
}

function definitionKeys(section: unknown, which: 'owned' | 'required'): Obj[] {
  const list = rec(section)[which];
  return Array.isArray(list) ? list.map(rec) : [];
}

/** APIs the bundle provides: CRD versions plus owned API service definitions (bundle.go ProvidedAPIs). */
export function providedApis(objects: Obj[], csv: Obj): ApiKey[] {
  const out: ApiKey[] = [];
  for (const o of objects) {
    if (o.kind !== 'CustomResourceDefinition') continue;
    const apiVersion = s(o.apiVersion);
    if (apiVersion !== 'apiextensions.k8s.io/v1' && apiVersion !== 'apiextensions.k8s.io/v1beta1') continue;
    const spec = rec(o.spec);
    const names = rec(spec.names);
    const base = { group: s(spec.group), kind: s(names.kind), plural: s(names.plural) };
    const versions = Array.isArray(spec.versions) ? spec.versions.map(rec) : [];
    for (const v of versions) out.push({ ...base, version: s(v.name) });
    if (apiVersion.endsWith('v1beta1') && s(spec.version) !== '')
      out.push({ ...base, version: s(spec.version) });
  }
  for (const d of definitionKeys(csvSpec(csv).apiservicedefinitions, 'owned')) {
    out.push({ group: s(d.group), version: s(d.version), kind: s(d.kind), plural: s(d.name) });
  }
  return out;
}

/** APIs the CSV requires (required CRDs by `plural.group` name, required API services). */
export function requiredApis(csv: Obj, file: string): ApiKey[] {
  const out: ApiKey[] = [];
  for (const d of definitionKeys(csvSpec(csv).customresourcedefinitions, 'required')) {
    const name = s(d.name);
    const dot = name.indexOf('.');
    if (dot < 0) throw inputError(file, `couldn't parse plural.group from crd name: ${name}`);
    out.push({
      group: name.slice(dot + 1),
      version: s(d.version),
      kind: s(d.kind),
      plural: name.slice(0, dot),
    });
  }
  for (const d of definitionKeys(csvSpec(csv).apiservicedefinitions, 'required')) {
    out.push({ group: s(d.group), version: s(d.version), kind: s(d.kind), plural: s(d.name) });
  }
  return out;
}

function apiKeyString(k: ApiKey): string {
  return `{${k.group} ${k.version} ${k.kind} ${k.plural}}`;
}

function checkOwnedCrds(objects: Obj[], csv: Obj, name: string, file: string): void {
  const provided = providedApis(objects, csv);
  const have = new Set(provided.map(apiKeyString));
  for (const d of definitionKeys(csvSpec(csv).customresourcedefinitions, 'owned')) {
    const crdName = s(d.name);
    const dot = crdName.indexOf('.');
    if (dot < 0) throw inputError(file, `couldn't parse plural.group from crd name: ${crdName}`);
    const key = {
      group: crdName.slice(dot + 1),
      version: s(d.version),
      kind: s(d.kind),
      plural: crdName.slice(0, dot),
    };
    if (!have.has(apiKeyString(key))) {
      const found = [...have].map((k) => `${k}:{}`).join(' ');
      throw inputError(
        file,
        `error checking provided apis in bundle ${name}: couldn't find ${apiKeyString(key)} in bundle. found: map[${found}]`,
      );
    }
  }
}

/** Operator images: containers and init containers of the CSV's install deployments. */
export function operatorImages(csv: Obj): string[] {
  const install = rec(csvSpec(csv).install);
  if (install.strategy !== 'deployment') return [];
  const deployments = rec(install.spec).deployments;
  const out: string[] = [];
  for (const d of Array.isArray(deployments) ? deployments.map(rec) : []) {
    const podSpec = rec(rec(rec(d.spec).template).spec);
    for (const key of ['containers', 'initContainers']) {
      const list = podSpec[key];
      for (const c of Array.isArray(list) ? list.map(rec) : []) {
        const img = s(c.image);
        if (!out.includes(img)) out.push(img);
      }
    }
  }
  return out;
}

/** A manifest or metadata file, refused past MAX_MANIFEST_BYTES before it is read into memory. */
async function readManifestFile(file: string): Promise<string> {
  try {
    return await readTextCapped(file, MAX_MANIFEST_BYTES, (problem) => inputError(file, problem));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === undefined) throw err;
    throw inputError(file, `cannot read file (${code})`);
  }
}

async function readManifests(dir: string) {
  const mdir = path.join(dir, 'manifests');
  const objects: Obj[] = [];
  const warnings: string[] = [];
  let csv: Obj | undefined;
  let csvFile = '';
  for (const name of await listFiles(mdir, mdir)) {
    if (name.startsWith('.')) continue;
    const file = path.join(mdir, name);
    const doc = decodeFirst(await readManifestFile(file), file);
    if (!isRecord(doc) || typeof doc.kind !== 'string' || doc.kind === '') {
      warnings.push(`${file}: not a Kubernetes object (no kind), skipped`);
      continue;
    }
    if (doc.kind === 'ClusterServiceVersion') {
      if (csv) continue;
      csv = doc;
      csvFile = file;
    }
    objects.push(doc);
  }
  if (objects.length === 0) throw inputError(mdir, 'no bundle objects found');
  if (!csv) throw inputError(mdir, 'no csv in bundle (no ClusterServiceVersion manifest found)');
  return { objects, csv, csvFile, warnings };
}

async function readMetadata(dir: string) {
  const mdir = path.join(dir, 'metadata');
  let annotations: Obj | undefined;
  let dependencies: DependencyItem[] | undefined;
  let properties: DependencyItem[] | undefined;
  for (const name of await listFiles(mdir, mdir)) {
    const file = path.join(mdir, name);
    const doc = decodeFirst(await readManifestFile(file), file);
    if (!isRecord(doc)) continue;
    const ann = doc.annotations;
    if (!annotations && isRecord(ann)) {
      const picked = [ANNOTATION_PACKAGE, ANNOTATION_CHANNELS, ANNOTATION_DEFAULT].some(
        (k) => s(ann[k]) !== '',
      );
      if (picked) annotations = ann;
    }
    const list = (v: unknown): DependencyItem[] | undefined =>
      Array.isArray(v) && v.length > 0
        ? v.map((d) => ({ type: s(rec(d).type), value: rec(d).value }))
        : undefined;
    dependencies ??= list(doc.dependencies);
    properties ??= list(doc.properties);
  }
  if (!annotations) throw inputError(mdir, 'Could not find annotations file');
  return { annotations, dependencies: dependencies ?? [], properties: properties ?? [] };
}

function stringField(spec: Obj, key: string, file: string): string {
  const v = spec[key];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string')
    throw inputError(file, `spec.${key}: json: cannot unmarshal ${typeof v} into Go value of type string`);
  return v;
}

/** Reads a bundle directory (with `manifests/` and `metadata/`). */
export async function parseBundleDir(dir: string): Promise<ParsedBundle> {
  const { objects, csv, csvFile, warnings } = await readManifests(dir);
  const name = s(rec(csv.metadata).name);
  if (name === '') throw inputError(csvFile, 'the ClusterServiceVersion has no metadata.name');
  checkOwnedCrds(objects, csv, name, csvFile);
  const { annotations, dependencies, properties } = await readMetadata(dir);
  const spec = csvSpec(csv);
  const version = stringField(spec, 'version', csvFile);
  const replaces = stringField(spec, 'replaces', csvFile);
  const skipsRaw = spec.skips;
  const skips = Array.isArray(skipsRaw) ? skipsRaw.map((x) => String(x)) : [];
  const csvAnnotations = rec(rec(csv.metadata).annotations);
  const pkg = s(annotations[ANNOTATION_PACKAGE]);
  const channelsRaw = s(annotations[ANNOTATION_CHANNELS]);

  const derived: DependencyItem[] = [];
  const propAnnotation = csvAnnotations['olm.properties'];
  if (typeof propAnnotation === 'string') {
    try {
      const parsed = JSON.parse(propAnnotation) as unknown;
      if (Array.isArray(parsed))
        for (const p of parsed) derived.push({ type: s(rec(p).type), value: rec(p).value });
    } catch {
      warnings.push(`${csvFile}: failed to unmarshal csv annotation properties`);
    }
  }
  if (pkg !== '') derived.unshift({ type: 'olm.package', value: { packageName: pkg, version } });
  for (const api of providedApis(objects, csv)) {
    derived.push({ type: 'olm.gvk', value: { group: api.group, kind: api.kind, version: api.version } });
  }
  return {
    dir,
    name,
    package: pkg,
    channels: channelsRaw === '' ? [] : channelsRaw.split(','),
    defaultChannel: s(annotations[ANNOTATION_DEFAULT]),
    objects,
    csv,
    csvFile,
    version,
    replaces,
    skips,
    skipRange: s(csvAnnotations['olm.skipRange']),
    properties: [...properties, ...derived],
    dependencies,
    warnings,
  };
}
