/**
 * The index image room: prepare an index request (from index, binary image,
 * arches, labels), read and edit its `/configs`, build and push the image
 * (incrementally when it can, with the serve cache), and finish the request.
 */
export { isBinaryless, resolveBinary, SCRATCH } from './binary-image';
export { buildAndPushIndex, indexDockerfile, type IndexBuildOptions } from './build';
export {
  DEPRECATIONS_DIR,
  editCatalog,
  exists,
  extractArch,
  extractConfigs,
  pyList,
  removeDeprecations,
  replaceDir,
  topLevel,
  validateConfigs,
} from './configs-files';
export {
  finishIndexRequest,
  FROM_INDEX_CHANGED,
  fromIndexOverwrite,
  overwriteIndex,
  publicImage,
  type FinishOptions,
} from './finish';
export { extractIndexConfigs, loadIndexCatalog, type IndexCatalog } from './index-catalog';
export {
  LABEL_CONFIGS,
  LABEL_OCP_VERSION,
  LABEL_SCOPE,
  prepareIndexBuild,
  prepareIndexBuildFrom,
  reportBuildingIndex,
  type PreparedBuild,
  type PreparedIndexBuild,
  type PrepareIndexOptions,
} from './prepare';
