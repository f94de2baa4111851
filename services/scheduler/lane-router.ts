import type { RequestType } from '../../shared/contracts';

/** What routing reads of a request's message (any BuildRequestEvent is one). */
export interface RoutedRequest {
  request_type: RequestType;
  params: Record<string, unknown>;
  user: string | null;
}
import { ConfigError } from '../../shared/config';

export type UserToQueue = Record<string, string | Record<string, string>>;

export interface Route {
  serial: boolean;
  lane: string;
}

/**
 * Checks an IIB_USER_TO_QUEUE value as IIB's validate_api_config does: keys
 * are user names, optionally prefixed SERIAL: or PARALLEL:; a value is a
 * queue name or a map of from_index pull specs to queue names with an `all` key.
 */
export function parseUserToQueue(value: unknown): UserToQueue {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError('IIB_USER_TO_QUEUE must be a JSON object of user names to queues');
  }
  for (const [key, queue] of Object.entries(value as Record<string, unknown>)) {
    const user = key.replace(/^(SERIAL|PARALLEL):/, '');
    if (user === '') throw new ConfigError(`IIB_USER_TO_QUEUE key "${key}" names no user`);
    if (typeof queue === 'string') {
      if (queue === '') throw new ConfigError(`IIB_USER_TO_QUEUE["${key}"] must not be empty`);
      continue;
    }
    if (typeof queue !== 'object' || queue === null || Array.isArray(queue)) {
      throw new ConfigError(`IIB_USER_TO_QUEUE["${key}"] must be a queue name or an object of queues`);
    }
    const map = queue as Record<string, unknown>;
    if (!('all' in map)) throw new ConfigError(`IIB_USER_TO_QUEUE["${key}"] must have an "all" key`);
    for (const [spec, q] of Object.entries(map)) {
      if (typeof q !== 'string' || q === '') {
        throw new ConfigError(`IIB_USER_TO_QUEUE["${key}"]["${spec}"] must be a queue name`);
      }
    }
  }
  return value as UserToQueue;
}

const OVERWRITE_FROM_INDEX_TYPES: readonly RequestType[] = [
  'add',
  'rm',
  'fbc-operations',
  'add-deprecations',
];

/** Whether IIB routes the request as serial, and the pull spec it uses for per-index maps. */
export function serialityOf(event: Pick<RoutedRequest, 'request_type' | 'params'>): {
  serial: boolean;
  fromIndex: string | undefined;
} {
  const p = event.params;
  if (OVERWRITE_FROM_INDEX_TYPES.includes(event.request_type)) {
    return {
      serial: p.overwrite_from_index === true,
      fromIndex: typeof p.from_index === 'string' ? p.from_index : undefined,
    };
  }
  if (event.request_type === 'merge-index-image') {
    return { serial: p.overwrite_target_index === true, fromIndex: undefined };
  }
  return { serial: false, fromIndex: undefined };
}

/** IIB's `_get_user_queue`, with the default lane in place of Celery's default queue. */
export function userQueue(
  map: UserToQueue,
  user: string | null,
  serial: boolean,
  fromIndex: string | undefined,
): string | undefined {
  if (!user) return undefined;
  const queue = map[`${serial ? 'SERIAL' : 'PARALLEL'}:${user}`] ?? map[user];
  if (typeof queue === 'string') return queue;
  if (queue && typeof queue === 'object') {
    return (fromIndex !== undefined ? queue[fromIndex] : undefined) ?? queue.all;
  }
  return undefined;
}

export function routeRequest(map: UserToQueue, defaultLane: string, event: RoutedRequest): Route {
  const { serial, fromIndex } = serialityOf(event);
  return { serial, lane: userQueue(map, event.user, serial, fromIndex) ?? defaultLane };
}

/** Every lane the map can route to, for declaring them up front. */
export function allLanes(map: UserToQueue, defaultLane: string): string[] {
  const lanes = new Set<string>([defaultLane]);
  for (const v of Object.values(map)) {
    if (typeof v === 'string') lanes.add(v);
    else Object.values(v).forEach((q) => lanes.add(q));
  }
  return [...lanes];
}
