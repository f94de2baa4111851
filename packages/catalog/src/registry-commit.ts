/**
 * Turning a package's registry view back into FBC blobs the way `opm migrate`
 * writes them, and opm's ClearNonHeadBundles.
 */
import { emptyBlock, type Catalog, type ChannelBlob, type ChannelEntry, type PackageBlock } from './fbc';
import { byteOrder } from './gojson';
import { channelHeads, clearedBlob, csvOfBlob, hasObjects, iconOfCsv, type PkgState } from './registry-state';

/** Replaces a package's channels by `entries`, dropping bundles left without entries. */
export function applyEntries(
  state: PkgState,
  entries: Map<string, ChannelEntry[]>,
  defaultChannel: string,
): void {
  state.channels = new Map(
    [...entries].map(([name, list]) => [
      name,
      { schema: 'olm.channel', name, package: state.name, entries: list } satisfies ChannelBlob,
    ]),
  );
  state.defaultChannel = defaultChannel;
  const inChannels = new Map<string, string[]>();
  for (const [ch, list] of entries) {
    for (const e of list) {
      const l = inChannels.get(e.name) ?? [];
      l.push(ch);
      inChannels.set(e.name, l);
    }
  }
  for (const [name, b] of state.bundles) {
    const chs = inChannels.get(name);
    if (chs) b.channels = chs;
    else state.bundles.delete(name);
  }
}

/** The package blob opm writes: name, default channel and the default head's icon. */
export function toBlock(state: PkgState, head: string | undefined): PackageBlock {
  const block = emptyBlock(state.name);
  block.sources = [...state.block.sources];
  block.others = [...state.block.others];
  const headBundle = head ? state.bundles.get(head) : undefined;
  const csv = headBundle ? csvOfBlob(headBundle.blob) : undefined;
  const icon = csv ? iconOfCsv(csv) : state.icon;
  block.package = { schema: 'olm.package', name: state.name, defaultChannel: state.defaultChannel };
  if (icon) block.package.icon = icon;
  block.channels = [...state.channels.values()].sort((a, b) => byteOrder(a.name, b.name));
  block.bundles = [...state.bundles.values()].map((b) => b.blob);
  return block;
}

/**
 * After a semver-mode add opm nulls the manifests of every bundle, in every
 * package, that heads no channel. Returns the packages it changed.
 */
export function clearNonHeadBundles(catalog: Catalog): Set<string> {
  const changed = new Set<string>();
  for (const block of catalog.packages.values()) {
    const heads = new Set([...channelHeads(block.channels).values()].flat());
    let touched = false;
    block.bundles = block.bundles.map((b) => {
      if (heads.has(b.name) || b.image === '' || !hasObjects(b)) return b;
      touched = true;
      return clearedBlob(b);
    });
    if (touched) changed.add(block.name);
  }
  return changed;
}
