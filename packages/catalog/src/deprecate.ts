/**
 * Deprecating bundles as `opm registry deprecatetruncate` does for IIB's
 * deprecation_list: the bundle and the part of the upgrade graph below it
 * (in the deprecated bundle's channels) are removed from the catalog.
 */
import { opmError } from './errors';
import type { Catalog, ChannelBlob, PackageBlock } from './fbc';
import { channelHeads } from './registry-state';

function edgesOf(block: PackageBlock, name: string): string[] {
  const out: string[] = [];
  for (const ch of block.channels) {
    const e = ch.entries.find((x) => x.name === name);
    if (!e) continue;
    for (const t of [e.replaces ?? '', ...(e.skips ?? [])]) if (t !== '' && !out.includes(t)) out.push(t);
  }
  return out;
}

function channelsOf(block: PackageBlock, name: string): string[] {
  return block.channels.filter((c) => c.entries.some((e) => e.name === name)).map((c) => c.name);
}

function replacedBy(block: PackageBlock, name: string): string[] {
  const out = new Set<string>();
  for (const ch of block.channels) {
    for (const e of ch.entries) if (e.replaces === name || (e.skips ?? []).includes(name)) out.add(e.name);
  }
  return [...out];
}

function deprecateOne(block: PackageBlock, name: string, image: string): void {
  const defaultHead = channelHeads(block.channels.filter((c) => c.name === block.package?.defaultChannel))
    .values()
    .next().value?.[0];
  // The tail: everything reachable below the bundle through replaces and skips.
  const tail = [name];
  for (let i = 0; i < tail.length; i++) {
    for (const t of edgesOf(block, tail[i]!))
      if (!tail.includes(t) && block.bundles.some((b) => b.name === t)) tail.push(t);
  }
  if (defaultHead !== undefined && tail.includes(defaultHead)) {
    throw opmError(`error deprecating bundle ${image}: Bundle deprecation causing default channel removal`);
  }
  const headChannels = new Set(channelsOf(block, name));
  const removeEntirely = new Set<string>([name]);
  for (const t of tail.slice(1)) {
    const chs = channelsOf(block, t);
    if (chs.every((c) => headChannels.has(c)) && replacedBy(block, t).every((r) => tail.includes(r))) {
      removeEntirely.add(t);
    }
  }
  const headed = new Set(
    [...channelHeads(block.channels)].filter(([, h]) => h.includes(name)).map(([c]) => c),
  );
  block.channels = block.channels
    .filter((c) => !headed.has(c.name))
    .map((c): ChannelBlob => {
      if (!headChannels.has(c.name)) {
        return { ...c, entries: c.entries.filter((e) => !removeEntirely.has(e.name)) };
      }
      const dropped = new Set(tail);
      const entries = c.entries
        .filter((e) => !dropped.has(e.name))
        .map((e) => {
          const out = { ...e };
          if (out.replaces !== undefined && dropped.has(out.replaces) && out.replaces !== name)
            delete out.replaces;
          if (out.skips) out.skips = out.skips.filter((s) => s === name || !dropped.has(s));
          return out;
        });
      return { ...c, entries };
    })
    .filter((c) => c.entries.length > 0);
  const remaining = new Set(block.channels.flatMap((c) => c.entries.map((e) => e.name)));
  block.bundles = block.bundles.filter((b) => !removeEntirely.has(b.name) && remaining.has(b.name));
}

/** Deprecates the bundles with the given images; returns the packages changed. */
export function deprecateBundles(catalog: Catalog, images: readonly string[]): Set<string> {
  const where = new Map<string, { block: PackageBlock; name: string }>();
  for (const block of catalog.packages.values()) {
    for (const b of block.bundles) where.set(b.image, { block, name: b.name });
  }
  const missing = images.filter((i) => !where.has(i));
  if (missing.length > 0) {
    throw opmError(`target bundlepaths for deprecation missing from registry: [${missing.join(' ')}]`);
  }
  const next = new Map(catalog.packages);
  const dirty = new Set<string>();
  for (const image of images) {
    const found = where.get(image)!;
    const current = next.get(found.block.name)!;
    const copy: PackageBlock = { ...current, channels: [...current.channels], bundles: [...current.bundles] };
    if (!copy.bundles.some((b) => b.name === found.name)) continue;
    deprecateOne(copy, found.name, image);
    next.set(copy.name, copy);
    dirty.add(copy.name);
  }
  catalog.packages = next;
  return dirty;
}
