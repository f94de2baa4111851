/*
 * What services import. Nothing here loads the SDK: importing it costs
 * nothing when tracing is off, and every helper is a no-op then.
 */
export { shutdownTracing, flushTracing, isTracingStarted } from './lifecycle';
export {
  traced,
  traceMethods,
  withSpan,
  currentTraceId,
  currentTraceHeaders,
  type TracedOptions,
  type TraceMethodsOptions,
} from './traced';
