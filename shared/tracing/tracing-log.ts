/**
 * Warnings from the tracing machinery itself. They go to stderr as
 * pino-shaped JSON lines: tracing starts before the service has a logger,
 * must not depend on it, and must never write to the service's stdout stream.
 */
export type TracingWarn = (msg: string, fields?: Record<string, unknown>) => void;

export const warnTracing: TracingWarn = (msg, fields = {}) => {
  const line = JSON.stringify({
    level: 40,
    time: Date.now(),
    name: 'iib-tracing',
    pid: process.pid,
    ...fields,
    msg,
  });
  process.stderr.write(`${line}\n`);
};
