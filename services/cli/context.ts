import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { IibClient } from './http-client';
import { CliError, CliIo, EXIT } from './io';
import { apiBase, authOf, GlobalFlags, serverOf } from './settings';

/** What every command's action receives. */
export interface CommandContext {
  io: CliIo;
  readFile: (path: string) => string;
  /** Replaces the SPNEGO token maker (tests without a KDC). */
  negotiate?: (url: string) => Promise<string>;
  /** The exit code of the finished command. */
  exit(code: number): void;
}

export function defaultReadFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${path}: ${(err as Error).message}`, EXIT.usage);
  }
}

/**
 * The connection and authentication flags, added to every command (not to
 * the program) so that `iib list --user NAME` can be the API's own filter.
 */
export function addConnectionOptions(cmd: Command, options: { userFlag: boolean }): Command {
  cmd.option('--server <url>', `IIB server (env IIB_SERVER, default http://127.0.0.1:8080)`);
  if (options.userFlag) {
    cmd.option('--user <name>', 'HTTP Basic user (env IIB_USER); password from IIB_PASSWORD or asked');
  }
  cmd.option('--token <token>', 'Bearer token (env IIB_TOKEN, which keeps it out of `ps`)');
  cmd.option('--kerberos', 'authenticate with Kerberos (SPNEGO), from the ticket of `kinit`');
  cmd.addOption(
    new Option('--request-timeout <seconds>', 'time limit of one HTTP call')
      .default(60)
      .argParser(positiveNumber),
  );
  return cmd;
}

export function clientFor(ctx: CommandContext, opts: Record<string, unknown>, userFlag = true): IibClient {
  const flags: GlobalFlags = {
    server: opts.server as string | undefined,
    user: userFlag ? (opts.user as string | undefined) : undefined,
    token: opts.token as string | undefined,
    kerberos: opts.kerberos === true,
  };
  return new IibClient({
    base: apiBase(serverOf(flags, ctx.io.env)),
    auth: authOf(flags, ctx.io),
    timeoutMs: Number(opts.requestTimeout ?? 60) * 1000,
    negotiate: ctx.negotiate,
  });
}

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
}

export function positiveInteger(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1)
    throw new InvalidArgumentError('expected a positive integer');
  return Number(value);
}

export function writeJson(ctx: CommandContext, value: unknown): void {
  ctx.io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
