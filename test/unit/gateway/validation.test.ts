import { AppError } from '../../../shared/errors';
import { validateAdd } from '../../../services/gateway/validation/add';
import { validateAddDeprecations } from '../../../services/gateway/validation/add-deprecations';
import {
  validateAddRmBatch,
  validateRegenerateBundleBatch,
} from '../../../services/gateway/validation/batch';
import {
  validateRecursiveRelatedBundles,
  validateRegenerateBundle,
} from '../../../services/gateway/validation/bundles';
import type { ValidationContext } from '../../../services/gateway/validation/common';
import { validateCreateEmptyIndex } from '../../../services/gateway/validation/create-empty-index';
import { validateFbcOperations } from '../../../services/gateway/validation/fbc-operations';
import { validateMergeIndexImage } from '../../../services/gateway/validation/merge-index-image';
import { validateRm } from '../../../services/gateway/validation/rm';
import { validatePatch } from '../../../services/gateway/patch';

const ctx: ValidationContext = {
  user: null,
  authEnabled: false,
  binaryImageConfigured: false,
  graphModeOptions: ['replaces', 'semver', 'semver-skippatch'],
  graphModeIndexAllowList: ['quay.io/ns/allowed:v4.18'],
};
const authed: ValidationContext = { ...ctx, user: 'alice', authEnabled: true };

const IDX = 'quay.io/ns/index:v4.18';
const BIN = 'quay.io/ns/binary:v4.18';
const B1 = 'quay.io/ns/bundle:v1';
type V = (body: unknown, c: ValidationContext) => unknown;

function failure(v: V, body: unknown, c = ctx): { status: number; message: string } {
  try {
    v(body, c);
  } catch (err) {
    if (err instanceof AppError) return { status: err.status, message: err.message };
    throw err;
  }
  throw new Error('expected a validation failure');
}

