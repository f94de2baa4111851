import { z } from 'zod/v4';
import { STATES } from './request-types';
import { parseMessage } from './validate';

/** The messages between builders and the gateway's recorder about a request's state. */

/** On `iib.state-updates` (builder -> gateway recorder). */
export const StateUpdate = z
  .strictObject({
    /** Unique per update: the recorder applies each key once. */
    key: z.string().min(1),
    request_id: z.number().int(),
    state: z.enum(STATES).optional(),
    state_reason: z.string().optional(),
    /** Result fields (arches, index_image, *_resolved, bundle_mapping, ...). */
    fields: z.record(z.string(), z.unknown()).optional(),
    /** Lines for the request's log. */
    logs: z.array(z.string()).optional(),
    /** Artifacts served by the API (related_bundles, nested_bundles). */
    artifacts: z.record(z.string(), z.unknown()).optional(),
    builder: z.string().optional(),
    at: z.string(),
  })
  .refine((u) => (u.state === undefined) === (u.state_reason === undefined), {
    error: 'state and state_reason must come together',
  });
export type StateUpdate = z.infer<typeof StateUpdate>;

/**
 * On `iib.state-updates` too (builder -> gateway recorder): "what is the
 * recorded state of this request?". The recorder answers on the final-state
 * topic only after every update of the request that arrived before the
 * question has been applied, so a builder that takes over a redelivered lane
 * message learns of a result its crashed predecessor reported but did not settle.
 */
export const StateQuery = z.strictObject({
  kind: z.literal('state-query'),
  /** Unique per question; the answer carries it as `answer_to`. */
  key: z.string().min(1),
  request_id: z.number().int(),
  builder: z.string().optional(),
  at: z.string(),
});
export type StateQuery = z.infer<typeof StateQuery>;

export function isStateQuery(body: unknown): body is StateQuery {
  return (body as Partial<StateQuery> | null)?.kind === 'state-query';
}

/** On the `iib.events.final-state` topic: a request reached a final state (builders skip it if redelivered). */
export const FinalStateEvent = z.strictObject({
  request_id: z.number().int(),
  /**
   * Final, except on the answer to a StateQuery: the request may still be
   * `in_progress`, or `unknown` to the gateway.
   */
  state: z.union([z.enum(STATES), z.literal('unknown')]),
  /** On the answer to a StateQuery: its key. */
  answer_to: z.string().optional(),
});
export type FinalStateEvent = z.infer<typeof FinalStateEvent>;

export const parseStateUpdate = (body: unknown): StateUpdate =>
  parseMessage(StateUpdate, body, 'state update');
export const parseStateQuery = (body: unknown): StateQuery => parseMessage(StateQuery, body, 'state query');
export const parseFinalStateEvent = (body: unknown): FinalStateEvent =>
  parseMessage(FinalStateEvent, body, 'final-state event');
