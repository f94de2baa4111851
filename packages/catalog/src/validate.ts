/**
 * `opm validate` v1.26.4 on a catalog: declcfg.ConvertToModel then
 * model.Validate, with opm's messages (map iteration made deterministic).
 */
import { isRecord } from './decode';
import type { BundleBlob, Catalog, ChannelEntry, PackageBlock, Property } from './fbc';
import { byteOrder } from './gojson';
import { parseVersion } from './versions';

class Tree {
  readonly sub: (Tree | string)[] = [];
  constructor(readonly message: string) {}
  orNull(): Tree | null {
    return this.sub.length === 0 ? null : this;
  }
  render(prefix: string, last: boolean): string {
    let out = `${prefix}${this.message}${this.sub.length === 0 ? '\n' : ':\n'}`;
    this.sub.forEach((s, i) => {
      let subPrefix = prefix;
      if (subPrefix.length >= 4) subPrefix = subPrefix.slice(0, -4) + (last ? '    ' : '│   ');
      const subLast = i === this.sub.length - 1;
      subPrefix += subLast ? '└── ' : '├── ';
      out += typeof s === 'string' ? `${subPrefix}${s}\n` : s.render(subPrefix, subLast);
    });
    return out;
  }
  toString(): string {
    return this.render('', true).trim();
  }
}

interface MBundle {
  name: string;
  replaces: string;
  skips: string[];
  blob: BundleBlob | undefined;
}

interface MChannel {
  name: string;
  bundles: Map<string, MBundle>;
}

interface MPackage {
  name: string;
  defaultChannel: MChannel | undefined;
  channels: Map<string, MChannel>;
}

function q(s: string): string {
  return JSON.stringify(s);
}

function packageProps(props: Property[] | undefined): { packageName: string; version: string }[] | string {
  const out: { packageName: string; version: string }[] = [];
  for (const [i, p] of (props ?? []).entries()) {
    if (p.type !== 'olm.package') continue;
    const v = p.value;
    if (!isRecord(v) || (v.packageName !== undefined && typeof v.packageName !== 'string')) {
      return `parse property[${i}] of type "olm.package": json: cannot unmarshal into Go value of type property.Package`;
    }
    out.push({
      packageName: typeof v.packageName === 'string' ? v.packageName : '',
      version: typeof v.version === 'string' ? v.version : '',
    });
  }
  return out;
}

function entryBundle(e: ChannelEntry): MBundle {
  return { name: e.name, replaces: e.replaces ?? '', skips: e.skips ?? [], blob: undefined };
}

/** declcfg.ConvertToModel: structural errors stop at the first one, as opm does. */
function convertToModel(blocks: readonly PackageBlock[]): Map<string, MPackage> | string {
  const pkgs = new Map<string, MPackage>();
  const defaults = new Map<string, string>();
  for (const b of blocks) {
    if (!b.package) continue;
    if (b.package.name === '') return 'config contains package with no name';
    if (pkgs.has(b.package.name)) return `duplicate package ${q(b.package.name)}`;
    pkgs.set(b.package.name, { name: b.package.name, defaultChannel: undefined, channels: new Map() });
    defaults.set(b.package.name, b.package.defaultChannel ?? '');
  }
  const defined = new Map<string, Set<string>>();
  for (const b of blocks) {
    for (const c of b.channels) {
      const mpkg = pkgs.get(c.package);
      if (!mpkg) return `unknown package ${q(c.package)} for channel ${q(c.name)}`;
      if (c.name === '') return `package ${q(c.package)} contains channel with no name`;
      if (mpkg.channels.has(c.name)) return `package ${q(c.package)} has duplicate channel ${q(c.name)}`;
      const ch: MChannel = { name: c.name, bundles: new Map() };
      const names = new Set<string>();
      for (const e of c.entries) {
        if (ch.bundles.has(e.name)) {
          return `invalid package ${q(c.package)}, channel ${q(c.name)}: duplicate entry ${q(e.name)}`;
        }
        names.add(e.name);
        ch.bundles.set(e.name, entryBundle(e));
      }
      // opm keeps only the last channel's entries here; kept for identical verdicts.
      defined.set(c.package, names);
      mpkg.channels.set(c.name, ch);
      if (defaults.get(c.package) === c.name) mpkg.defaultChannel = ch;
    }
  }
  const seen = new Map<string, Set<string>>();
  for (const blk of blocks) {
    for (const b of blk.bundles) {
      if (b.package === '') return `package name must be set for bundle ${q(b.name)}`;
      const mpkg = pkgs.get(b.package);
      if (!mpkg) return `unknown package ${q(b.package)} for bundle ${q(b.name)}`;
      const names = seen.get(b.package) ?? new Set<string>();
      if (names.has(b.name)) return `package ${q(b.package)} has duplicate bundle ${q(b.name)}`;
      names.add(b.name);
      seen.set(b.package, names);
      const props = packageProps(b.properties);
      if (typeof props === 'string') return `parse properties for bundle ${q(b.name)}: ${props}`;
      if (props.length !== 1) {
        return `package ${q(b.package)} bundle ${q(b.name)} must have exactly 1 "olm.package" property, found ${props.length}`;
      }
      const pp = props[0]!;
      if (b.package !== pp.packageName)
        return `package ${q(b.package)} does not match "olm.package" property ${q(pp.packageName)}`;
      const ver = parseVersion(pp.version);
      if (!ver.ok) return `error parsing bundle ${q(b.name)} version ${q(pp.version)}: ${ver.error}`;
      defined.get(b.package)?.delete(b.name);
      let found = false;
      for (const ch of mpkg.channels.values()) {
        const mb = ch.bundles.get(b.name);
        if (mb) {
          found = true;
          mb.blob = b;
        }
      }
      if (!found) return `package ${q(b.package)}, bundle ${q(b.name)} not found in any channel entries`;
    }
  }
  for (const [pkg, names] of defined) {
    if (names.size > 0) {
      return `no olm.bundle blobs found in package ${q(pkg)} for olm.channel entries [${[...names].sort(byteOrder).join(' ')}]`;
    }
  }
  for (const mpkg of pkgs.values()) {
    const def = defaults.get(mpkg.name) ?? '';
    if (def !== '' && !mpkg.defaultChannel) {
      const ch: MChannel = { name: def, bundles: new Map() };
      mpkg.defaultChannel = ch;
      mpkg.channels.set(def, ch);
    }
  }
  return pkgs;
}

