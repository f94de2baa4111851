/**
 * `opm registry add --mode replaces`: the package's channels are rebuilt from
 * all its bundles (SemverPackageManifest picks heads and the default channel,
 * addPackageChannels walks each CSV `replaces` chain from the head).
 */
import type { ChannelEntry } from './fbc';
import { byteOrder } from './gojson';
import type { RegBundle } from './registry-state';
import { buildIdCompare, goFormatVersion, parseVersion, type SemVer } from './versions';

interface HeadVersion {
  name: string;
  version: SemVer;
  count: number;
}

export interface PackageManifest {
  defaultChannel: string;
  /** channel -> head bundle name, in the order heads were first seen */
  heads: Map<string, string>;
}

/**
 * Heads are the highest versions per channel; the default channel is the
 * annotation default of the highest version (existing bundles carry the
 * package's current default, as opm's registry hands them back).
 */
export function semverPackageManifest(
  bundles: readonly RegBundle[],
  packageDefault: string,
): { ok: true; manifest: PackageManifest } | { ok: false; error: string } {
  const heads = new Map<string, HeadVersion>();
  let defaultChannel = '';
  const zero = parseVersion('0.0.0');
  if (!zero.ok) throw new Error('unreachable');
  let max: HeadVersion = { name: '', version: zero.version, count: 0 };
  for (const b of bundles) {
    const raw = b.version === '' ? '0.0.0-z' : b.version;
    const parsed = parseVersion(raw);
    if (!parsed.ok)
      return { ok: false, error: `error parsing bundle ${b.name} version ${raw}: ${parsed.error}` };
    const current: HeadVersion = { name: b.name, version: parsed.version, count: 1 };
    for (const ch of b.channels) {
      const head = heads.get(ch);
      if (!head) {
        heads.set(ch, { ...current });
        continue;
      }
      const c = buildIdCompare(current.version, head.version);
      if (c < 0) continue;
      if (c === 0) current.count += head.count;
      heads.set(ch, { ...current });
    }
    const c = buildIdCompare(current.version, max.version);
    if (c < 0) continue;
    if (c === 0) current.count += max.count;
    max = { ...current };
    const def = b.annotationDefault !== undefined ? b.annotationDefault : packageDefault;
    if (def !== '') defaultChannel = def;
  }
  if (max.count > 1)
    return { ok: false, error: `more than one bundle with maximum version ${max.version.format()}` };
  let manifestDefault = defaultChannel;
  let defaultFound = heads.size === 1 && defaultChannel === '';
  for (const [ch, head] of heads) {
    if (head.count > 1) return { ok: false, error: `more than one potential channel head for ${ch}` };
    if (heads.size === 1) manifestDefault = ch;
    defaultFound ||= ch === defaultChannel;
  }
  if (!defaultFound) {
    const shown = [...heads.keys()]
      .sort(byteOrder)
      .map((ch) => {
        const h = heads.get(ch)!;
        return `${ch}:{name:${h.name} version:${goFormatVersion(h.version)} count:${h.count}}`;
      })
      .join(' ');
    return { ok: false, error: `unable to determine default channel among channel heads: map[${shown}]` };
  }
  return {
    ok: true,
    manifest: { defaultChannel: manifestDefault, heads: new Map([...heads].map(([k, v]) => [k, v.name])) },
  };
}

/** Walks one channel from its head along CSV `replaces`, as addPackageChannels does. */
function walkChannel(
  head: string,
  bundles: ReadonlyMap<string, RegBundle>,
  errors: string[],
): ChannelEntry[] {
  const chain: string[] = [];
  const replacesOf = new Map<string, string>();
  const skipsOf = new Map<string, string[]>();
  const skipped = new Set<string>();
  const seen = new Set([head]);
  let cur = head;
  for (;;) {
    const b = bundles.get(cur);
    if (!b) break;
    chain.push(cur);
    if (b.skips.length > 0) skipsOf.set(cur, [...b.skips]);
    for (const s of b.skips) skipped.add(s);
    if (b.replaces === '') break;
    if (seen.has(b.replaces)) {
      errors.push(`Cycle detected, ${cur} replaces ${b.replaces}`);
      break;
    }
    seen.add(b.replaces);
    replacesOf.set(cur, b.replaces);
    if (!bundles.has(b.replaces)) {
      errors.push(`Invalid bundle ${head}, replaces nonexistent bundle ${b.replaces}`);
      break;
    }
    cur = b.replaces;
  }
  const names = new Set(chain);
  for (const s of skipped) if (bundles.has(s)) names.add(s);
  return [...names].sort(byteOrder).map((name) => {
    const inChain = chain.includes(name);
    const e: ChannelEntry = { name };
    const r = inChain ? replacesOf.get(name) : undefined;
    if (r) e.replaces = r;
    const sk = inChain ? skipsOf.get(name) : undefined;
    if (sk) e.skips = sk;
    const range = bundles.get(name)?.skipRange;
    if (range) e.skipRange = range;
    return e;
  });
}

/** Rebuilds every channel of the package; returns channel entries or opm's errors. */
export function rebuildReplacesChannels(
  pkg: string,
  manifest: PackageManifest,
  bundles: ReadonlyMap<string, RegBundle>,
): { channels: Map<string, ChannelEntry[]>; errors: string[] } {
  const errors: string[] = [];
  const channels = new Map<string, ChannelEntry[]>();
  const hasDefault =
    [...manifest.heads.keys()].some((c) => c === manifest.defaultChannel) || manifest.heads.size === 1;
  if (!hasDefault) errors.push(`no default channel specified for ${pkg}`);
  for (const [ch, head] of manifest.heads) channels.set(ch, walkChannel(head, bundles, errors));
  return { channels, errors };
}