const cases: [string, V, unknown, number, string, ValidationContext?][] = [
  ['add: body not an object', validateAdd, [1], 400, 'The input data must be a JSON object'],
  [
    'add: bundles not strings',
    validateAdd,
    { bundles: [1] },
    400,
    '"bundles" should be either an empty array or an array of non-empty strings',
  ],
  [
    'add: deprecation_list bad',
    validateAdd,
    { bundles: [B1], deprecation_list: 'x' },
    400,
    '"deprecation_list" should be either an empty array or an array of non-empty strings',
  ],
  ['add: nothing', validateAdd, {}, 400, '"from_index" must be specified if no bundles are specified'],
  [
    'add: related images without bundles',
    validateAdd,
    { from_index: IDX, check_related_images: true },
    400,
    '"check_related_images" must be specified only when bundles are specified',
  ],
  [
    'add: related images not bool',
    validateAdd,
    { bundles: [B1], check_related_images: 'yes' },
    400,
    'The "check_related_images" parameter must be a boolean',
  ],
  [
    'add: organization not string',
    validateAdd,
    { bundles: [B1], organization: 1 },
    400,
    '"organization" must be a string',
  ],
  [
    'add: cnr_token not string',
    validateAdd,
    { bundles: [B1], cnr_token: 1 },
    400,
    '"cnr_token" must be a string',
  ],
  [
    'add: graph mode unknown',
    validateAdd,
    { bundles: [B1], from_index: IDX, graph_update_mode: 'x' },
    400,
    `"graph_update_mode" must be set to one of these: ['replaces', 'semver', 'semver-skippatch']`,
  ],
  [
    'add: graph mode not allowed',
    validateAdd,
    { bundles: [B1], from_index: IDX, graph_update_mode: 'semver' },
    403,
    `"graph_update_mode" can only be used on the following index image: ['quay.io/ns/allowed:v4.18']`,
  ],
  [
    'add: force_backport not bool',
    validateAdd,
    { bundles: [B1], force_backport: 'x' },
    400,
    '"force_backport" must be a boolean',
  ],
  [
    'add: unknown key',
    validateAdd,
    { bundles: [B1], colour: 'red' },
    400,
    'The following parameters are invalid: colour',
  ],
  [
    'add: no from_index nor arches',
    validateAdd,
    { bundles: [B1], binary_image: BIN },
    400,
    'One of "from_index" or "add_arches" must be specified',
  ],
  [
    'add: overwrite not bool',
    validateAdd,
    { bundles: [B1], from_index: IDX, overwrite_from_index: 'y' },
    400,
    'The "overwrite_from_index" parameter must be a boolean',
  ],
  [
    'add: token not string',
    validateAdd,
    { bundles: [B1], from_index: IDX, overwrite_from_index: true, overwrite_from_index_token: 5 },
    400,
    'The "overwrite_from_index_token" parameter must be a string',
  ],
  [
    'add: token without flag',
    validateAdd,
    { bundles: [B1], from_index: IDX, overwrite_from_index_token: 'u:t' },
    400,
    'The "overwrite_from_index" parameter is required when the "overwrite_from_index_token" parameter is used',
  ],
  [
    'add: bad scope',
    validateAdd,
    { bundles: [B1], from_index: IDX, distribution_scope: 'qa' },
    400,
    'The "distribution_scope" value must be one of "dev", "stage", or "prod"',
  ],
  [
    'add: overwrite without token, auth on',
    validateAdd,
    { bundles: [B1], from_index: IDX, binary_image: BIN, overwrite_from_index: true },
    403,
    'You must set "overwrite_from_index_token" to use "overwrite_from_index"',
    authed,
  ],
  [
    'add: bad arches',
    validateAdd,
    { bundles: [B1], add_arches: [''] },
    400,
    'Architectures should be specified as a non-empty array of strings',
  ],
  [
    'add: binary image not string',
    validateAdd,
    { bundles: [B1], from_index: IDX, binary_image: 5 },
    400,
    'The "binary_image" value must be a string',
  ],
  [
    'add: binary image missing',
    validateAdd,
    { bundles: [B1], from_index: IDX },
    400,
    'The "binary_image" value must be a non-empty string',
  ],
  [
    'add: from_index not string',
    validateAdd,
    { bundles: [B1], add_arches: ['amd64'], binary_image: BIN, from_index: 5 },
    400,
    '"from_index" must be a string',
  ],
  [
    'add: pull spec without tag',
    validateAdd,
    { bundles: ['quay.io/ns/bundle'], from_index: IDX, binary_image: BIN },
    400,
    'Image quay.io/ns/bundle should have a tag or a digest specified.',
  ],
  [
    'add: build_tags bad',
    validateAdd,
    { bundles: [B1], from_index: IDX, binary_image: BIN, build_tags: [1] },
    400,
    '"build_tags" should be either an empty array or an array of non-empty strings',
  ],
  [
    'add: output_fbc not bool',
    validateAdd,
    { bundles: [B1], from_index: IDX, binary_image: BIN, output_fbc: 'y' },
    400,
    '"output_fbc" should be boolean',
  ],
  [
    'rm: operators missing',
    validateRm,
    { from_index: IDX },
    400,
    '"operators" should be a non-empty array of strings',
  ],
  [
    'rm: from_index missing',
    validateRm,
    { operators: ['op'] },
    400,
    'Missing required parameter(s): from_index',
  ],
  [
    'rm: from_index empty',
    validateRm,
    { operators: ['op'], from_index: '' },
    400,
    '"from_index" must be set',
  ],
  [
    'regenerate: missing',
    validateRegenerateBundle,
    {},
    400,
    'Missing required parameter(s): from_bundle_image',
  ],
  [
    'regenerate: replacements not object',
    validateRegenerateBundle,
    { from_bundle_image: B1, bundle_replacements: ['x'] },
    400,
    'The value of "bundle_replacements" must be a JSON object',
  ],
  [
    'regenerate: replacement not string',
    validateRegenerateBundle,
    { from_bundle_image: B1, bundle_replacements: { a: 1 } },
    400,
    'The key and value of "a" must be a string',
  ],
  [
    'regenerate: organization not string',
    validateRegenerateBundle,
    { from_bundle_image: B1, organization: 1 },
    400,
    '"organization" must be a string',
  ],
  [
    'regenerate: image not string',
    validateRegenerateBundle,
    { from_bundle_image: 1 },
    400,
    '"from_bundle_image" must be a string',
  ],
  [
    'regenerate: auths not dict',
    validateRegenerateBundle,
    { from_bundle_image: B1, registry_auths: 'x' },
    400,
    '"registry_auths" must be a dict',
  ],
  [
    'regenerate: auths wrong key',
    validateRegenerateBundle,
    { from_bundle_image: B1, registry_auths: { a: 1 } },
    400,
    '"registry_auths" must contain single key "auths"',
  ],
  [
    'regenerate: auths empty',
    validateRegenerateBundle,
    { from_bundle_image: B1, registry_auths: { auths: {} } },
    400,
    '"registry_auths.auths" must be a non-empty dict',
  ],
  [
    'regenerate: auth format',
    validateRegenerateBundle,
    { from_bundle_image: B1, registry_auths: { auths: { 'r.io': { token: 'x' } } } },
    400,
    'r.io in registry_auths has auth value in incorrect format. See the API docs for details on the expected format',
  ],
  [
    'recursive: missing',
    validateRecursiveRelatedBundles,
    {},
    400,
    'Missing required parameter(s): parent_bundle_image',
  ],
  [
    'recursive: image not string',
    validateRecursiveRelatedBundles,
    { parent_bundle_image: 1 },
    400,
    '"parent_bundle_image" must be a string',
  ],
  [
    'recursive: organization not string',
    validateRecursiveRelatedBundles,
    { parent_bundle_image: B1, organization: 2 },
    400,
    '"organization" must be a string',
  ],
  [
    'merge: deprecation list bad',
    validateMergeIndexImage,
    { source_from_index: IDX, deprecation_list: [''] },
    400,
    'The "deprecation_list" value should be an empty array or an array of strings',
  ],
  [
    'merge: source missing',
    validateMergeIndexImage,
    {},
    400,
    'The "source_from_index" value must be a string',
  ],
  [
    'merge: target not string',
    validateMergeIndexImage,
    { source_from_index: IDX, target_index: 5 },
    400,
    'The "target_index" value must be a string',
  ],
  [
    'merge: overwrite not bool',
    validateMergeIndexImage,
    { source_from_index: IDX, overwrite_target_index: 'x' },
    400,
    'The "overwrite_target_index" value must be a boolean',
  ],
  [
    'merge: token not string',
    validateMergeIndexImage,
    { source_from_index: IDX, overwrite_target_index: true, overwrite_target_index_token: 1 },
    400,
    'The "overwrite_target_index_token" value must be a string',
  ],
  [
    'merge: token without flag',
    validateMergeIndexImage,
    { source_from_index: IDX, overwrite_target_index_token: 'u:t' },
    400,
    'The "overwrite_target_index" value is required when the "overwrite_target_index_token" value is used',
  ],
  [
    'merge: flag without token',
    validateMergeIndexImage,
    { source_from_index: IDX, overwrite_target_index: true },
    400,
    'The "overwrite_target_index_token" value is required when the "overwrite_target_index" value is set',
  ],
  [
    'merge: unknown key',
    validateMergeIndexImage,
    { source_from_index: IDX, bundles: [] },
    400,
    'The following parameters are invalid: bundles',
  ],
  [
    'merge: ignore version not bool',
    validateMergeIndexImage,
    { source_from_index: IDX, binary_image: BIN, ignore_bundle_ocp_version: 'y' },
    400,
    'The "ignore_bundle_ocp_version" value must be a boolean',
  ],
  ['cei: from_index missing', validateCreateEmptyIndex, {}, 400, '"from_index" must be a specified'],
  [
    'cei: from_index empty',
    validateCreateEmptyIndex,
    { from_index: '' },
    400,
    '"from_index" must be a non-empty string',
  ],
  [
    'cei: output_fbc not bool',
    validateCreateEmptyIndex,
    { from_index: IDX, output_fbc: 'y' },
    400,
    '"output_fbc" should be boolean',
  ],
  [
    'cei: labels not object',
    validateCreateEmptyIndex,
    { from_index: IDX, labels: [] },
    400,
    'The value of "labels" must be a JSON object',
  ],
  [
    'cei: label not string',
    validateCreateEmptyIndex,
    { from_index: IDX, labels: { a: 1 } },
    400,
    'The key and value of "a" must be a string',
  ],
  [
    'cei: add_arches rejected',
    validateCreateEmptyIndex,
    { from_index: IDX, add_arches: ['amd64'] },
    400,
    'The "add_arches" arg is invalid for the create-empty-index endpoint.',
  ],
  [
    'cei: build_tags rejected',
    validateCreateEmptyIndex,
    { from_index: IDX, build_tags: ['x'] },
    400,
    'The "build_tags" arg is invalid for the create-empty-index endpoint.',
  ],
  [
    'fbc: both',
    validateFbcOperations,
    { from_index: IDX, fbc_fragment: B1, fbc_fragments: [B1] },
    400,
    'Cannot provide both "fbc_fragment" and "fbc_fragments" parameters',
  ],
  [
    'fbc: fragment not string',
    validateFbcOperations,
    { from_index: IDX, fbc_fragment: 1 },
    400,
    '"fbc_fragment" must be a string',
  ],
  [
    'fbc: neither',
    validateFbcOperations,
    { from_index: IDX },
    400,
    'Either "fbc_fragment" or "fbc_fragments" must be provided',
  ],
  [
    'fbc: fragments bad',
    validateFbcOperations,
    { from_index: IDX, fbc_fragments: [1] },
    400,
    '"fbc_fragments" should be either an empty array or an array of non-empty strings',
  ],
  [
    'fbc: output_fbc not allowed',
    validateFbcOperations,
    { from_index: IDX, fbc_fragments: [B1], output_fbc: true },
    400,
    'The following parameters are invalid: output_fbc',
  ],
  [
    'deprecations: package',
    validateAddDeprecations,
    { from_index: IDX },
    400,
    '"operator_package" should be a non-empty string',
  ],
  [
    'deprecations: schema missing',
    validateAddDeprecations,
    { from_index: IDX, operator_package: 'p' },
    400,
    '"deprecation_schema" should be a non-empty string',
  ],
  [
    'deprecations: schema not JSON',
    validateAddDeprecations,
    { from_index: IDX, operator_package: 'p', deprecation_schema: '{' },
    400,
    '"deprecation_schema" string should be valid JSON',
  ],
  [
    'deprecations: from_index missing',
    validateAddDeprecations,
    { operator_package: 'p', deprecation_schema: '{}' },
    400,
    'Missing required parameter(s): from_index',
  ],
  [
    'batch: not object',
    validateAddRmBatch,
    [],
    400,
    'The input data must be a JSON object and the "build_requests" value must be a non-empty array',
  ],
  [
    'batch: empty',
    validateRegenerateBundleBatch,
    { build_requests: [] },
    400,
    'The input data must be a JSON object and the "build_requests" value must be a non-empty array',
  ],
  [
    'batch: annotations',
    validateRegenerateBundleBatch,
    { build_requests: [{ from_bundle_image: B1 }], annotations: [] },
    400,
    'The value of "annotations" must be a JSON object',
  ],
  [
    'batch: item error suffixed',
    validateRegenerateBundleBatch,
    { build_requests: [{ from_bundle_image: B1 }, {}] },
    400,
    'Missing required parameter(s): from_bundle_image. This occurred on the build request in index 1.',
  ],
  [
    'batch: neither add nor rm',
    validateAddRmBatch,
    { build_requests: [{ from_index: IDX }] },
    400,
    'Build request is not a valid Add/Rm request. This occurred on the build request in index 0.',
  ],
];

