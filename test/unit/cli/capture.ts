import type { CliIo, CliOutput } from '../../../services/cli/io';

export interface Captured {
  io: CliIo;
  out: () => string;
  err: () => string;
}

/** An io whose outputs are strings, for running the CLI in-process. */
export function captureIo(env: Record<string, string | undefined> = {}, tty = false): Captured {
  let out = '';
  let err = '';
  const stdout: CliOutput = { write: (s: string) => (out += s), isTTY: tty, columns: 100 };
  const stderr: CliOutput = { write: (s: string) => (err += s), isTTY: tty, columns: 100 };
  return { io: { env, stdout, stderr }, out: () => out, err: () => err };
}
