import {
  BatchStateBody,
  BuildRequestEvent,
  BuildStateEvent,
  FinalStateEvent,
  outgoingMessage,
  parseBatchStateEvent,
  parseBuildRequestEvent,
  parseBuildStateEvent,
  parseFinalStateEvent,
  parseRequestIdentity,
  parseStateQuery,
  parseStateUpdate,
  REQUEST_EVENTS,
  REQUEST_TYPES,
  RequestType,
  StateUpdate,
} from '../../../shared/contracts';
import { AppError, ValidationError } from '../../../shared/errors';
import { isRetryable } from '../../../shared/messaging';
import { batchBody, buildStateMessage } from '../../../services/gateway/requests/events';
import type { RequestRecord } from '../../../services/gateway/requests/record';
import { validateAdd } from '../../../services/gateway/requests/validation/add';
import { validateAddDeprecations } from '../../../services/gateway/requests/validation/add-deprecations';
import {
  validateRecursiveRelatedBundles,
  validateRegenerateBundle,
} from '../../../services/gateway/requests/validation/bundles';
import type {
  ValidatedRequest,
  ValidationContext,
} from '../../../services/gateway/requests/validation/common';
import { validateCreateEmptyIndex } from '../../../services/gateway/requests/validation/create-empty-index';
import { validateFbcOperations } from '../../../services/gateway/requests/validation/fbc-operations';
import { validateMergeIndexImage } from '../../../services/gateway/requests/validation/merge-index-image';
import { validateRm } from '../../../services/gateway/requests/validation/rm';

const IDX = 'quay.io/ns/index:v4.18';
const BIN = 'quay.io/ns/binary:v4.18';
const B1 = 'quay.io/ns/bundle:v1';
const B2 = 'quay.io/ns/bundle:v2';
const ctx: ValidationContext = {
  user: 'alice',
  authEnabled: false,
  binaryImageConfigured: true,
  graphModeOptions: ['replaces', 'semver', 'semver-skippatch'],
  graphModeIndexAllowList: [IDX],
};
const INDEX_SHARED = {
  binary_image: BIN,
  add_arches: ['amd64', 's390x'],
  overwrite_from_index: true,
  overwrite_from_index_token: 'user:token',
  distribution_scope: 'Stage',
  build_tags: ['extra'],
};
const AUTHS = { auths: { 'quay.io': { auth: 'dTpw' } } };

type Validator = (body: unknown, c: ValidationContext) => ValidatedRequest;

/** Per request type: the gateway's validator, a body with every key it takes, and the least it takes. */
const BODIES: Record<RequestType, { validate: Validator; full: object; least: object }> = {
  add: {
    validate: validateAdd,
    full: {
      ...INDEX_SHARED,
      bundles: [B1, B2, B1],
      from_index: IDX,
      output_fbc: true,
      organization: 'acme',
      cnr_token: 'legacy',
      force_backport: false,
      deprecation_list: [B2],
      graph_update_mode: 'semver',
      check_related_images: true,
    },
    least: { bundles: [B1], add_arches: ['amd64'] },
  },
  rm: {
    validate: validateRm,
    full: { ...INDEX_SHARED, operators: ['op-a', 'op-b'], from_index: IDX, output_fbc: false },
    least: { operators: ['op-a'], from_index: IDX },
  },
  'create-empty-index': {
    validate: validateCreateEmptyIndex,
    full: {
      from_index: IDX,
      binary_image: BIN,
      labels: { 'com.example.team': 'rel-eng' },
      output_fbc: true,
      distribution_scope: 'prod',
    },
    least: { from_index: IDX },
  },
  'fbc-operations': {
    validate: validateFbcOperations,
    full: { ...INDEX_SHARED, fbc_fragments: [B1, B2], from_index: IDX },
    least: { fbc_fragment: B1, from_index: IDX },
  },
  'add-deprecations': {
    validate: validateAddDeprecations,
    full: {
      ...INDEX_SHARED,
      operator_package: 'op-a',
      deprecation_schema: '{"schema": "olm.deprecations", "package": "op-a", "entries": []}',
      from_index: IDX,
      output_fbc: true,
    },
    least: { operator_package: 'op-a', deprecation_schema: '{}', from_index: IDX },
  },
  'merge-index-image': {
    validate: validateMergeIndexImage,
    full: {
      source_from_index: IDX,
      target_index: 'quay.io/ns/target:v4.18',
      deprecation_list: [B1],
      binary_image: BIN,
      overwrite_target_index: true,
      overwrite_target_index_token: 'user:token',
      distribution_scope: 'dev',
      build_tags: ['t'],
      ignore_bundle_ocp_version: true,
    },
    least: { source_from_index: IDX },
  },
  'regenerate-bundle': {
    validate: validateRegenerateBundle,
    full: {
      from_bundle_image: B1,
      organization: 'acme',
      bundle_replacements: { [B1]: B2 },
      registry_auths: AUTHS,
    },
    least: { from_bundle_image: B1 },
  },
  'recursive-related-bundles': {
    validate: validateRecursiveRelatedBundles,
    full: { parent_bundle_image: B1, organization: 'acme', registry_auths: AUTHS },
    least: { parent_bundle_image: B1 },
  },
};