describe('request validation, as IIB', () => {
  // Every row has its context, so the test function's arity matches the row (no done callback).
  const rows = cases.map(
    ([n, v, body, status, message, c]) => [n, v, body, status, message, c ?? ctx] as const,
  );
  it.each(rows)("when %s, then IIB's error", (_name, v, body, status, message, c) => {
    expect(failure(v, body, c)).toEqual({ status, message });
  });

  it('when add has duplicate bundles, then they are removed in order and legacy keys are dropped', () => {
    const r = validateAdd(
      {
        bundles: [B1, 'q.io/b:2', B1],
        from_index: IDX,
        binary_image: BIN,
        cnr_token: 'x',
        force_backport: true,
        organization: '',
      },
      ctx,
    );
    expect(r.params).toEqual({
      bundles: [B1, 'q.io/b:2'],
      from_index: IDX,
      binary_image: BIN,
      overwrite_from_index: false,
      build_tags: [],
    });
    expect(r.fromIndex).toBe(IDX);
  });

  it('when a token is given, then it goes to secrets and never to params', () => {
    const r = validateAdd(
      {
        bundles: [B1],
        from_index: IDX,
        binary_image: BIN,
        overwrite_from_index: true,
        overwrite_from_index_token: 'u:secret',
      },
      authed,
    );
    expect(JSON.stringify(r.params)).not.toContain('secret');
    expect(r.secrets).toEqual({ overwrite_from_index_token: 'u:secret' });
    const m = validateMergeIndexImage(
      {
        source_from_index: IDX,
        binary_image: BIN,
        overwrite_target_index: true,
        overwrite_target_index_token: 'u:secret',
      },
      ctx,
    );
    expect(JSON.stringify(m.params)).not.toContain('secret');
    const auths = { auths: { 'r.io': { auth: 'c2VjcmV0' } } };
    const g = validateRegenerateBundle({ from_bundle_image: B1, registry_auths: auths }, ctx);
    expect(g.params).toEqual({ from_bundle_image: B1 });
    expect(g.secrets).toEqual({ registry_auths: auths });
  });

  it('when the binary image is configured, then binary_image is optional and scope is lowercased', () => {
    const r = validateCreateEmptyIndex(
      { from_index: IDX, distribution_scope: 'PROD' },
      { ...ctx, binaryImageConfigured: true },
    );
    expect(r.params).toEqual({ from_index: IDX, distribution_scope: 'prod' });
  });

  it('when fbc_fragment is used, then it becomes the one-element list and is remembered as legacy', () => {
    const r = validateFbcOperations({ from_index: IDX, binary_image: BIN, fbc_fragment: B1 }, ctx);
    expect(r.params).toMatchObject({ fbc_fragments: [B1], fbc_fragment: B1 });
  });

  it('when an add-rm batch mixes items, then each gets its type', () => {
    const b = validateAddRmBatch(
      {
        build_requests: [
          { bundles: [B1], from_index: IDX, binary_image: BIN },
          { operators: ['op'], from_index: IDX, binary_image: BIN },
        ],
        annotations: { a: 1 },
      },
      ctx,
    );
    expect(b.items.map((i) => i.type)).toEqual(['add', 'rm']);
    expect(b.annotations).toEqual({ a: 1 });
  });

  it('when a batch item is forbidden, then the 403 is kept without the suffix', () => {
    const f = failure(
      validateAddRmBatch,
      { build_requests: [{ bundles: [B1], from_index: IDX, binary_image: BIN, overwrite_from_index: true }] },
      authed,
    );
    expect(f).toEqual({
      status: 403,
      message: 'You must set "overwrite_from_index_token" to use "overwrite_from_index"',
    });
  });
});

