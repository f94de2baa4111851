import { AppError } from '../../../shared/errors';
import { validateAdd } from '../../../services/gateway/requests/validation/add';
import { validateAddDeprecations } from '../../../services/gateway/requests/validation/add-deprecations';
import {
  validateAddRmBatch,
  validateRegenerateBundleBatch,
} from '../../../services/gateway/requests/validation/batch';
import {
  validateRecursiveRelatedBundles,
  validateRegenerateBundle,
} from '../../../services/gateway/requests/validation/bundles';
import type { ValidationContext } from '../../../services/gateway/requests/validation/common';
import { validateCreateEmptyIndex } from '../../../services/gateway/requests/validation/create-empty-index';
import { validateFbcOperations } from '../../../services/gateway/requests/validation/fbc-operations';
import { validateMergeIndexImage } from '../../../services/gateway/requests/validation/merge-index-image';
import { validateRm } from '../../../services/gateway/requests/validation/rm';
import { validatePatch } from '../../../services/gateway/requests/validation/patch';
import { LIMITS } from '../../../services/gateway/requests/validation/limits';
import { assertSafeJson, unsafeJsonProblem } from '../../../services/gateway/requests/validation/safe-json';

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

describe('size limits', () => {
  const many = (n: number, f: (i: number) => string): string[] => Array.from({ length: n }, (_, i) => f(i));
  const entries = (n: number): Record<string, string> =>
    Object.fromEntries(many(n, (i) => `k${i}`).map((k) => [k, 'v']));
  const limitCases: [string, V, unknown, string][] = [
    [
      'add: 51 build_tags',
      validateAdd,
      { bundles: [B1], binary_image: BIN, build_tags: many(51, (i) => `t${i}`) },
      '"build_tags" must not hold more than 50 items',
    ],
    [
      'add: 501 bundles',
      validateAdd,
      { bundles: many(501, (i) => `${B1}${i}`), binary_image: BIN },
      '"bundles" must not hold more than 500 items',
    ],
    [
      'add: 501 bundles, even with duplicates',
      validateAdd,
      { bundles: many(501, () => B1), binary_image: BIN },
      '"bundles" must not hold more than 500 items',
    ],
    [
      'add: 501 deprecation_list items',
      validateAdd,
      { bundles: [B1], binary_image: BIN, deprecation_list: many(501, (i) => `${B1}${i}`) },
      '"deprecation_list" must not hold more than 500 items',
    ],
    [
      'add: 17 add_arches',
      validateAdd,
      { bundles: [B1], binary_image: BIN, add_arches: many(17, (i) => `a${i}`) },
      '"add_arches" must not hold more than 16 items',
    ],
    [
      'add: a 513-character bundle',
      validateAdd,
      { bundles: [`q.io/b:${'x'.repeat(506)}`], binary_image: BIN },
      'Each item of "bundles" must not be longer than 512 characters',
    ],
    [
      'add: a 129-character tag',
      validateAdd,
      { bundles: [B1], binary_image: BIN, build_tags: ['t'.repeat(129)] },
      'Each item of "build_tags" must not be longer than 128 characters',
    ],
    [
      'add: a 256-character organization',
      validateAdd,
      { bundles: [B1], binary_image: BIN, organization: 'o'.repeat(256) },
      '"organization" must not be longer than 255 characters',
    ],
    [
      'add: a 16,385-character token',
      validateAdd,
      {
        bundles: [B1],
        from_index: IDX,
        overwrite_from_index: true,
        overwrite_from_index_token: 't'.repeat(16_385),
      },
      '"overwrite_from_index_token" must not be longer than 16384 characters',
    ],
    [
      'rm: 501 operators',
      validateRm,
      { operators: many(501, (i) => `op${i}`), from_index: IDX, binary_image: BIN },
      '"operators" must not hold more than 500 items',
    ],
    [
      'rm: a 513-character from_index',
      validateRm,
      { operators: ['op'], from_index: `q.io/i:${'x'.repeat(506)}`, binary_image: BIN },
      '"from_index" must not be longer than 512 characters',
    ],
    [
      'rm: a 513-character binary_image',
      validateRm,
      { operators: ['op'], from_index: IDX, binary_image: `q.io/b:${'x'.repeat(506)}` },
      '"binary_image" must not be longer than 512 characters',
    ],
    [
      'fbc-operations: 101 fragments',
      validateFbcOperations,
      { fbc_fragments: many(101, (i) => `${B1}${i}`), from_index: IDX, binary_image: BIN },
      '"fbc_fragments" must not hold more than 100 items',
    ],
    [
      'fbc-operations: a 513-character legacy fragment',
      validateFbcOperations,
      { fbc_fragment: `q.io/f:${'x'.repeat(506)}`, from_index: IDX, binary_image: BIN },
      '"fbc_fragment" must not be longer than 512 characters',
    ],
    [
      'merge-index-image: 501 deprecation_list items',
      validateMergeIndexImage,
      { source_from_index: IDX, binary_image: BIN, deprecation_list: many(501, (i) => `${B1}${i}`) },
      '"deprecation_list" must not hold more than 500 items',
    ],
    [
      'merge-index-image: 51 build_tags',
      validateMergeIndexImage,
      { source_from_index: IDX, binary_image: BIN, build_tags: many(51, (i) => `t${i}`) },
      '"build_tags" must not hold more than 50 items',
    ],
    [
      'create-empty-index: 101 labels',
      validateCreateEmptyIndex,
      { from_index: IDX, binary_image: BIN, labels: entries(101) },
      '"labels" must not hold more than 100 keys',
    ],
    [
      'create-empty-index: a 4097-character label key',
      validateCreateEmptyIndex,
      { from_index: IDX, binary_image: BIN, labels: { ['k'.repeat(4097)]: 'v' } },
      'Each key and value of "labels" must not be longer than 4096 characters',
    ],
    [
      'create-empty-index: a 4097-character label value',
      validateCreateEmptyIndex,
      { from_index: IDX, binary_image: BIN, labels: { k: 'v'.repeat(4097) } },
      'Each key and value of "labels" must not be longer than 4096 characters',
    ],
    [
      'regenerate-bundle: 501 replacements',
      validateRegenerateBundle,
      { from_bundle_image: B1, bundle_replacements: entries(501) },
      '"bundle_replacements" must not hold more than 500 keys',
    ],
    [
      'regenerate-bundle: a 513-character replacement',
      validateRegenerateBundle,
      { from_bundle_image: B1, bundle_replacements: { [B1]: `q.io/b:${'x'.repeat(506)}` } },
      'Each key and value of "bundle_replacements" must not be longer than 512 characters',
    ],
    [
      'regenerate-bundle: 51 registries',
      validateRegenerateBundle,
      {
        from_bundle_image: B1,
        registry_auths: {
          auths: Object.fromEntries(many(51, (i) => `r${i}.io`).map((r) => [r, { auth: 'eA==' }])),
        },
      },
      '"registry_auths.auths" must not hold more than 50 keys',
    ],
    [
      'recursive-related-bundles: a 16,385-character auth',
      validateRecursiveRelatedBundles,
      { parent_bundle_image: B1, registry_auths: { auths: { 'r.io': { auth: 'a'.repeat(16_385) } } } },
      'Each key and value of "registry_auths.auths" must not be longer than 16384 characters',
    ],
    [
      'add-deprecations: a 256-character package',
      validateAddDeprecations,
      { operator_package: 'p'.repeat(256), deprecation_schema: '{}', from_index: IDX, binary_image: BIN },
      '"operator_package" must not be longer than 255 characters',
    ],
    [
      'add-rm-batch: 201 items',
      validateAddRmBatch,
      { build_requests: many(201, () => '').map(() => ({ bundles: [B1], binary_image: BIN })) },
      '"build_requests" must not hold more than 200 items',
    ],
    [
      'regenerate-bundle-batch: 101 annotation keys',
      validateRegenerateBundleBatch,
      { build_requests: [{ from_bundle_image: B1 }], annotations: entries(101) },
      '"annotations" must not hold more than 100 keys',
    ],
    [
      'add-rm-batch: a limit of an item',
      validateAddRmBatch,
      { build_requests: [{ operators: many(501, (i) => `op${i}`), from_index: IDX, binary_image: BIN }] },
      '"operators" must not hold more than 500 items. This occurred on the build request in index 0.',
    ],
  ];

  it.each(limitCases)('when %s, then a 400 naming the key and the limit', (_name, v, body, message) => {
    expect(failure(v, body)).toEqual({ status: 400, message });
  });

  it('when every list and string sits at its limit, then the request is valid', () => {
    const atLimit = validateAdd(
      {
        bundles: many(500, (i) => `${B1}${i}`),
        from_index: `q.io/i:${'x'.repeat(505)}`,
        binary_image: BIN,
        build_tags: many(50, (i) => `${i}`.padStart(128, 't')),
        deprecation_list: many(500, (i) => `${B1}${i}`),
        add_arches: many(16, (i) => `a${i}`),
        organization: 'o'.repeat(255),
      },
      ctx,
    );
    expect((atLimit.params.bundles as string[]).length).toBe(500);
    expect((atLimit.params.from_index as string).length).toBe(512);
    const labels = validateCreateEmptyIndex(
      {
        from_index: IDX,
        binary_image: BIN,
        labels: Object.fromEntries(many(100, (i) => `k${i}`).map((k) => [k, 'v'.repeat(4096)])),
      },
      ctx,
    );
    expect(Object.keys(labels.params.labels as object)).toHaveLength(100);
  });

  it("when a value of the wrong type is over a limit, then IIB's type message wins over the limit", () => {
    expect(failure(validateRm, { operators: 'o'.repeat(600), from_index: IDX })).toEqual({
      status: 400,
      message: '"operators" should be a non-empty array of strings',
    });
  });
});

