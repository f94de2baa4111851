import { Command, CommanderError } from 'commander';
import { CommandContext, defaultReadFile } from './context';
import { CliError, CliIo, EXIT } from './io';
import { queryCommands } from './query-commands';
import { submitCommands } from './submit-commands';
import { processIo } from './terminal';

export interface CliDeps {
  readFile?: (path: string) => string;
  negotiate?: (url: string) => Promise<string>;
}

const EPILOG = `
Environment: IIB_SERVER, IIB_USER, IIB_PASSWORD, IIB_TOKEN, IIB_OVERWRITE_TOKEN.
Exit codes: 0 done (with --wait: complete), 1 failed or API error, 2 bad arguments,
3 API unreachable, 4 --timeout reached. Documentation: docs/cli.md`;

export function buildProgram(ctx: CommandContext): Command {
  const program = new Command('iib')
    .description("Command line client of IIB's REST API: submit index image builds, follow them, read them")
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', EPILOG);
  for (const cmd of [...submitCommands(ctx), ...queryCommands(ctx)]) program.addCommand(cmd);
  // Every command writes through io and throws instead of exiting, so tests run it in-process.
  const configure = (cmd: Command): void => {
    cmd.exitOverride().configureOutput({
      writeOut: (s) => ctx.io.stdout.write(s),
      writeErr: (s) => ctx.io.stderr.write(s),
      getOutHelpWidth: () => ctx.io.stdout.columns ?? 100,
      getErrHelpWidth: () => ctx.io.stderr.columns ?? 100,
    });
    cmd.commands.forEach(configure);
  };
  configure(program);
  return program;
}

/** Runs one command line; resolves with the exit code (never exits the process itself). */
export async function runCli(argv: string[], io: CliIo, deps: CliDeps = {}): Promise<number> {
  let code: number = EXIT.ok;
  const ctx: CommandContext = {
    io,
    readFile: deps.readFile ?? defaultReadFile,
    negotiate: deps.negotiate,
    exit: (c) => {
      code = c;
    },
  };
  const program = buildProgram(ctx);
  try {
    if (argv.length === 0) {
      program.outputHelp();
      return EXIT.usage;
    }
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are "errors" that exit 0; commander has already printed the message.
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (err instanceof CliError) {
      io.stderr.write(`iib: ${err.message}\n`);
      return err.exitCode;
    }
    io.stderr.write(`iib: ${(err as Error)?.stack ?? String(err)}\n`);
    return EXIT.failed;
  }
}

/** The bin's entry point. */
export function main(argv: string[]): Promise<number> {
  return runCli(argv, processIo());
}