/** The message the gateway's store puts in the outbox for a validated request (see requests/submit.ts). */
function eventOf(v: ValidatedRequest, id = 7): unknown {
  const event = {
    id,
    request_type: v.type,
    user: v.user,
    batch: 3,
    params: JSON.parse(JSON.stringify(v.params)) as unknown,
    sealed_secrets: v.secrets ? 'sealed-box' : undefined,
    submitted_at: new Date().toISOString(),
  };
  // As it travels: JSON.
  return JSON.parse(JSON.stringify(event)) as unknown;
}

const cases = REQUEST_TYPES.flatMap((type) =>
  (['full', 'least'] as const).map((shape) => [type, shape] as const),
);

describe('message contracts', () => {
  describe('the request event of each type', () => {
    it('when every request type is listed, then each has a schema of its own', () => {
      expect(Object.keys(REQUEST_EVENTS).sort()).toEqual([...REQUEST_TYPES].sort());
    });

    it.each(cases)(
      'when the gateway accepts a %s request (%s body), then its event satisfies the contract',
      (type, shape) => {
        const body = BODIES[type];
        const event = eventOf(body.validate(body[shape], ctx));
        const parsed = parseBuildRequestEvent(event);
        expect(parsed).toEqual(event);
        expect(REQUEST_EVENTS[type].parse(event)).toEqual(event);
        expect(BuildRequestEvent.parse(event)).toEqual(event);
        // The producer's own check accepts it too.
        expect(outgoingMessage(BuildRequestEvent, event, 'request event')).toEqual(event);
        // And the scheduler's forward, with its lane, is what builders consume.
        const forwarded = { ...parsed, lane: { serial: true, name: 'iib' } };
        expect(parseBuildRequestEvent(JSON.parse(JSON.stringify(forwarded)))).toEqual(forwarded);
      },
    );

    it('when the gateway accepts a batch of add and rm requests, then every event satisfies the contract', () => {
      for (const [type, body] of [
        ['add', { bundles: [B1], from_index: IDX }],
        ['rm', { operators: ['op'], from_index: IDX }],
      ] as const) {
        expect(() => parseBuildRequestEvent(eventOf(BODIES[type].validate(body, ctx)))).not.toThrow();
      }
    });

    const add = eventOf(validateAdd({ bundles: [B1], from_index: IDX }, ctx)) as Record<string, unknown>;
    const params = add.params as Record<string, unknown>;
    it.each([
      ['not an object', 'text', /request event must be a JSON object/],
      ['an array', [add], /request event must be a JSON object/],
      ['an unknown request type', { ...add, request_type: 'build' }, /unknown request_type build/],
      ['no request type', { ...add, request_type: undefined }, /unknown request_type undefined/],
      ['no id', { ...add, id: undefined }, /request event undefined \(add\) is malformed: id:/],
      ['a textual id', { ...add, id: '7' }, /id: .*expected number/],
      ['a fractional batch', { ...add, batch: 1.5 }, /batch: /],
      ['no params', { ...add, params: undefined }, /params: /],
      ['a param of the wrong type', { ...add, params: { ...params, bundles: B1 } }, /params\.bundles: /],
      ['a param no gateway sends', { ...add, params: { ...params, bundle: B1 } }, /params: .*"bundle"/],
      ['an envelope key no gateway sends', { ...add, secrets: { token: 'x' } }, /"secrets"/],
      [
        'a scope IIB does not have',
        { ...add, params: { ...params, distribution_scope: 'qa' } },
        /distribution_scope/,
      ],
      ['a lane without its name', { ...add, lane: { serial: true } }, /lane\.name: /],
      ['a user that is not a string', { ...add, user: 5 }, /user: /],
    ])('when a request event has %s, then it is refused naming what is wrong', (_what, body, message) => {
      expect(() => parseBuildRequestEvent(body)).toThrow(message);
      expect(() => parseBuildRequestEvent(body)).toThrow(ValidationError);
    });

    it.each([
      ['rm', { operators: [], from_index: IDX }, /params\.operators: /],
      ['rm', { operators: ['op'] }, /params\.from_index: /],
      ['create-empty-index', { from_index: IDX, build_tags: ['t'] }, /"build_tags"/],
      ['fbc-operations', { from_index: IDX }, /params\.fbc_fragments: /],
      ['add-deprecations', { from_index: IDX, operator_package: 'op' }, /params\.deprecation_schema: /],
      ['merge-index-image', { target_index: IDX }, /params\.source_from_index: /],
      [
        'regenerate-bundle',
        { from_bundle_image: B1, bundle_replacements: { [B1]: 1 } },
        /bundle_replacements/,
      ],
      ['recursive-related-bundles', { organization: 'acme' }, /params\.parent_bundle_image: /],
    ] as const)('when a %s event lacks what its builder needs, then it is refused', (type, p, message) => {
      const body = { id: 1, request_type: type, user: null, batch: 1, params: p, submitted_at: '' };
      expect(() => parseBuildRequestEvent(body)).toThrow(message);
    });

    it('when a malformed message is refused, then the consumer dead-letters it rather than retrying', () => {
      let error: unknown;
      try {
        parseBuildRequestEvent({ ...add, id: 'x' });
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ValidationError);
      expect(isRetryable(error)).toBe(false);
    });

    it('when the producer builds an event that breaks the contract, then it is our error (500), not the caller’s', () => {
      let error: unknown;
      try {
        outgoingMessage(BuildRequestEvent, { ...add, params: { nonsense: true } }, 'request event 7');
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(AppError);
      expect(error).not.toBeInstanceOf(ValidationError);
      expect((error as AppError).status).toBe(500);
      expect((error as Error).message).toMatch(/^request event 7 does not satisfy its contract: params: /);
    });

    it('when a dead letter is a request with malformed params, then it is still identified, so it can be failed', () => {
      const identity = parseRequestIdentity({
        ...add,
        params: { bundles: 5 },
        lane: { serial: false, name: 'iib' },
      });
      expect(identity).toMatchObject({ id: add.id, lane: { serial: false, name: 'iib' } });
    });

    it('when a dead letter is a state update or a state event, then it is not taken for a request', () => {
      const record = recordOf('add');
      expect(() => parseRequestIdentity({ key: 'k', request_id: 7, at: '' })).toThrow(ValidationError);
      expect(() => parseRequestIdentity(buildStateMessage(record).body)).toThrow(ValidationError);
    });
  });

  describe('the state update and the state query', () => {
    const update: StateUpdate = {
      key: 'u-1',
      request_id: 7,
      state: 'complete',
      state_reason: 'The operator bundle(s) were successfully added to the index image',
      fields: { index_image: 'registry:5000/iib-build:7', arches: ['amd64'] },
      logs: ['skopeo inspect ... exit 0'],
      artifacts: { related_bundles: [] },
      builder: 'builder-1',
      at: new Date().toISOString(),
    };

    it('when a builder reports, then its update satisfies the contract', () => {
      expect(parseStateUpdate(update)).toEqual(update);
      expect(parseStateUpdate({ key: 'u-2', request_id: 7, logs: ['a line'], at: '' })).toBeDefined();
    });

    it.each([
      [
        'a state without its reason',
        { ...update, state_reason: undefined },
        /state and state_reason must come together/,
      ],
      [
        'a reason without its state',
        { ...update, state: undefined },
        /state and state_reason must come together/,
      ],
      ['an unknown state', { ...update, state: 'done' }, /state: /],
      ['no key', { ...update, key: '' }, /key: /],
      ['a fractional request id', { ...update, request_id: 7.5 }, /request_id: /],
      ['log lines that are not strings', { ...update, logs: [1] }, /logs\.0: /],
      ['a key no builder sends', { ...update, status: 'ok' }, /"status"/],
    ])('when a state update has %s, then it is refused', (_what, body, message) => {
      expect(() => parseStateUpdate(body)).toThrow(message);
      expect(() => parseStateUpdate(body)).toThrow(ValidationError);
    });

    it('when a builder asks for the recorded state, then its query satisfies the contract, and a bad one is refused', () => {
      const query = { kind: 'state-query', key: 'q-1', request_id: 7, builder: 'b', at: '' };
      expect(parseStateQuery(query)).toEqual(query);
      expect(() => parseStateQuery({ ...query, request_id: 'seven' })).toThrow(
        /state query is malformed: request_id/,
      );
    });

    it('when the gateway answers or a builder announces, then the final-state event satisfies the contract', () => {
      const answers: FinalStateEvent[] = [
        { request_id: 7, state: 'failed' },
        { request_id: 7, state: 'in_progress', answer_to: 'q-1' },
        { request_id: 8, state: 'unknown', answer_to: 'q-2' },
      ];
      for (const a of answers) expect(parseFinalStateEvent(a)).toEqual(a);
      expect(() => parseFinalStateEvent({ request_id: 7, state: 'done' })).toThrow(ValidationError);
    });
  });

  describe('the state events', () => {
    it('when the store publishes a build state, then the event satisfies the contract', () => {
      for (const type of REQUEST_TYPES) {
        const body = buildStateMessage(recordOf(type)).body;
        expect(parseBuildStateEvent(body)).toMatchObject({
          id: 7,
          batch: 3,
          state: 'in_progress',
          user: 'alice',
        });
      }
      expect(() => parseBuildStateEvent({ id: '7', batch: 3, state: 'complete' })).toThrow(
        /build-state event is malformed: id/,
      );
    });

    it('when the store publishes a batch state, then the event satisfies the contract', () => {
      const body: BatchStateBody = batchBody(3, { note: 'x' }, [
        recordOf('add'),
        recordOf('regenerate-bundle'),
      ]);
      expect(parseBatchStateEvent(JSON.parse(JSON.stringify(body)))).toEqual(body);
      expect(() => parseBatchStateEvent({ ...body, requests: 'none' })).toThrow(/requests: /);
      expect(() => parseBatchStateEvent({ ...body, state: 'done' })).toThrow(/state: /);
    });

    it('when a build-state event carries the whole request JSON, then the contract keeps every key', () => {
      const body = buildStateMessage(recordOf('rm')).body as Record<string, unknown>;
      expect(BuildStateEvent.parse(body)).toEqual(body);
    });
  });
});

function recordOf(type: RequestType): RequestRecord {
  const body = BODIES[type];
  return {
    id: 7,
    type,
    user_name: 'alice',
    batch_id: 3,
    state: 'in_progress',
    state_reason: 'The request was initiated',
    updated: new Date(),
    params: body.validate(body.full, ctx).params,
    results: {},
    trace_id: null,
  };
}
