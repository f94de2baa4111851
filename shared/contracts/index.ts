import { ValidationError } from '../errors';

/** Message contracts between the services. Every body is JSON. */

export const REQUEST_TYPES = [
  'add',
  'rm',
  'regenerate-bundle',
  'merge-index-image',
  'create-empty-index',
  'recursive-related-bundles',
  'fbc-operations',
  'add-deprecations',
] as const;
export type RequestType = (typeof REQUEST_TYPES)[number];

export const STATES = ['complete', 'failed', 'in_progress'] as const;
export type RequestState = (typeof STATES)[number];
export const FINAL_STATES: readonly RequestState[] = ['complete', 'failed'];

export function isFinal(state: string): boolean {
  return state === 'complete' || state === 'failed';
}

/** On `iib.requests` (gateway -> scheduler) and on the lanes (scheduler -> builder). */
export interface BuildRequestEvent {
  id: number;
  request_type: RequestType;
  user: string | null;
  batch: number;
  /** The request's parameters as accepted by the API, without secrets. */
  params: Record<string, unknown>;
  /** Tokens and registry auths, sealed with the key shared by gateway and builder. */
  sealed_secrets?: string;
  submitted_at: string;
  /** Set by the scheduler. */
  lane?: { serial: boolean; name: string };
}

/** On `iib.state-updates` (builder -> gateway recorder). */
export interface StateUpdate {
  /** Unique per update: the recorder applies each key once. */
  key: string;
  request_id: number;
  state?: RequestState;
  state_reason?: string;
  /** Result fields (arches, index_image, *_resolved, bundle_mapping, ...). */
  fields?: Record<string, unknown>;
  /** Lines for the request's log. */
  logs?: string[];
  /** Artifacts served by the API (related_bundles, nested_bundles). */
  artifacts?: Record<string, unknown>;
  builder?: string;
  at: string;
}

/**
 * On `iib.state-updates` too (builder -> gateway recorder): "what is the
 * recorded state of this request?". The recorder answers on the final-state
 * topic only after every update of the request that arrived before the
 * question has been applied, so a builder that takes over a redelivered lane
 * message learns of a result its crashed predecessor reported but did not settle.
 */
export interface StateQuery {
  kind: 'state-query';
  /** Unique per question; the answer carries it as `answer_to`. */
  key: string;
  request_id: number;
  builder?: string;
  at: string;
}

export function isStateQuery(body: unknown): body is StateQuery {
  return (body as Partial<StateQuery> | null)?.kind === 'state-query';
}

/** Application properties of a build-state message, as IIB sends them. */
export interface BuildStateProperties {
  batch: number;
  id: number;
  state: RequestState;
  user: string | null;
  [key: string]: string | number | boolean | null;
}

export interface BatchStateBody {
  batch: number;
  annotations: Record<string, unknown> | null;
  requests: { id: number; organization: string | null; request_type: RequestType }[];
  state: RequestState;
  user: string | null;
}

export function parseBuildRequestEvent(body: unknown): BuildRequestEvent {
  const e = body as Partial<BuildRequestEvent> | null;
  if (!e || typeof e !== 'object') throw new ValidationError('request event must be a JSON object');
  if (typeof e.id !== 'number') throw new ValidationError('request event needs a numeric id');
  if (!e.request_type || !(REQUEST_TYPES as readonly string[]).includes(e.request_type)) {
    throw new ValidationError(`request event has an unknown request_type ${String(e.request_type)}`);
  }
  if (typeof e.params !== 'object' || e.params === null)
    throw new ValidationError('request event needs params');
  return e as BuildRequestEvent;
}

/** On the `iib.events.final-state` topic: a request reached a final state (builders skip it if redelivered). */
export interface FinalStateEvent {
  request_id: number;
  state: RequestState;
  /** On the answer to a StateQuery: its key (the state may then be `in_progress`). */
  answer_to?: string;
}

/** The reason of a request failed because its lane message was delivered too often. */
export function attemptsExhaustedReason(attempts: number): string {
  return `The request failed after ${attempts} attempts: its builder stopped or crashed each time`;
}
