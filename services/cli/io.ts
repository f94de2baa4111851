/**
 * What the CLI touches outside itself, passed in (never read from globals)
 * so tests run it in-process with their own environment and captured output.
 */
export interface CliOutput {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface CliIo {
  env: Record<string, string | undefined>;
  stdout: CliOutput;
  stderr: CliOutput;
  /** Asks for a secret without echoing it; undefined when there is no terminal to ask on. */
  promptSecret?: (question: string) => Promise<string>;
  /** Registers a handler for Ctrl-C; returns its remover (the progress line restores the cursor). */
  onInterrupt?: (handler: () => void) => () => void;
}

/** Exit codes, documented in docs/cli.md. */
export const EXIT = {
  ok: 0,
  /** The request failed, or the API answered with an error. */
  failed: 1,
  /** Bad arguments. */
  usage: 2,
  /** The API could not be reached. */
  unreachable: 3,
  /** --timeout elapsed before the request was final. */
  timeout: 4,
} as const;

/** An error the CLI reports as one plain line, with its exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failed,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
