/** The catalog engine's public API (the builder calls it in-process). */
export { addBundles, addRenderedBundles, ADD_MODES } from './add';
export type { AddMode, AddOptions, AddResult, BundleSource, RenderedBundle } from './add';
export { parseBundleDir } from './bundle';
export type { ParsedBundle } from './bundle';
export { readCatalog, writeCatalog } from './catalog-io';
export type { WriteOptions } from './catalog-io';
export { deprecateBundles } from './deprecate';
export { CatalogError } from './errors';
export type { CatalogErrorKind } from './errors';
export { emptyCatalog, serializeBlock } from './fbc';
export type {
  BundleBlob,
  Catalog,
  ChannelBlob,
  ChannelEntry,
  PackageBlob,
  PackageBlock,
  Property,
} from './fbc';
export { mergeCatalogs, missingBundles } from './merge';
export { removePackages } from './remove';
export { bundleBlob, renderBundle, renderBundleLayer, renderJson } from './render';
export { validateCatalog, validatePackages } from './validate';
export type { ValidationResult } from './validate';