describe('unsafe JSON', () => {
  const cases: [string, unknown, string | undefined][] = [
    ['a clean body', { a: ['b', { c: 'é\u{1F600}' }], n: 1, z: null }, undefined],
    ['a NUL in a top-level value', { from_index: 'a\u0000' }, '"from_index" contains a NUL character'],
    ['a NUL in a nested value', { labels: { v: 'x\u0000' } }, '"labels.v" contains a NUL character'],
    ['a NUL in a list item', { bundles: ['a', 'b\u0000'] }, '"bundles[1]" contains a NUL character'],
    [
      'a NUL in a batch item',
      { build_requests: [{}, { bundles: ['\u0000'] }] },
      '"build_requests[1].bundles[0]" contains a NUL character',
    ],
    ['a NUL in a key', { labels: { 'k\u0000': 'v' } }, 'A key of "labels" contains a NUL character'],
    ['a NUL in a top-level key', { '\u0000': 1 }, 'A key of the input data contains a NUL character'],
    ['a NUL in a bare string body', 'a\u0000', 'The input data contains a NUL character'],
    [
      'a lone high surrogate',
      { labels: { a: '\ud800' } },
      '"labels.a" contains invalid Unicode (an unpaired surrogate)',
    ],
    ['a lone low surrogate', { x: 'a\udc00b' }, '"x" contains invalid Unicode (an unpaired surrogate)'],
    ['reversed surrogates', { x: '\udc00\ud800' }, '"x" contains invalid Unicode (an unpaired surrogate)'],
    [
      'a surrogate in a key',
      { x: { '\ud800': 1 } },
      'A key of "x" contains invalid Unicode (an unpaired surrogate)',
    ],
    [
      'a long key in a path',
      { ['k'.repeat(100)]: '\u0000' },
      `"${'k'.repeat(64)}..." contains a NUL character`,
    ],
    ['32 levels', { a: JSON.parse(nestedArrays(31)) as unknown }, undefined],
    [
      '33 levels',
      { a: JSON.parse(nestedArrays(32)) as unknown },
      'The input data must not be nested more than 32 levels deep',
    ],
  ];

  it.each(cases)('when %s is checked, then the problem is named', (_name, value, problem) => {
    expect(unsafeJsonProblem(value, LIMITS.depth)).toBe(problem);
  });

  it('when 100,000 arrays are nested, then the check stops at the limit without a stack overflow', () => {
    const deep = JSON.parse(nestedArrays(100_000)) as unknown;
    expect(() => assertSafeJson({ a: deep }, LIMITS.depth)).toThrow(
      'The input data must not be nested more than 32 levels deep',
    );
  });

  it('when the problem is in a later item, then it is still found (every string is walked)', () => {
    const big = { bundles: Array.from({ length: 10_000 }, (_, i) => (i === 9_999 ? '\u0000' : `b${i}`)) };
    expect(unsafeJsonProblem(big, LIMITS.depth)).toBe('"bundles[9999]" contains a NUL character');
  });
});

function nestedArrays(depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth);
}
