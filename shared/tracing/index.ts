/*
 * What services and shared modules import. Nothing here loads the SDK:
 * importing it costs nothing when tracing is off, and every helper is a
 * no-op then.
 */
export { shutdownTracing, flushTracing, isTracingStarted } from './lifecycle';
export { currentTraceId } from './trace-context';
