/**
 * `opm registry add` (v1.26.4) on a file-based catalog, as IIB runs it for
 * each add request: the same checks, graph modes, pruning check and errors.
 * The catalog is only changed when the whole add succeeds.
 */
import { parseBundleDir, type ParsedBundle } from './bundle';
import { aggregateMessages, opmError } from './errors';
import { emptyBlock, type BundleBlob, type Catalog, type PackageBlock } from './fbc';
import { bundleBlob } from './render';
import { applyEntries, clearNonHeadBundles, toBlock } from './registry-commit';
import { loadPackageState, newRegBundle, type PkgState, type RegBundle } from './registry-state';
import { rebuildReplacesChannels, semverPackageManifest } from './replaces-mode';
import { addBundleToGraph, entriesFromGraph, generateGraph } from './semver-mode';
import { validatePackages } from './validate';

export type AddMode = 'replaces' | 'semver' | 'semver-skippatch';
export const ADD_MODES: readonly AddMode[] = ['replaces', 'semver', 'semver-skippatch'];

export interface AddOptions {
  mode: AddMode;
  overwriteLatest?: boolean;
  /**
   * Also run `opm validate` on the changed packages and fail when invalid (as
   * IIB's migrate + validate would). Off by default: opm's add itself succeeds
   * on such graphs (e.g. a default channel the bundle is not in).
   */
  validate?: boolean;
}

export interface RenderedBundle {
  parsed: ParsedBundle;
  blob: BundleBlob;
}

export interface BundleSource {
  /** A bundle directory with `manifests/` and `metadata/`. */
  dir: string;
  /** The bundle image reference recorded in the catalog. */
  image: string;
}

export interface AddResult {
  /** Packages whose blobs changed (the others can be written back untouched). */
  dirty: Set<string>;
  warnings: string[];
}

class Registry {
  private readonly states = new Map<string, PkgState>();
  constructor(readonly catalog: Catalog) {}

  state(pkg: string): PkgState {
    let s = this.states.get(pkg);
    if (!s) {
      s = loadPackageState(this.catalog.packages.get(pkg) ?? emptyBlock(pkg));
      this.states.set(pkg, s);
    }
    return s;
  }

  touched(): Map<string, PkgState> {
    return this.states;
  }

  /** The package holding a bundle (CSV) name, anywhere in the catalog. */
  packageOfBundle(name: string): string | undefined {
    for (const [pkg, s] of this.states) if (s.bundles.has(name)) return pkg;
    for (const [pkg, block] of this.catalog.packages) {
      if (!this.states.has(pkg) && block.bundles.some((b) => b.name === name)) return pkg;
    }
    return undefined;
  }
}

function entriesNamed(state: PkgState, channel: string, name: string): boolean {
  return state.channels.get(channel)?.entries.some((e) => e.name === name) ?? false;
}

function replacedInChannel(state: PkgState, channel: string, name: string): string | undefined {
  const ch = state.channels.get(channel);
  const e = ch?.entries.find(
    (x) => (x.replaces === name || (x.skips ?? []).includes(name)) && state.bundles.has(x.name),
  );
  return e?.name;
}

function sanityCheck(reg: Registry, adds: readonly RenderedBundle[], overwrite: boolean): string[] {
  const errs: string[] = [];
  const images = new Set(adds.map((a) => a.blob.image));
  const attempted = new Set<string>();
  for (const a of adds) {
    const state = reg.state(a.parsed.package);
    let validOverwrite = false;
    for (const b of state.bundles.values()) {
      if (images.has(b.image)) errs.push(`Bundle ${a.blob.image} already exists`);
    }
    for (const channel of state.channels.keys()) {
      if (!entriesNamed(state, channel, a.parsed.name)) continue;
      if (!overwrite) {
        errs.push('Bundle already added that provides package and csv');
        break;
      }
      if (replacedInChannel(state, channel, a.parsed.name) === undefined) {
        validOverwrite = true;
        continue;
      }
      errs.push('Cannot overwrite a bundle that is not at the head of a channel using --overwrite-latest');
      validOverwrite = false;
      break;
    }
    if (validOverwrite) {
      if (attempted.has(a.parsed.package)) {
        errs.push(
          'Cannot overwrite more than one bundle at a time for a given package using --overwrite-latest',
        );
        break;
      }
      attempted.add(a.parsed.package);
    }
  }
  const edgeErr = validateEdgePackages(reg, adds);
  if (edgeErr) errs.push(edgeErr);
  return errs;
}

