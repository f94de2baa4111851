/**
 * `opm registry add --mode semver|semver-skippatch`: the package graph is read
 * back from the channel entries, the new bundle is inserted by version in each
 * of its channels (bundlegraphloader.go), and every channel is rewritten by
 * walking that graph (AddPackageChannelsFromGraph).
 */
import type { ChannelBlob, ChannelEntry } from './fbc';
import { byteOrder } from './gojson';
import type { RegBundle } from './registry-state';
import { compareVersions, parseVersion, type SemVer } from './versions';

export interface ChannelGraph {
  head: string;
  /** node -> the names it replaces or skips */
  nodes: Map<string, Set<string>>;
}

export interface PackageGraph {
  name: string;
  defaultChannel: string;
  channels: Map<string, ChannelGraph>;
}

export type GraphResult = { ok: true; graph: PackageGraph } | { ok: false; error: string };

/** The graph opm's SQLGraphLoader builds from a package's channel entries. */
export function generateGraph(
  name: string,
  exists: boolean,
  defaultChannel: string,
  channels: Iterable<ChannelBlob>,
  bundles: ReadonlyMap<string, RegBundle>,
): GraphResult {
  const graph: PackageGraph = { name, defaultChannel, channels: new Map() };
  if (!exists) return { ok: true, graph: { name: '', defaultChannel: '', channels: new Map() } };
  for (const ch of channels) {
    const nodes = new Map<string, Set<string>>();
    for (const e of ch.entries) if (bundles.has(e.name)) nodes.set(e.name, new Set());
    const candidates = new Set(nodes.keys());
    for (const e of ch.entries) {
      const targets = [e.replaces ?? '', ...(e.skips ?? [])].filter((t) => t !== '');
      for (const t of targets) {
        let edges = nodes.get(e.name);
        if (!edges) {
          edges = new Set();
          nodes.set(e.name, edges);
        }
        edges.add(t);
        candidates.delete(t);
      }
    }
    if (candidates.size === 0) return { ok: false, error: `no channel head found for ${ch.name}` };
    if (candidates.size > 1) {
      const shown = [...candidates].sort(byteOrder).map((c) => {
        const b = bundles.get(c);
        return `{${b?.image ?? ''} ${b?.version ?? ''} ${c}}:{}`;
      });
      return {
        ok: false,
        error: `multiple candidate channel heads found for ${ch.name}: map[${shown.join(' ')}]`,
      };
    }
    graph.channels.set(ch.name, { head: [...candidates][0]!, nodes });
  }
  return { ok: true, graph };
}

function isSkipPatchCandidate(version: SemVer, other: SemVer): boolean {
  return (
    version.major === other.major && version.minor === other.minor && compareVersions(version, other) > 0
  );
}

/** Inserts a bundle into each of its channels by version (BundleGraphLoader.AddBundleToGraph). */
export function addBundleToGraph(
  graph: PackageGraph,
  bundle: RegBundle,
  pkg: string,
  bundles: ReadonlyMap<string, RegBundle>,
  skippatch: boolean,
): string | undefined {
  const parsed = parseVersion(bundle.version);
  if (!parsed.ok) return `Bundle version ${bundle.version} is not valid`;
  const toAdd = parsed.version;
  if (graph.name === '') graph.name = pkg;
  if (bundle.annotationDefault) graph.defaultChannel = bundle.annotationDefault;
  if (graph.defaultChannel === '') {
    const sorted = [...bundle.channels].sort(byteOrder);
    if (sorted.length === 0) return "Default channel is missing and can't be inferred";
    graph.defaultChannel = sorted[0]!;
  }
  for (const ch of bundle.channels) {
    const cg = graph.channels.get(ch);
    if (!cg) {
      graph.channels.set(ch, { head: bundle.name, nodes: new Map([[bundle.name, new Set()]]) });
      continue;
    }
    const replaces = new Set<string>();
    let lowestAhead: { name: string; v: SemVer } | undefined;
    let greatestBehind: { name: string; v: SemVer } | undefined;
    const candidates: string[] = [];
    for (const node of cg.nodes.keys()) {
      const nb = bundles.get(node);
      const nv = parseVersion(nb?.version ?? '');
      if (!nv.ok) {
        return `Unable to parse existing bundle version stored in index ${node} ${nb?.version ?? ''} ${nb?.image ?? ''}`;
      }
      const c = compareVersions(nv.version, toAdd);
      if (c === 0) return `Bundle version ${bundle.version} already added to index`;
      if (c > 0 && (!lowestAhead || compareVersions(nv.version, lowestAhead.v) < 0)) {
        lowestAhead = { name: node, v: nv.version };
      }
      if (c < 0 && (!greatestBehind || compareVersions(nv.version, greatestBehind.v) > 0)) {
        greatestBehind = { name: node, v: nv.version };
      }
      if (skippatch && isSkipPatchCandidate(toAdd, nv.version)) {
        candidates.push(node);
        replaces.add(node);
      }
    }
    if (greatestBehind) replaces.add(greatestBehind.name);
    if (lowestAhead) cg.nodes.set(lowestAhead.name, new Set([bundle.name]));
    else cg.head = bundle.name;
    if (skippatch) for (const c of candidates) cg.nodes.delete(c);
    cg.nodes.set(bundle.name, replaces);
  }
  return undefined;
}

/** Channel entries for a graph, walking each channel from its head; errors as opm words them. */
export function entriesFromGraph(
  graph: PackageGraph,
  bundles: ReadonlyMap<string, RegBundle>,
): { channels: Map<string, ChannelEntry[]>; errors: string[] } {
  const errors: string[] = [];
  const channels = new Map<string, ChannelEntry[]>();
  for (const [name, cg] of graph.channels) {
    const entries = new Map<string, ChannelEntry>();
    const chain: string[] = [];
    let cur = cg.head;
    let depth = 0;
    for (;;) {
      if (chain.includes(cur)) {
        errors.push(`Invalid graph: cycle detected at ${cur} in channel ${name}`);
        break;
      }
      chain.push(cur);
      const entry: ChannelEntry = entries.get(cur) ?? { name: cur };
      entries.set(cur, entry);
      let next = '';
      for (const t of cg.nodes.get(cur) ?? []) {
        if (cg.nodes.has(t)) {
          next ||= t;
        } else {
          (entry.skips ??= []).push(t);
          if (bundles.has(t) && !entries.has(t)) entries.set(t, { name: t });
        }
      }
      if (next === '') {
        const expected = cg.nodes.size - 1;
        if (expected !== depth) {
          errors.push(
            `Invalid graph: some (non-bottom) nodes defined in the graph were not mentioned as replacements of any node (${expected} != ${depth})`,
          );
        }
        break;
      }
      entry.replaces = next;
      cur = next;
      depth++;
    }
    for (const e of entries.values()) {
      const range = bundles.get(e.name)?.skipRange;
      if (range) e.skipRange = range;
    }
    channels.set(
      name,
      [...entries.values()].sort((a, b) => byteOrder(a.name, b.name)),
    );
  }
  return { channels, errors };
}
