import { ConfigError } from '../../../shared/config';
import type { BuildRequestEvent, RequestType } from '../../../shared/contracts';
import {
  allLanes,
  parseUserToQueue,
  routeRequest,
  serialityOf,
  userQueue,
} from '../../../services/scheduler/lane-router';

type Event = Pick<BuildRequestEvent, 'request_type' | 'params' | 'user'>;

const ev = (
  request_type: RequestType,
  params: Record<string, unknown> = {},
  user: string | null = 'alice',
): Event => ({
  request_type,
  params,
  user,
});

describe("the lane router (IIB's _get_user_queue)", () => {
  const map = parseUserToQueue({
    alice: 'alice-lane',
    'SERIAL:bob': 'bob-serial',
    'PARALLEL:bob': 'bob-parallel',
    'SERIAL:carol': 'carol-serial',
    carol: 'carol-any',
    dave: { 'quay.io/ns/index:v4.12': 'dave-412', all: 'dave-all' },
    'SERIAL:erin': { 'quay.io/ns/index:v4.13': 'erin-413', all: 'erin-all' },
  });

  describe('seriality', () => {
    it.each(['add', 'rm', 'fbc-operations', 'add-deprecations'] as const)(
      'when a %s request sets overwrite_from_index, then it is serial with its from_index as pull spec',
      (type) => {
        expect(serialityOf(ev(type, { overwrite_from_index: true, from_index: 'quay.io/x:1' }))).toEqual({
          serial: true,
          fromIndex: 'quay.io/x:1',
        });
        expect(serialityOf(ev(type, { from_index: 'quay.io/x:1' })).serial).toBe(false);
      },
    );

    it('when a merge-index-image request sets overwrite_target_index, then it is serial without a pull spec', () => {
      expect(
        serialityOf(ev('merge-index-image', { overwrite_target_index: true, target_index: 't' })),
      ).toEqual({
        serial: true,
        fromIndex: undefined,
      });
      expect(serialityOf(ev('merge-index-image', { overwrite_from_index: true })).serial).toBe(false);
    });

    it.each(['regenerate-bundle', 'create-empty-index', 'recursive-related-bundles'] as const)(
      'when a %s request is routed, then it is always parallel and has no pull spec',
      (type) => {
        expect(serialityOf(ev(type, { overwrite_from_index: true, from_index: 'quay.io/x:1' }))).toEqual({
          serial: false,
          fromIndex: undefined,
        });
      },
    );
  });

  describe('queue lookup', () => {
    it('when the user is not authenticated, then the default queue is used', () => {
      expect(userQueue(map, null, false, undefined)).toBeUndefined();
      expect(routeRequest(map, 'iib', ev('add', {}, null))).toEqual({ serial: false, lane: 'iib' });
      expect(routeRequest(map, 'iib', ev('add', { overwrite_from_index: true }, null))).toEqual({
        serial: true,
        lane: 'iib',
      });
    });

    it('when the user is not in the map, then the default lane is used', () => {
      expect(routeRequest(map, 'iib', ev('add', {}, 'zed'))).toEqual({ serial: false, lane: 'iib' });
    });

    it('when the user has a plain entry, then it serves both serial and parallel requests', () => {
      expect(routeRequest(map, 'iib', ev('add', { overwrite_from_index: true }))).toEqual({
        serial: true,
        lane: 'alice-lane',
      });
      expect(routeRequest(map, 'iib', ev('create-empty-index'))).toEqual({
        serial: false,
        lane: 'alice-lane',
      });
    });

    it('when the user has SERIAL: and PARALLEL: entries, then the prefix matching the seriality wins', () => {
      expect(routeRequest(map, 'iib', ev('rm', { overwrite_from_index: true }, 'bob')).lane).toBe(
        'bob-serial',
      );
      expect(routeRequest(map, 'iib', ev('rm', {}, 'bob')).lane).toBe('bob-parallel');
    });

    it('when only a SERIAL: entry matches, then parallel requests fall back to the plain entry', () => {
      expect(routeRequest(map, 'iib', ev('add', { overwrite_from_index: true }, 'carol')).lane).toBe(
        'carol-serial',
      );
      expect(routeRequest(map, 'iib', ev('add', {}, 'carol')).lane).toBe('carol-any');
    });

    it('when only a SERIAL: entry exists and the request is parallel, then the default lane is used', () => {
      expect(routeRequest(map, 'iib', ev('add', {}, 'erin'))).toEqual({ serial: false, lane: 'iib' });
    });

    it('when the entry is a per-index map, then the exact from_index wins and other indexes use "all"', () => {
      expect(routeRequest(map, 'iib', ev('add', { from_index: 'quay.io/ns/index:v4.12' }, 'dave')).lane).toBe(
        'dave-412',
      );
      expect(routeRequest(map, 'iib', ev('add', { from_index: 'quay.io/ns/index:v4.11' }, 'dave')).lane).toBe(
        'dave-all',
      );
      expect(
        routeRequest(
          map,
          'iib',
          ev('add', { from_index: 'quay.io/ns/index:v4.13', overwrite_from_index: true }, 'erin'),
        ),
      ).toEqual({ serial: true, lane: 'erin-413' });
    });

    it('when a per-index map meets a request without a pull spec, then "all" is used', () => {
      expect(
        routeRequest(map, 'iib', ev('create-empty-index', { from_index: 'quay.io/ns/index:v4.12' }, 'dave'))
          .lane,
      ).toBe('dave-all');
      expect(
        routeRequest(map, 'iib', ev('merge-index-image', { overwrite_target_index: true }, 'erin')),
      ).toEqual({ serial: true, lane: 'erin-all' });
    });

    it('when the map is listed, then every lane it names and the default lane are declared', () => {
      expect(allLanes(map, 'iib').sort()).toEqual(
        [
          'iib',
          'alice-lane',
          'bob-serial',
          'bob-parallel',
          'carol-serial',
          'carol-any',
          'dave-412',
          'dave-all',
          'erin-413',
          'erin-all',
        ].sort(),
      );
    });
  });

  describe('config validation', () => {
    it.each([
      [[], /must be a JSON object/],
      ['lane', /must be a JSON object/],
      [{ 'SERIAL:': 'q' }, /"SERIAL:" names no user/],
      [{ alice: '' }, /IIB_USER_TO_QUEUE\["alice"\] must not be empty/],
      [{ alice: 3 }, /IIB_USER_TO_QUEUE\["alice"\] must be a queue name or an object/],
      [
        { 'PARALLEL:bob': { 'quay.io/x:1': 'q' } },
        /IIB_USER_TO_QUEUE\["PARALLEL:bob"\] must have an "all" key/,
      ],
      [
        { dave: { all: 'q', 'quay.io/x:1': 7 } },
        /IIB_USER_TO_QUEUE\["dave"\]\["quay.io\/x:1"\] must be a queue name/,
      ],
    ])('when the config is %j, then it is refused naming the bad key', (value, message) => {
      expect(() => parseUserToQueue(value)).toThrow(ConfigError);
      expect(() => parseUserToQueue(value)).toThrow(message);
    });
  });
});