function validateEdgePackages(reg: Registry, adds: readonly RenderedBundle[]): string | undefined {
  const expected = new Map<string, string>();
  for (const a of adds) {
    for (const name of [...a.parsed.skips, a.parsed.replaces, a.parsed.name]) {
      if (name === '') continue;
      const pkg = expected.get(name);
      if (pkg !== undefined && pkg !== a.parsed.package) {
        const pkgs = [pkg, a.parsed.package].sort();
        return `bundle ${name} must belong to exactly one package, found on: [${pkgs.join(' ')}]`;
      }
      expected.set(name, a.parsed.package);
    }
  }
  for (const block of reg.catalog.packages.values()) {
    for (const ch of block.channels) {
      for (const e of ch.entries) {
        const want = expected.get(e.name);
        if (want !== undefined && want !== block.name) {
          return `bundle ${e.name} belongs to package ${block.name} on index, cannot be added as an edge for package ${want}`;
        }
      }
    }
  }
  return undefined;
}

function addReplaces(
  reg: Registry,
  adds: readonly RenderedBundle[],
  overwritten: Map<string, string[]>,
): string[] {
  const errs: string[] = [];
  for (const [pkg, names] of overwritten) {
    const state = reg.state(pkg);
    const name = names[0];
    if (name === undefined) continue;
    for (const ch of state.channels.keys()) {
      const by = replacedInChannel(state, ch, name);
      if (by !== undefined)
        return [`cannot overwrite bundle ${name} from package ${pkg}: replaced by ${by} on channel ${ch}`];
    }
    state.bundles.delete(name);
  }
  const byPackage = new Map<string, RegBundle[]>();
  for (const a of adds) {
    if (reg.packageOfBundle(a.parsed.name) !== undefined) {
      errs.push(`failed to add bundle "${a.parsed.name}": UNIQUE constraint failed: operatorbundle.name`);
      continue;
    }
    const list = byPackage.get(a.parsed.package) ?? [];
    list.push(newRegBundle(a.parsed, a.blob));
    byPackage.set(a.parsed.package, list);
  }
  for (const [pkg, news] of byPackage) {
    const state = reg.state(pkg);
    const existing = [...state.bundles.values()];
    const result = semverPackageManifest([...existing, ...news], state.defaultChannel);
    if (!result.ok) {
      errs.push(result.error);
      continue;
    }
    for (const n of news) state.bundles.set(n.name, n);
    const rebuilt = rebuildReplacesChannels(pkg, result.manifest, state.bundles);
    errs.push(...rebuilt.errors);
    applyEntries(state, rebuilt.channels, result.manifest.defaultChannel);
    state.head = result.manifest.heads.get(result.manifest.defaultChannel);
  }
  return errs;
}

function addSemver(reg: Registry, adds: readonly RenderedBundle[], skippatch: boolean): string | undefined {
  for (const a of adds) {
    const state = reg.state(a.parsed.package);
    const exists = state.block.package !== undefined || state.channels.size > 0;
    const gen = generateGraph(
      state.name,
      exists,
      state.defaultChannel,
      state.channels.values(),
      state.bundles,
    );
    if (!gen.ok) return gen.error;
    const nb = newRegBundle(a.parsed, a.blob);
    const all = new Map(state.bundles).set(nb.name, nb);
    const err = addBundleToGraph(gen.graph, nb, a.parsed.package, all, skippatch);
    if (err) return err;
    if (reg.packageOfBundle(nb.name) !== undefined) {
      return `error loading bundle ${nb.name} into db: failed to add bundle "${nb.name}": UNIQUE constraint failed: operatorbundle.name`;
    }
    const walked = entriesFromGraph(gen.graph, all);
    const msg = aggregateMessages(walked.errors);
    if (msg) return `error loading bundle ${nb.name} into db: ${msg}`;
    state.bundles.set(nb.name, nb);
    applyEntries(state, walked.channels, gen.graph.defaultChannel);
    state.head = gen.graph.channels.get(gen.graph.defaultChannel)?.head;
  }
  return undefined;
}

