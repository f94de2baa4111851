/**
 * The view of one package that opm's sqlite registry would hold, rebuilt from
 * its FBC blobs: bundles with their CSV `replaces`/`skips`/`skipRange`, the
 * channels each bundle has entries in, and the channel graph.
 */
import type { ParsedBundle } from './bundle';
import { isRecord } from './decode';
import { bundleVersion, type BundleBlob, type ChannelBlob, type Icon, type PackageBlock } from './fbc';
import { byteOrder } from './gojson';

export interface RegBundle {
  name: string;
  image: string;
  version: string;
  /** Channels the bundle has entries in (for new bundles: its annotation channels). */
  channels: string[];
  replaces: string;
  skips: string[];
  skipRange: string;
  blob: BundleBlob;
  /** Set for bundles being added: the annotations' default channel. */
  annotationDefault?: string;
  parsed?: ParsedBundle;
}

export interface PkgState {
  name: string;
  defaultChannel: string;
  icon: Icon | undefined;
  bundles: Map<string, RegBundle>;
  channels: Map<string, ChannelBlob>;
  block: PackageBlock;
  /** Head of the default channel after an add (its CSV gives the package icon). */
  head?: string;
}

const csvCache = new WeakMap<BundleBlob, Record<string, unknown> | null>();

/** The CSV held in a bundle's olm.bundle.object properties, if any. */
export function csvOfBlob(blob: BundleBlob): Record<string, unknown> | undefined {
  const cached = csvCache.get(blob);
  if (cached !== undefined) return cached ?? undefined;
  let found: Record<string, unknown> | null = null;
  for (const p of blob.properties ?? []) {
    if (p.type !== 'olm.bundle.object' || !isRecord(p.value) || typeof p.value.data !== 'string') continue;
    try {
      const obj = JSON.parse(Buffer.from(p.value.data, 'base64').toString('utf8')) as unknown;
      if (isRecord(obj) && obj.kind === 'ClusterServiceVersion') {
        found = obj;
        break;
      }
    } catch {
      // not JSON: not a CSV
    }
  }
  csvCache.set(blob, found);
  return found ?? undefined;
}

export function hasObjects(blob: BundleBlob): boolean {
  return (blob.properties ?? []).some((p) => p.type === 'olm.bundle.object');
}

function rec(v: unknown): Record<string, unknown> {
  return isRecord(v) ? v : {};
}

/**
 * What opm's ClearNonHeadBundles leaves of a bundle after migrate: no
 * manifests, and related images reduced to the unnamed set of images.
 */
export function clearedBlob(blob: BundleBlob): BundleBlob {
  const images = [...new Set((blob.relatedImages ?? []).map((ri) => ri.image))].sort(byteOrder);
  return {
    ...blob,
    properties: (blob.properties ?? []).filter((p) => p.type !== 'olm.bundle.object'),
    relatedImages: images.map((image) => ({ name: '', image })),
  };
}

/** The package icon opm takes from a CSV: the first icon, base64 re-encoded. */
export function iconOfCsv(csv: Record<string, unknown>): Icon | undefined {
  const icons = rec(csv.spec).icon;
  if (!Array.isArray(icons) || icons.length === 0) return undefined;
  const first = rec(icons[0]);
  let data = typeof first.base64data === 'string' ? first.base64data.replace(/[\r\n]/g, '') : '';
  if (/ /.test(data)) data = data.replace(/ /g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(data) || data.length % 4 !== 0) return undefined;
  const bytes = Buffer.from(data, 'base64');
  if (bytes.length === 0) return undefined;
  return {
    base64data: bytes.toString('base64'),
    mediatype: typeof first.mediatype === 'string' ? first.mediatype : '',
  };
}

function bundleFromBlob(blob: BundleBlob, channels: ChannelBlob[]): RegBundle {
  const csv = csvOfBlob(blob);
  const spec = rec(csv?.spec);
  const inChannels: string[] = [];
  let replaces = '';
  let skips: string[] = [];
  let skipRange = '';
  for (const ch of channels) {
    const e = ch.entries.find((x) => x.name === blob.name);
    if (!e) continue;
    inChannels.push(ch.name);
    replaces ||= e.replaces ?? '';
    for (const s of e.skips ?? []) if (!skips.includes(s)) skips.push(s);
    skipRange ||= e.skipRange ?? '';
  }
  if (csv) {
    // The registry keeps the CSV's own edges, whatever graph the mode built.
    replaces = typeof spec.replaces === 'string' ? spec.replaces : '';
    skips = Array.isArray(spec.skips) ? spec.skips.map(String) : [];
    const ann = rec(rec(csv.metadata).annotations);
    skipRange = typeof ann['olm.skipRange'] === 'string' ? ann['olm.skipRange'] : '';
  }
  let version = bundleVersion(blob);
  if (version === '' && typeof spec.version === 'string') version = spec.version;
  return {
    name: blob.name,
    image: blob.image,
    version,
    channels: inChannels,
    replaces,
    skips,
    skipRange,
    blob,
  };
}

export function loadPackageState(block: PackageBlock): PkgState {
  const channels = new Map(block.channels.map((c) => [c.name, c]));
  const bundles = new Map<string, RegBundle>();
  for (const b of block.bundles) bundles.set(b.name, bundleFromBlob(b, block.channels));
  return {
    name: block.name,
    defaultChannel: block.package?.defaultChannel ?? '',
    icon: block.package?.icon,
    bundles,
    channels,
    block,
  };
}

/** A bundle being added, as the registry stores it. */
export function newRegBundle(parsed: ParsedBundle, blob: BundleBlob): RegBundle {
  return {
    name: parsed.name,
    image: blob.image,
    version: parsed.version,
    channels: [...parsed.channels],
    replaces: parsed.replaces,
    skips: [...parsed.skips],
    skipRange: parsed.skipRange,
    blob,
    annotationDefault: parsed.defaultChannel,
    parsed,
  };
}

/** Heads of each channel of an FBC package: entries nobody replaces or skips. */
export function channelHeads(channels: Iterable<ChannelBlob>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const ch of channels) {
    const incoming = new Set<string>();
    for (const e of ch.entries) {
      if (e.replaces) incoming.add(e.replaces);
      for (const s of e.skips ?? []) incoming.add(s);
    }
    out.set(
      ch.name,
      ch.entries.filter((e) => !incoming.has(e.name)).map((e) => e.name),
    );
  }
  return out;
}
