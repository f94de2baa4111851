/**
 * Message contracts between the services: one zod schema and its inferred
 * type per message, used by the producer and by the consumers to check it at
 * the edge. Every body is JSON.
 */
export { attemptsExhaustedReason, FINAL_STATES, isFinal, REQUEST_TYPES, STATES } from './request-types';
export type { RequestState, RequestType } from './request-types';
export * from './request-params';
export * from './build-request';
export * from './state-messages';
export * from './state-events';
export { describeIssues, outgoingMessage, parseMessage } from './validate';
