import type { RequestType } from '../../../shared/contracts';
import type { Pipeline } from '../build-context';
import { createEmptyIndex } from './create-empty-index';

/** The pipeline of each request type. */
export const PIPELINES: Partial<Record<RequestType, Pipeline>> = {
  'create-empty-index': createEmptyIndex,
};
