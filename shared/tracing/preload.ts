/**
 * Preload: `node --require ./dist/shared/tracing/preload.js app.js`.
 * Starts tracing before the application loads anything, so the require hooks
 * of the instrumentations see http, express, pg, pino and rhea load. With
 * `IIB_OTEL_TRACING` not `true` it reads the environment and returns: the
 * SDK is not even loaded.
 */
import { loadOrExit } from '../config/env';
import { loadTracingConfig } from '../config/tracing-config';

// A bad tracing key stops the service like any other bad key: named, no stack trace.
const config = loadOrExit(() => loadTracingConfig());
if (config.enabled) {
  /* eslint-disable @typescript-eslint/no-require-imports -- loaded only when tracing is on, so "off" costs nothing */
  const { startTracing } = require('./sdk') as typeof import('./sdk');
  const { installShutdownHooks } = require('./shutdown-hooks') as typeof import('./shutdown-hooks');
  /* eslint-enable @typescript-eslint/no-require-imports */
  startTracing(config);
  installShutdownHooks();
}
