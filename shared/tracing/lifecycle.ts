/**
 * The running tracing pipeline, if any. Kept on `globalThis` under a
 * registered symbol so that the preload and the service code share it even
 * when they load this module through different paths (dist vs. sources).
 * This module must stay free of SDK imports: services import it whether or
 * not tracing is on.
 */
export interface TracingHandle {
  /** Export what is queued; with the collector down, it lands in the disk buffer. */
  forceFlush(): Promise<void>;
  /** Flush and stop; afterwards no span is recorded. */
  shutdown(): Promise<void>;
}

interface TracingState {
  handle?: TracingHandle;
  shutdown?: Promise<void>;
}

const KEY = Symbol.for('iib.tracing.state');

function state(): TracingState {
  const holder = globalThis as unknown as Record<symbol, TracingState | undefined>;
  return (holder[KEY] ??= {});
}

export function setTracingHandle(handle: TracingHandle): void {
  const s = state();
  s.handle = handle;
  s.shutdown = undefined;
}

export function isTracingStarted(): boolean {
  return state().handle !== undefined;
}

/**
 * Flush spans and stop tracing. Services call it last in their shutdown
 * (after closing their broker links, whose spans it then exports). Safe to
 * call when tracing is off, and more than once: every call awaits the same
 * shutdown. Never rejects: a failing exporter must not fail a shutdown.
 */
export function shutdownTracing(): Promise<void> {
  const s = state();
  if (!s.handle) return Promise.resolve();
  s.shutdown ??= s.handle.shutdown().catch(() => undefined);
  return s.shutdown;
}

/** Export queued spans without stopping; a no-op when tracing is off or already shut down. */
export function flushTracing(): Promise<void> {
  const s = state();
  if (!s.handle || s.shutdown) return s.shutdown ?? Promise.resolve();
  return s.handle.forceFlush().catch(() => undefined);
}
