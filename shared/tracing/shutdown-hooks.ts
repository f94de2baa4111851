import { flushTracing, shutdownTracing } from './lifecycle';

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;
let installed = false;

/**
 * Flush spans when the process is asked to stop, without taking over the
 * service's own shutdown:
 * - if the program has its own handler for the signal, it owns the shutdown
 *   (and calls `shutdownTracing()` last); we only start a flush so queued
 *   spans are safe even if it exits abruptly;
 * - if it has none, Node would have terminated it: we shut tracing down and
 *   re-raise the signal, so the exit status is still "killed by SIGTERM";
 * - on `beforeExit` (the event loop ran dry) we shut tracing down.
 */
export function installShutdownHooks(): void {
  if (installed) return;
  installed = true;
  for (const signal of SIGNALS) {
    const onSignal = (): void => {
      if (process.listenerCount(signal) > 1) {
        void flushTracing();
        return;
      }
      process.removeListener(signal, onSignal);
      void shutdownTracing().finally(() => process.kill(process.pid, signal));
    };
    process.on(signal, onSignal);
  }
  process.once('beforeExit', () => {
    void shutdownTracing();
  });
}