/** checkForBundles: every added bundle must stay reachable from its channels' heads. */
function checkForBundles(reg: Registry, adds: readonly RenderedBundle[]): string[] {
  const errs: string[] = [];
  for (const a of adds) {
    const state = reg.state(a.parsed.package);
    const gen = generateGraph(state.name, true, state.defaultChannel, state.channels.values(), state.bundles);
    if (!gen.ok) {
      errs.push(`unable to verify added bundles for package ${a.parsed.package}: ${gen.error}`);
      continue;
    }
    for (const channel of a.parsed.channels) {
      const cg = gen.graph.channels.get(channel);
      const head = cg?.head ?? '';
      const queue = [head];
      const seen = new Set<string>();
      let found = false;
      while (queue.length > 0) {
        const cur = queue.shift()!;
        if (seen.has(cur)) continue;
        seen.add(cur);
        if (state.bundles.get(cur)?.image === a.blob.image) {
          found = true;
          break;
        }
        queue.push(...(cg?.nodes.get(cur) ?? []));
      }
      if (found) continue;
      const headSkips = [...(cg?.nodes.get(head) ?? [])];
      errs.push(
        `add prunes bundle ${a.parsed.name} (${a.blob.image}) from package ${a.parsed.package}, channel ${channel}: ` +
          `this may be due to incorrect channel head (${head}, skips/replaces [${headSkips.join(' ')}]). ` +
          `Be aware that the head of the channel ${channel} where you are trying to add the ${a.parsed.name} is ${head}. ` +
          'Upgrade graphs follows the Semantic Versioning 2.0.0 (https://semver.org/) which means that ' +
          'is not possible add new versions lower then the head of the channel',
      );
    }
  }
  return errs;
}

function fail(messages: readonly string[]): never {
  throw opmError(aggregateMessages(messages) ?? 'unknown error');
}

/** Adds already-rendered bundles; on success replaces the changed packages in `catalog`. */
export function addRenderedBundles(
  catalog: Catalog,
  adds: readonly RenderedBundle[],
  options: AddOptions,
): AddResult {
  const reg = new Registry(catalog);
  const overwritten = new Map<string, string[]>();
  if (options.overwriteLatest) {
    for (const a of adds) {
      const pkg = reg.packageOfBundle(a.parsed.name);
      if (pkg === undefined) continue;
      const list = overwritten.get(a.parsed.package) ?? [];
      list.push(a.parsed.name);
      overwritten.set(a.parsed.package, list);
    }
  }
  const sanity = sanityCheck(reg, adds, overwritten.size > 0);
  if (sanity.length > 0) fail(sanity);

  const dirty = new Set<string>();
  if (options.mode === 'replaces') {
    const errs = addReplaces(reg, adds, overwritten);
    if (errs.length > 0) fail(errs);
  } else {
    const err = addSemver(reg, adds, options.mode === 'semver-skippatch');
    if (err) fail([err]);
  }
  const pruned = checkForBundles(reg, adds);
  if (pruned.length > 0) fail(pruned);

  const blocks = new Map<string, PackageBlock>();
  for (const [pkg, state] of reg.touched()) {
    if (state.bundles.size === 0 && !catalog.packages.has(pkg)) continue;
    blocks.set(pkg, toBlock(state, state.head));
  }
  if (options.validate) {
    const invalid = validatePackages([...blocks.values()]);
    if (invalid) fail([invalid]);
  }

  const next = new Map(catalog.packages);
  for (const [pkg, block] of blocks) {
    next.set(pkg, block);
    dirty.add(pkg);
  }
  catalog.packages = next;
  if (options.mode !== 'replaces') for (const pkg of clearNonHeadBundles(catalog)) dirty.add(pkg);
  return { dirty, warnings: adds.flatMap((a) => a.parsed.warnings) };
}

/** Renders each bundle directory and adds it (see addRenderedBundles). */
export async function addBundles(
  catalog: Catalog,
  sources: readonly BundleSource[],
  options: AddOptions,
): Promise<AddResult> {
  const adds: RenderedBundle[] = [];
  for (const s of sources) {
    const parsed = await parseBundleDir(s.dir);
    adds.push({ parsed, blob: bundleBlob(parsed, s.image) });
  }
  return addRenderedBundles(catalog, adds, options);
}