describe('PATCH validation, as IIB', () => {
  const patchCases: [string, unknown, string][] = [
    ['not an object', [], 'The input data must be a JSON object'],
    ['empty', {}, 'At least one key must be specified to update the request'],
    ['key not mutable', { from_index: 'x' }, 'The following keys are not allowed: from_index'],
    ['bad arches', { arches: [1] }, 'Architectures should be specified as a non-empty array of strings'],
    [
      'bad mapping',
      { bundle_mapping: { op: [1] } },
      'The "bundle_mapping" key must be an object with the values as lists of strings',
    ],
    ['empty string', { index_image: '' }, 'The value for "index_image" must be a non-empty string'],
    ['state alone', { state: 'complete' }, 'The "state_reason" key is required when "state" is supplied'],
    ['reason alone', { state_reason: 'x' }, 'The "state" key is required when "state_reason" is supplied'],
    [
      'bad state',
      { state: 'done', state_reason: 'x' },
      'done is not a valid build request state. Valid states are: complete, failed, in_progress',
    ],
  ];
  it.each(patchCases)("when the body is %s, then IIB's error", (_n, body, message) => {
    expect(() => validatePatch('add', 1, body)).toThrow(message);
  });

  it("when regenerate-bundle replacements are not strings, then IIB's error", () => {
    expect(() => validatePatch('regenerate-bundle', 1, { bundle_replacements: { a: 1 } })).toThrow(
      'The "bundle_replacements" key must be a dictionary object mapping from strings to strings',
    );
  });
});
