/**
 * Every service's configuration: each key is declared once (name, doc, zod
 * schema, default) in the module of the service that reads it, and the
 * configuration types are inferred from those declarations. Tracing's keys
 * are in tracing-config.ts (the preload reads them before anything else).
 */
export { ConfigError, loadOrExit, readSettings, setting, Setting, settingsOf } from './env';
export type { Env, KeyDeclaration, Settings, ValuesOf } from './env';
export {
  AMQP_SETTINGS,
  COMMON_SETTINGS,
  DIALECTS,
  HEALTH_SETTINGS,
  loadAmqpConfig,
  loadCommonConfig,
  loadDatabaseUrl,
  loadHealthConfig,
  loadSecretsKey,
  LOG_LEVELS,
} from './common';
export type { AmqpConfig, CommonConfig, DialectName, HealthConfig, LogLevel } from './common';
export { AUTH_MODES, GATEWAY_SETTINGS, GRAPH_MODES, loadGatewayConfig } from './gateway';
export type { AuthMode, GatewayConfig } from './gateway';
export { SCHEDULER_SETTINGS, loadSchedulerConfig } from './scheduler';
export type { SchedulerConfig } from './scheduler';
export { BUILDER_SETTINGS, FAULT_POINTS, loadBuilderConfig } from './builder';
export type { BuilderConfig, FaultPoint, LaneRef } from './builder';
export { EXTERNAL_SETTINGS, loadNotifierConfig } from './notifier';
export type { NotifierConfig } from './notifier';
