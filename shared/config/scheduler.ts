import { COMMON_SETTINGS, HEALTH_SETTINGS, NAME, NAME_WHAT } from './common';
import { Env, readSettings, setting, ValuesOf } from './env';
import { json, matching, shapes } from './schemas';

export const SCHEDULER_SETTINGS = {
  /** Read as IIB_USER_TO_QUEUE is; services/scheduler/lane-router.ts checks its entries. */
  userToQueue: setting({
    key: 'IIB_USER_TO_QUEUE',
    doc: 'JSON map of users to lanes, as IIB_USER_TO_QUEUE',
    schema: json<unknown>(shapes.object()),
    default: '{}',
  }),
  defaultLane: setting({
    key: 'IIB_DEFAULT_LANE',
    doc: 'Lane of users not in the map (Celery default)',
    schema: matching(NAME, NAME_WHAT),
    default: 'iib',
  }),
  health: HEALTH_SETTINGS,
};

export type SchedulerConfig = ValuesOf<typeof COMMON_SETTINGS> & ValuesOf<typeof SCHEDULER_SETTINGS>;

export function loadSchedulerConfig(env: Env = process.env): SchedulerConfig {
  return { ...readSettings(env, COMMON_SETTINGS), ...readSettings(env, SCHEDULER_SETTINGS) };
}
