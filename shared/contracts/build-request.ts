import { z } from 'zod/v4';
import { ValidationError } from '../errors';
import { PARAMS } from './request-params';
import { REQUEST_TYPES, RequestType } from './request-types';
import { parseMessage } from './validate';

/**
 * The message of one request: published by the gateway's outbox on
 * `iib.requests`, forwarded by the scheduler to a lane (with `lane` set),
 * consumed by a builder. One schema per request type; `params` is that
 * type's (see request-params.ts).
 */

/** Set by the scheduler: the lane the request was routed to. */
export const LaneAssignment = z.strictObject({ serial: z.boolean(), name: z.string().min(1) });
export type LaneAssignment = z.infer<typeof LaneAssignment>;

const ENVELOPE = {
  id: z.number().int(),
  user: z.string().nullable(),
  batch: z.number().int(),
  /** Tokens and registry auths, sealed with the key shared by gateway and builder. */
  sealed_secrets: z.string().optional(),
  submitted_at: z.string(),
  lane: LaneAssignment.optional(),
};

function requestEvent<T extends RequestType>(type: T) {
  return z.strictObject({ ...ENVELOPE, request_type: z.literal(type), params: PARAMS[type] });
}

export const AddRequestEvent = requestEvent('add');
export type AddRequestEvent = z.infer<typeof AddRequestEvent>;
export const RmRequestEvent = requestEvent('rm');
export type RmRequestEvent = z.infer<typeof RmRequestEvent>;
export const CreateEmptyIndexRequestEvent = requestEvent('create-empty-index');
export type CreateEmptyIndexRequestEvent = z.infer<typeof CreateEmptyIndexRequestEvent>;
export const FbcOperationsRequestEvent = requestEvent('fbc-operations');
export type FbcOperationsRequestEvent = z.infer<typeof FbcOperationsRequestEvent>;
export const AddDeprecationsRequestEvent = requestEvent('add-deprecations');
export type AddDeprecationsRequestEvent = z.infer<typeof AddDeprecationsRequestEvent>;
export const MergeIndexImageRequestEvent = requestEvent('merge-index-image');
export type MergeIndexImageRequestEvent = z.infer<typeof MergeIndexImageRequestEvent>;
export const RegenerateBundleRequestEvent = requestEvent('regenerate-bundle');
export type RegenerateBundleRequestEvent = z.infer<typeof RegenerateBundleRequestEvent>;
export const RecursiveRelatedBundlesRequestEvent = requestEvent('recursive-related-bundles');
export type RecursiveRelatedBundlesRequestEvent = z.infer<typeof RecursiveRelatedBundlesRequestEvent>;

/** The schema of each request type's message. */
export const REQUEST_EVENTS = {
  add: AddRequestEvent,
  rm: RmRequestEvent,
  'regenerate-bundle': RegenerateBundleRequestEvent,
  'merge-index-image': MergeIndexImageRequestEvent,
  'create-empty-index': CreateEmptyIndexRequestEvent,
  'recursive-related-bundles': RecursiveRelatedBundlesRequestEvent,
  'fbc-operations': FbcOperationsRequestEvent,
  'add-deprecations': AddDeprecationsRequestEvent,
} as const;

/** Any request's message. */
export const BuildRequestEvent = z.discriminatedUnion('request_type', [
  AddRequestEvent,
  RmRequestEvent,
  RegenerateBundleRequestEvent,
  MergeIndexImageRequestEvent,
  CreateEmptyIndexRequestEvent,
  RecursiveRelatedBundlesRequestEvent,
  FbcOperationsRequestEvent,
  AddDeprecationsRequestEvent,
]);
export type BuildRequestEvent = z.infer<typeof BuildRequestEvent>;

function typeOf(body: unknown): RequestType {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ValidationError('request event must be a JSON object');
  }
  const type = (body as { request_type?: unknown }).request_type;
  if (typeof type !== 'string' || !(REQUEST_TYPES as readonly string[]).includes(type)) {
    throw new ValidationError(`request event has an unknown request_type ${String(type)}`);
  }
  return type as RequestType;
}

/** A request's message as received (scheduler, builder); a malformed one throws a ValidationError. */
export function parseBuildRequestEvent(body: unknown): BuildRequestEvent {
  const type = typeOf(body);
  const id = (body as { id?: unknown }).id;
  return parseMessage<BuildRequestEvent>(REQUEST_EVENTS[type], body, `request event ${String(id)} (${type})`);
}

/**
 * What identifies a request's message even when the rest of it is malformed:
 * enough for the scheduler to fail a dead-lettered request instead of leaving
 * it in progress. Other messages (state updates, state events) are not this.
 */
export const RequestIdentity = z.object({
  id: z.number().int(),
  request_type: z.enum(REQUEST_TYPES),
  params: z.record(z.string(), z.unknown()),
  lane: LaneAssignment.optional(),
});
export type RequestIdentity = z.infer<typeof RequestIdentity>;

export function parseRequestIdentity(body: unknown): RequestIdentity {
  return parseMessage(RequestIdentity, body, 'request event');
}
