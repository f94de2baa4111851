/**
 * Kept for the catalog engine, which reads bundle manifests with the same
 * caps (services/builder/catalog/bundle.ts); the builder itself imports
 * tools/layers/bounded-read. Goes when the catalog has its own package.
 */
export { MAX_MANIFEST_BYTES, readTextCapped } from './tools/layers/bounded-read';
