import { ADD, EndpointSchema, REGENERATE_BUNDLE, RM } from './schemas';

/** A batch endpoint's body: `{"build_requests": [...], "annotations": {...}}`. */
export interface BatchEndpoint {
  /** Path under /api/v1. */
  path: string;
  summary: string;
  /** The bodies an item of `build_requests` may have: exactly one of them. */
  items: EndpointSchema[];
}

export const REGENERATE_BUNDLE_BATCH: BatchEndpoint = {
  path: '/builds/regenerate-bundle-batch',
  summary: 'Regenerate bundle images, in one batch',
  items: [REGENERATE_BUNDLE],
};

/** validateAddRmBatch: an item with `operators` is an rm, one with `bundles` an add. */
export const ADD_RM_BATCH: BatchEndpoint = {
  path: '/builds/add-rm-batch',
  summary: 'Add bundles to or remove operators from index images, in one batch',
  items: [{ ...ADD, summary: 'An add request', required: ['bundles'] }, RM],
};

export const BATCH_ENDPOINTS: BatchEndpoint[] = [REGENERATE_BUNDLE_BATCH, ADD_RM_BATCH];
