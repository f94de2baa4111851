/**
 * The catalog engine's public API: what the builder, the benchmarks and the
 * `iib-catalog` CLI use. Everything else in src/ is internal.
 */
export { addBundles, addRenderedBundles, ADD_MODES } from './add';
export type { AddMode, AddOptions, AddResult, BundleSource, RenderedBundle } from './add';
export { MAX_MANIFEST_BYTES, readTextCapped } from './bounded-read';
export { parseBundleDir } from './bundle';
export type { ParsedBundle } from './bundle';
export { readCatalog, writeCatalog } from './catalog-io';
export type { WriteOptions } from './catalog-io';
export { runCli, runCliProcess } from './cli';
export type { CliIo } from './cli';
export { deprecateBundles } from './deprecate';
export { aggregateMessages, CatalogError } from './errors';
export type { CatalogErrorKind } from './errors';
export { bundleVersion, emptyCatalog, serializeBlock } from './fbc';
export type {
  BundleBlob,
  Catalog,
  ChannelBlob,
  ChannelEntry,
  PackageBlob,
  PackageBlock,
  Property,
} from './fbc';
export { missingBundles } from './merge';
export { channelHeads } from './registry-state';
export { removePackages, removePackagesFromDir } from './remove';
export type { RemoveOptions, RemoveResult } from './remove';
export { bundleBlob } from './render';
export { validateCatalog } from './validate';
export type { ValidationResult } from './validate';
