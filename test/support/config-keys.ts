import {
  Env,
  loadBuilderConfig,
  loadGatewayConfig,
  loadNotifierConfig,
  loadSchedulerConfig,
} from '../../shared/config';
import { loadTracingConfig } from '../../shared/config/tracing-config';
import { parseUserToQueue } from '../../services/scheduler/lane-router';

export type ServiceLoader = { base: Record<string, string>; load: (env: Env) => unknown };

/** Each service runs the tracing preload's loader, then its own, as the process does. */
export const SERVICE_LOADERS: Record<'gateway' | 'scheduler' | 'builder' | 'notifier', ServiceLoader> = {
  gateway: { base: {}, load: (env) => [loadTracingConfig(env, ''), loadGatewayConfig(env)] },
  scheduler: {
    base: {},
    load: (env) => [loadTracingConfig(env, ''), parseUserToQueue(loadSchedulerConfig(env).userToQueue)],
  },
  builder: {
    base: { IIB_REGISTRY: 'localhost:5000' },
    load: (env) => [loadTracingConfig(env, ''), loadBuilderConfig(env)],
  },
  notifier: { base: {}, load: (env) => [loadTracingConfig(env, ''), loadNotifierConfig(env)] },
};

/** The keys a loader reads, recorded through a proxy over an otherwise valid environment. */
export function keysRead(base: Record<string, string>, load: (env: Env) => unknown): string[] {
  const seen = new Set<string>();
  const env = new Proxy(base, {
    get(target, prop) {
      if (typeof prop === 'string') seen.add(prop);
      return Reflect.get(target, prop) as unknown;
    },
  });
  load(env);
  return [...seen];
}

/** Every configuration key any service reads. */
export function allConfigKeys(): Set<string> {
  return new Set(Object.values(SERVICE_LOADERS).flatMap((s) => keysRead(s.base, s.load)));
}
