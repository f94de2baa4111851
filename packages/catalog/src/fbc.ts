/**
 * File-based catalog (FBC) types and their on-disk form: one directory per
 * package holding `catalog.json`, blobs ordered as opm writes them.
 */
import { decodeAll, isRecord } from './decode';
import { inputError } from './errors';
import { byteOrder, encodeBlob } from './gojson';

export interface Property {
  type: string;
  value: unknown;
}

export interface RelatedImage {
  name: string;
  image: string;
}

export interface Icon {
  base64data: string;
  mediatype: string;
}

export interface PackageBlob {
  schema: 'olm.package';
  name: string;
  defaultChannel: string;
  icon?: Icon;
  description?: string;
  properties?: Property[];
}

export interface ChannelEntry {
  name: string;
  replaces?: string;
  skips?: string[];
  skipRange?: string;
}

export interface ChannelBlob {
  schema: 'olm.channel';
  name: string;
  package: string;
  entries: ChannelEntry[];
  properties?: Property[];
}

export interface BundleBlob {
  schema: 'olm.bundle';
  name: string;
  package: string;
  image: string;
  properties?: Property[];
  relatedImages?: RelatedImage[];
}

/** Any other blob (olm.deprecations, templates...), kept verbatim. */
export interface OtherBlob {
  schema: string;
  package?: string;
  [key: string]: unknown;
}

/** Everything a catalog holds about one package. */
export interface PackageBlock {
  name: string;
  package: PackageBlob | undefined;
  channels: ChannelBlob[];
  bundles: BundleBlob[];
  others: OtherBlob[];
  /** Where the blobs came from, for error messages. */
  sources: string[];
  /** The file read, reused (linked) when the package is written back untouched. */
  original?: { file: string };
}

export interface Catalog {
  packages: Map<string, PackageBlock>;
  /** Blobs without a package (rare; written to `catalog.json` at the root). */
  globals: OtherBlob[];
}

export function emptyCatalog(): Catalog {
  return { packages: new Map(), globals: [] };
}

export function emptyBlock(name: string): PackageBlock {
  return { name, package: undefined, channels: [], bundles: [], others: [], sources: [] };
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function blockFor(catalog: Catalog, name: string, file: string, touched: Set<PackageBlock>): PackageBlock {
  let b = catalog.packages.get(name);
  if (!b) {
    b = emptyBlock(name);
    catalog.packages.set(name, b);
  }
  if (!touched.has(b)) {
    touched.add(b);
    if (!b.sources.includes(file)) b.sources.push(file);
  }
  return b;
}

/**
 * Adds the blobs of one file to a catalog; `file` is only used in messages.
 * Returns the packages the file holds blobs of.
 */
export function addBlobs(catalog: Catalog, docs: unknown[], file: string): Set<PackageBlock> {
  const touched = new Set<PackageBlock>();
  for (const doc of docs) {
    if (!isRecord(doc))
      throw inputError(file, `expected a JSON/YAML object per document, found ${typeof doc}`);
    const schema = doc.schema;
    if (typeof schema !== 'string' || schema === '') {
      throw inputError(file, `object '${JSON.stringify(doc).slice(0, 200)}' is missing root schema field`);
    }
    if (schema === 'olm.package') {
      const name = str(doc.name);
      const block = blockFor(catalog, name, file, touched);
      if (block.package) {
        throw inputError(file, `duplicate package "${name}" (also defined in ${block.sources[0] ?? file})`);
      }
      block.package = { ...(doc as unknown as PackageBlob), defaultChannel: str(doc.defaultChannel) };
    } else if (schema === 'olm.channel') {
      const ch = doc as unknown as ChannelBlob;
      if (!Array.isArray(ch.entries)) ch.entries = [];
      blockFor(catalog, str(doc.package), file, touched).channels.push(ch);
    } else if (schema === 'olm.bundle') {
      blockFor(catalog, str(doc.package), file, touched).bundles.push(doc as unknown as BundleBlob);
    } else {
      const pkg = str(doc.package);
      if (pkg === '') catalog.globals.push(doc as OtherBlob);
      else blockFor(catalog, pkg, file, touched).others.push(doc as OtherBlob);
    }
  }
  return touched;
}

/** Adds the blobs of one file's text to a catalog; returns the packages it holds blobs of. */
export function parseCatalogText(catalog: Catalog, text: string, file: string): Set<PackageBlock> {
  return addBlobs(catalog, decodeAll(text, file), file);
}

function orderBlob<T extends object>(blob: T, keys: readonly string[]): T {
  const out: Record<string, unknown> = {};
  const rec = blob as Record<string, unknown>;
  for (const k of keys) if (rec[k] !== undefined) out[k] = rec[k];
  return out as T;
}

const PACKAGE_KEYS = ['schema', 'name', 'defaultChannel', 'icon', 'description', 'properties'];
const CHANNEL_KEYS = ['schema', 'name', 'package', 'entries', 'properties'];
const ENTRY_KEYS = ['name', 'replaces', 'skips', 'skipRange'];
const BUNDLE_KEYS = ['schema', 'name', 'package', 'image', 'properties', 'relatedImages'];

function normalizeEntry(e: ChannelEntry): ChannelEntry {
  const out = orderBlob(e, ENTRY_KEYS);
  if (out.replaces === '') delete out.replaces;
  if (out.skipRange === '') delete out.skipRange;
  if (out.skips && out.skips.length === 0) delete out.skips;
  return out;
}

/** The blobs of one package in opm's output order and field order, as text. */
export function serializeBlock(block: PackageBlock): string {
  const parts: string[] = [];
  if (block.package) {
    const p = orderBlob(block.package, PACKAGE_KEYS);
    if (p.description === '') delete p.description;
    if (p.properties && p.properties.length === 0) delete p.properties;
    p.defaultChannel = p.defaultChannel ?? '';
    parts.push(encodeBlob(p));
  }
  const channels = [...block.channels].sort((a, b) => byteOrder(a.name, b.name));
  for (const c of channels) {
    const out = orderBlob(c, CHANNEL_KEYS);
    out.entries = c.entries.map(normalizeEntry);
    parts.push(encodeBlob(out));
  }
  const bundles = [...block.bundles].sort((a, b) => byteOrder(a.name, b.name));
  for (const b of bundles) {
    const out = orderBlob(b, BUNDLE_KEYS);
    if (out.properties && out.properties.length === 0) delete out.properties;
    if (out.relatedImages && out.relatedImages.length === 0) delete out.relatedImages;
    parts.push(encodeBlob(out));
  }
  const others = [...block.others].sort((a, b) => byteOrder(a.schema, b.schema));
  for (const o of others) parts.push(encodeBlob(o));
  return parts.join('');
}

/** `properties` of a bundle of the given type. */
export function propsOfType(b: { properties?: Property[] }, type: string): Property[] {
  return (b.properties ?? []).filter((p) => p.type === type);
}

/** The version in a bundle's olm.package property ('' when missing). */
export function bundleVersion(b: BundleBlob): string {
  const p = propsOfType(b, 'olm.package')[0];
  return isRecord(p?.value) ? str(p.value.version) : '';
}
