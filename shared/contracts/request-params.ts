import { z } from 'zod/v4';
import type { RequestType } from './request-types';

/**
 * The `params` of each request type, as the gateway's validators leave them
 * (services/gateway/validation): only JSON values, empty optional values
 * dropped, no secrets (those travel sealed). A key the gateway never sends
 * is refused, so a producer and a consumer that disagree fail loudly.
 */

const strings = z.array(z.string());
const stringMap = z.record(z.string(), z.string());

/** IIB's distribution scopes, lowercased by the gateway. */
const DISTRIBUTION_SCOPE = z.enum(['dev', 'stage', 'prod']);

/** What IIB's RequestIndexImageMixin leaves (add, rm, fbc-operations, add-deprecations). */
const INDEX_IMAGE = {
  from_index: z.string().optional(),
  binary_image: z.string().optional(),
  add_arches: strings.optional(),
  overwrite_from_index: z.boolean().optional(),
  distribution_scope: DISTRIBUTION_SCOPE.optional(),
  deprecation_list: strings.optional(),
  build_tags: strings.optional(),
  output_fbc: z.boolean().optional(),
};

export const AddParams = z.strictObject({
  ...INDEX_IMAGE,
  bundles: strings.optional(),
  organization: z.string().optional(),
  graph_update_mode: z.string().optional(),
  check_related_images: z.boolean().optional(),
});
export type AddParams = z.infer<typeof AddParams>;

export const RmParams = z.strictObject({
  ...INDEX_IMAGE,
  from_index: z.string(),
  operators: z.array(z.string()).min(1),
});
export type RmParams = z.infer<typeof RmParams>;

export const CreateEmptyIndexParams = z.strictObject({
  from_index: z.string(),
  binary_image: z.string().optional(),
  labels: stringMap.optional(),
  output_fbc: z.boolean().optional(),
  distribution_scope: DISTRIBUTION_SCOPE.optional(),
});
export type CreateEmptyIndexParams = z.infer<typeof CreateEmptyIndexParams>;

export const FbcOperationsParams = z.strictObject({
  ...INDEX_IMAGE,
  from_index: z.string(),
  fbc_fragments: z.array(z.string()).min(1),
  /** Set when the request used the legacy single `fbc_fragment` (the API answers with the legacy keys). */
  fbc_fragment: z.string().optional(),
});
export type FbcOperationsParams = z.infer<typeof FbcOperationsParams>;

export const AddDeprecationsParams = z.strictObject({
  ...INDEX_IMAGE,
  from_index: z.string(),
  operator_package: z.string().min(1),
  /** The olm.deprecations blob as the caller's JSON string. */
  deprecation_schema: z.string().min(1),
});
export type AddDeprecationsParams = z.infer<typeof AddDeprecationsParams>;

export const MergeIndexImageParams = z.strictObject({
  source_from_index: z.string(),
  target_index: z.string().optional(),
  deprecation_list: strings.optional(),
  binary_image: z.string().optional(),
  overwrite_target_index: z.boolean().optional(),
  distribution_scope: DISTRIBUTION_SCOPE.optional(),
  build_tags: strings.optional(),
  graph_update_mode: z.string().optional(),
  ignore_bundle_ocp_version: z.boolean().optional(),
});
export type MergeIndexImageParams = z.infer<typeof MergeIndexImageParams>;

export const RegenerateBundleParams = z.strictObject({
  from_bundle_image: z.string(),
  organization: z.string().optional(),
  bundle_replacements: stringMap.optional(),
});
export type RegenerateBundleParams = z.infer<typeof RegenerateBundleParams>;

export const RecursiveRelatedBundlesParams = z.strictObject({
  parent_bundle_image: z.string(),
  organization: z.string().optional(),
});
export type RecursiveRelatedBundlesParams = z.infer<typeof RecursiveRelatedBundlesParams>;

/** The params schema of every request type. */
export const PARAMS = {
  add: AddParams,
  rm: RmParams,
  'regenerate-bundle': RegenerateBundleParams,
  'merge-index-image': MergeIndexImageParams,
  'create-empty-index': CreateEmptyIndexParams,
  'recursive-related-bundles': RecursiveRelatedBundlesParams,
  'fbc-operations': FbcOperationsParams,
  'add-deprecations': AddDeprecationsParams,
} as const satisfies Record<RequestType, z.ZodType>;

export type ParamsOf<T extends RequestType> = z.infer<(typeof PARAMS)[T]>;