function replacesChainError(ch: MChannel): string | undefined {
  const incoming = new Set<string>();
  for (const b of ch.bundles.values()) {
    if (b.replaces !== '') incoming.add(b.replaces);
    for (const s of b.skips) incoming.add(s);
  }
  const heads = [...ch.bundles.values()].filter((b) => !incoming.has(b.name));
  if (heads.length === 0) return 'no channel head found in graph';
  if (heads.length > 1) {
    return `multiple channel heads found in graph: ${heads
      .map((h) => h.name)
      .sort(byteOrder)
      .join(', ')}`;
  }
  const head = heads[0]!;
  const skipped = new Set<string>();
  for (const b of ch.bundles.values()) for (const s of b.skips) skipped.add(s);
  const chainFrom = new Map<string, string[]>();
  const chain = new Set([head.name]);
  let cur: MBundle | undefined = head;
  while (cur) {
    if (!chainFrom.has(cur.name)) chainFrom.set(cur.name, [cur.name]);
    for (const list of chainFrom.values()) list.push(cur.replaces);
    if (chain.has(cur.replaces)) {
      return `detected cycle in replaces chain of upgrade graph: ${(chainFrom.get(cur.replaces) ?? []).join(' -> ')}`;
    }
    chain.add(cur.replaces);
    cur = ch.bundles.get(cur.replaces);
  }
  const stranded = [...ch.bundles.keys()].filter((n) => !chain.has(n) && !skipped.has(n)).sort(byteOrder);
  if (stranded.length > 0) return `channel contains one or more stranded bundles: ${stranded.join(', ')}`;
  return undefined;
}

function validateBundle(b: MBundle): Tree | null {
  const t = new Tree(`invalid bundle ${q(b.name)}`);
  const props = packageProps(b.blob?.properties);
  if (typeof props === 'string') t.sub.push(props);
  b.skips.forEach((s, i) => {
    if (s === '') t.sub.push(`skip[${i}] is empty`);
  });
  if (typeof props !== 'string' && props.length !== 1)
    t.sub.push('must be exactly one property with type "olm.package"');
  const objects = (b.blob?.properties ?? []).some((p) => p.type === 'olm.bundle.object');
  if ((b.blob?.image ?? '') === '' && !objects) t.sub.push('bundle image must be set');
  return t.orNull();
}

function validateModel(pkgs: Map<string, MPackage>): string | undefined {
  const root = new Tree('invalid index');
  for (const name of [...pkgs.keys()].sort(byteOrder)) {
    const pkg = pkgs.get(name)!;
    const pt = new Tree(`invalid package ${q(pkg.name)}`);
    if (pkg.name === '') pt.sub.push('package name must not be empty');
    if (!pkg.defaultChannel) pt.sub.push('default channel must be set');
    if (pkg.channels.size === 0) pt.sub.push('package must contain at least one channel');
    for (const cname of [...pkg.channels.keys()].sort(byteOrder)) {
      const ch = pkg.channels.get(cname)!;
      const ct = new Tree(`invalid channel ${q(ch.name)}`);
      if (ch.name === '') ct.sub.push('channel name must not be empty');
      if (ch.bundles.size === 0) ct.sub.push('channel must contain at least one bundle');
      else {
        const err = replacesChainError(ch);
        if (err) ct.sub.push(err);
      }
      for (const bname of [...ch.bundles.keys()].sort(byteOrder)) {
        const bt = validateBundle(ch.bundles.get(bname)!);
        if (bt) ct.sub.push(bt);
      }
      const c = ct.orNull();
      if (c) pt.sub.push(c);
    }
    const p = pt.orNull();
    if (p) root.sub.push(p);
  }
  return root.orNull()?.toString();
}

/** Validates some packages on their own; returns opm's message, or undefined when valid. */
export function validatePackages(blocks: readonly PackageBlock[]): string | undefined {
  const model = convertToModel(blocks);
  if (typeof model === 'string') return model;
  return validateModel(model);
}

export interface ValidationResult {
  valid: boolean;
  /** opm's message when invalid. */
  message?: string;
}

/** `opm validate` of a whole catalog. */
export function validateCatalog(catalog: Catalog): ValidationResult {
  const message = validatePackages([...catalog.packages.values()]);
  return message === undefined ? { valid: true } : { valid: false, message };
}
