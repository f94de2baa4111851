/**
 * Rendering a bundle to an `olm.bundle` blob exactly as `opm render` v1.26.4
 * does (registry_to_model.go ObjectsAndPropertiesFromBundle + render.go).
 */
import { parseBundleDir, operatorImages, requiredApis, csvSpec, type ParsedBundle } from './bundle';
import { isRecord } from './decode';
import type { BundleBlob, Property, RelatedImage } from './fbc';
import { byteOrder, encodeBlob, goMarshal, goMarshalNoEscape } from './gojson';

interface RawProperty {
  type: string;
  value: unknown;
  /** The JSON text opm compares when sorting properties. */
  raw: string;
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** Go's json.Unmarshal matches struct fields case-insensitively. */
function field(v: unknown, name: string): string {
  if (!isRecord(v)) return '';
  if (typeof v[name] === 'string') return v[name];
  const key = Object.keys(v).find((k) => k.toLowerCase() === name.toLowerCase());
  return key ? str(v[key]) : '';
}

function built(type: string, value: Record<string, string>): RawProperty {
  return { type, value, raw: goMarshalNoEscape(value) };
}

function gvkKey(v: unknown): string {
  return JSON.stringify([field(v, 'group'), field(v, 'kind'), field(v, 'version')]);
}

/** The sorted, non-object properties of a parsed bundle. */
export function bundleProperties(b: ParsedBundle): RawProperty[] {
  // propertySet: drop exact duplicates, keeping the first.
  const seen = new Set<string>();
  const props = b.properties.filter((p) => {
    const k = `${p.type}\u0000${goMarshal(p.value)}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  const provided = new Map<string, RawProperty>();
  const required = new Map<string, RawProperty>();
  const others: RawProperty[] = [];
  const packageRequired: RawProperty[] = [];
  let pkg: RawProperty | undefined;
  const gvk = (type: string, v: unknown) =>
    built(type, { group: field(v, 'group'), kind: field(v, 'kind'), version: field(v, 'version') });

  for (const p of props) {
    if (p.type === 'olm.gvk') provided.set(gvkKey(p.value), gvk('olm.gvk', p.value));
    else if (p.type === 'olm.package') {
      pkg = built('olm.package', {
        packageName: field(p.value, 'packageName'),
        version: field(p.value, 'version'),
      });
    } else others.push({ type: p.type, value: p.value, raw: goMarshal(p.value) });
  }
  for (const d of b.dependencies) {
    if (d.type === 'olm.gvk') required.set(gvkKey(d.value), gvk('olm.gvk.required', d.value));
    else if (d.type === 'olm.package') {
      packageRequired.push(
        built('olm.package.required', {
          packageName: field(d.value, 'packageName'),
          versionRange: field(d.value, 'version'),
        }),
      );
    } else others.push({ type: d.type, value: d.value, raw: goMarshal(d.value) });
  }
  for (const api of requiredApis(b.csv, b.csvFile)) {
    const k = gvkKey(api);
    if (!required.has(k)) required.set(k, gvk('olm.gvk.required', api));
  }
  pkg ??= built('olm.package', { packageName: b.package, version: b.version });
  const all = [pkg, ...provided.values(), ...required.values(), ...packageRequired, ...others];
  return all.sort((x, y) => byteOrder(x.type, y.type) || byteOrder(x.raw, y.raw));
}

/** `olm.bundle.object` data: base64 of Go's json.Marshal of the manifest. */
export function bundleObjectData(obj: unknown): string {
  return Buffer.from(goMarshal(obj), 'utf8').toString('base64');
}

export function relatedImagesOf(b: ParsedBundle, image: string): RelatedImage[] {
  const listed = csvSpec(b.csv).relatedImages;
  const out: RelatedImage[] = Array.isArray(listed)
    ? listed.map((ri) => ({ name: field(ri, 'name'), image: field(ri, 'image') }))
    : [];
  const all = new Set(out.map((ri) => ri.image));
  if (!all.has(image)) out.push({ name: '', image });
  for (const img of operatorImages(b.csv)) {
    if (!all.has(img)) out.push({ name: '', image: img });
    all.add(img);
  }
  // Go's sort.Slice is an insertion sort (stable) for the short lists bundles have.
  return out
    .map((ri, i) => ({ ri, i }))
    .sort((x, y) => byteOrder(x.ri.image, y.ri.image) || x.i - y.i)
    .map((x) => x.ri);
}

/** The `olm.bundle` blob of a parsed bundle for the given image reference. */
export function bundleBlob(b: ParsedBundle, image: string): BundleBlob {
  const properties: Property[] = bundleProperties(b).map((p) => ({ type: p.type, value: p.value }));
  for (const obj of b.objects)
    properties.push({ type: 'olm.bundle.object', value: { data: bundleObjectData(obj) } });
  return {
    schema: 'olm.bundle',
    name: b.name,
    package: b.package,
    image,
    properties,
    relatedImages: relatedImagesOf(b, image),
  };
}

/** Renders a bundle directory (`manifests/` + `metadata/`) as opm renders the image `image`. */
export async function renderBundle(dir: string, image: string): Promise<BundleBlob> {
  return bundleBlob(await parseBundleDir(dir), image);
}

/** The JSON `opm render <image> -o json` prints for one bundle. */
export function renderJson(blobs: readonly BundleBlob[]): string {
  return blobs.map(encodeBlob).join('');
}
