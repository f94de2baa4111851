/** The request types and states every message names. */

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

/** The reason of a request failed because its lane message was delivered too often. */
export function attemptsExhaustedReason(attempts: number): string {
  return `The request failed after ${attempts} attempts: its builder stopped or crashed each time`;
}
