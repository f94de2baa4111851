import { z } from 'zod/v4';
import { REQUEST_TYPES, STATES } from './request-types';
import { parseMessage } from './validate';

/**
 * The state events the gateway's outbox publishes for the notifier, which
 * republishes them in IIB's format: build state on `iib.events.build-state`,
 * batch state on `iib.events.batch-state`.
 */

/**
 * Build state: the request's JSON as the API answers it (many keys, kept as
 * they are); these are the ones the notifier reads.
 */
export const BuildStateEvent = z.looseObject({
  id: z.number().int(),
  batch: z.number().int(),
  state: z.string(),
  user: z.string().nullable().optional(),
});
export type BuildStateEvent = z.infer<typeof BuildStateEvent>;

/** Application properties of a build-state message, as IIB sends them. */
export interface BuildStateProperties {
  batch: number;
  id: number;
  state: (typeof STATES)[number];
  user: string | null;
  [key: string]: string | number | boolean | null;
}

/** Batch state: IIB's keys (the notifier writes exactly these, in IIB's order). */
export const BatchStateBody = z.looseObject({
  batch: z.number().int(),
  annotations: z.record(z.string(), z.unknown()).nullable(),
  requests: z.array(
    z.looseObject({
      id: z.number().int(),
      organization: z.string().nullable(),
      request_type: z.enum(REQUEST_TYPES),
    }),
  ),
  state: z.enum(STATES),
  user: z.string().nullable(),
});
export type BatchStateBody = z.infer<typeof BatchStateBody>;

export const parseBuildStateEvent = (body: unknown): BuildStateEvent =>
  parseMessage(BuildStateEvent, body, 'build-state event');
export const parseBatchStateEvent = (body: unknown): BatchStateBody =>
  parseMessage(BatchStateBody, body, 'batch-state event');
