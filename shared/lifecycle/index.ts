import type { Logger } from 'pino';

type Stopper = () => Promise<void> | void;

/**
 * Runs a service: start() returns the stoppers in start order; a signal stops
 * them in reverse order. A second signal, or a stop that takes longer than
 * the grace period, exits non-zero.
 */
export async function runService(
  log: Logger,
  start: () => Promise<Stopper[]>,
  options: { graceMs?: number } = {},
): Promise<void> {
  const graceMs = options.graceMs ?? 30_000;
  let stoppers: Stopper[] = [];
  let stopping = false;

  const stop = async (signal: string): Promise<void> => {
    if (stopping) {
      log.error({ signal }, 'second signal, exiting now');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, 'stopping');
    const timer = setTimeout(() => {
      log.error({ graceMs }, 'shutdown took too long, exiting');
      process.exit(1);
    }, graceMs);
    timer.unref();
    let failed = false;
    for (const s of [...stoppers].reverse()) {
      try {
        await s();
      } catch (err) {
        failed = true;
        log.error({ err }, 'stop step failed');
      }
    }
    clearTimeout(timer);
    log.info('stopped');
    process.exit(failed ? 1 : 0);
  };

  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  try {
    stoppers = await start();
    log.info('started');
  } catch (err) {
    log.fatal({ err }, 'start failed');
    for (const s of [...stoppers].reverse()) await Promise.resolve(s()).catch(() => undefined);
    process.exit(1);
  }
}
