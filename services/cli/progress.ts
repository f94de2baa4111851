import type { CliOutput } from './io';

/** The progress of a wait: one live line on a terminal, a plain line per change elsewhere (CI logs). */
export interface Progress {
  /** The current status, without the elapsed time (the progress adds it). */
  update(text: string): void;
  /** Ends the progress with a last, permanent line. */
  stop(finalLine: string): void;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** 75 -> "1:15", 3725 -> "1:02:05". */
export function formatElapsed(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const s = String(total % 60).padStart(2, '0');
  const m = Math.floor(total / 60) % 60;
  const h = Math.floor(total / 3600);
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/** Cuts a line to the terminal's width, so rewriting it in place never leaves wrapped rows behind. */
export function fitLine(text: string, columns: number | undefined): string {
  const width = Math.max(20, (columns ?? 80) - 1);
  const chars = [...text];
  return chars.length <= width ? text : `${chars.slice(0, width - 1).join('')}…`;
}

export function createProgress(
  out: CliOutput,
  options: {
    now?: () => number;
    onInterrupt?: (handler: () => void) => () => void;
    intervalMs?: number;
  } = {},
): Progress {
  const now = options.now ?? Date.now;
  const started = now();
  const elapsed = (): string => formatElapsed(now() - started);
  if (!out.isTTY) return plainProgress(out, elapsed);

  let text = '';
  let frame = 0;
  const render = (): void => {
    const line = fitLine(`${FRAMES[frame % FRAMES.length]} ${text} · ${elapsed()}`, out.columns);
    frame += 1;
    out.write(`\r\x1b[2K${line}`);
  };
  out.write('\x1b[?25l');
  const timer = setInterval(render, options.intervalMs ?? 100);
  timer.unref();
  // Ctrl-C mid-wait must not leave the terminal without a cursor.
  const removeInterrupt = options.onInterrupt?.(() => out.write('\r\x1b[2K\x1b[?25h'));
  return {
    update(next) {
      text = next;
      render();
    },
    stop(finalLine) {
      clearInterval(timer);
      removeInterrupt?.();
      out.write(`\r\x1b[2K${finalLine} · ${elapsed()}\n\x1b[?25h`);
    },
  };
}

function plainProgress(out: CliOutput, elapsed: () => string): Progress {
  let last: string | undefined;
  return {
    update(text) {
      if (text === last) return;
      last = text;
      out.write(`[${elapsed()}] ${text}\n`);
    },
    stop(finalLine) {
      out.write(`[${elapsed()}] ${finalLine}\n`);
    },
  };
}
