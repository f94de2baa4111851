export { RheaInstrumentation } from './instrumentation';
export type { RheaHookInfo, RheaInstrumentationConfig, RheaSpanHook } from './types';
export { connectionAttributes, type RheaConnection, type RheaMessage } from './model';
export { PACKAGE_NAME, PACKAGE_VERSION } from './version';
