import type { RequestType } from '../../../shared/contracts';
import type { Pipeline } from '../workspace/build-context';
import { addPipeline } from './add';
import { addDeprecations } from './add-deprecations';
import { createEmptyIndex } from './create-empty-index';
import { fbcOperations } from './fbc-operations';
import { mergeIndexImage } from './merge-index-image';
import { recursiveRelatedBundles } from './recursive-related-bundles';
import { regenerateBundle } from './regenerate-bundle';
import { rmPipeline } from './rm';

/** The pipeline of each request type. */
export const PIPELINES: Partial<Record<RequestType, Pipeline>> = {
  add: addPipeline,
  rm: rmPipeline,
  'create-empty-index': createEmptyIndex,
  'fbc-operations': fbcOperations,
  'add-deprecations': addDeprecations,
  'merge-index-image': mergeIndexImage,
  'regenerate-bundle': regenerateBundle,
  'recursive-related-bundles': recursiveRelatedBundles,
};
