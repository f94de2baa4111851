/**
 * Logical destination names. Services speak these; a dialect maps them to
 * the addresses of one broker.
 */
export const Names = {
  requests: 'iib.requests',
  stateUpdates: 'iib.state-updates',
  buildStateEvents: 'iib.events.build-state',
  batchStateEvents: 'iib.events.batch-state',
  deadLetter: 'iib.dead-letter',
  /** Topic: request ids that reached a final state, so builders skip redelivered ones. */
  finalStates: 'iib.events.final-state',
} as const;

/** IIB's Celery default queue: the lane of users not in IIB_USER_TO_QUEUE. */
export const DEFAULT_LANE = 'iib';

export function laneQueue(serial: boolean, lane: string): string {
  return `iib.build.${serial ? 'serial' : 'parallel'}.${lane}`;
}

export function isSerialLaneQueue(name: string): boolean {
  return name.startsWith('iib.build.serial.');
}
