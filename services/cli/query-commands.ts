import { Command, InvalidArgumentError, Option } from 'commander';
import {
  addConnectionOptions,
  clientFor,
  CommandContext,
  positiveInteger,
  positiveNumber,
  writeJson,
} from './context';
import { createProgress } from './progress';
import { CliError, EXIT } from './io';
import { ListMeta, requestSummary, requestTable } from './render';
import { RequestJson, waitForRequests } from './wait';

function requestId(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1)
    throw new InvalidArgumentError('a request id is a positive integer');
  return Number(value);
}

function getCommand(ctx: CommandContext): Command {
  const cmd = new Command('get')
    .description('Show one request (GET /api/v1/builds/<id>)')
    .argument('<id>', 'request id', requestId)
    .option('--json', "IIB's verbose JSON instead of a summary");
  addConnectionOptions(cmd, { userFlag: true });
  return cmd.action(async (id: number, opts: Record<string, unknown>) => {
    const r = await clientFor(ctx, opts).json<RequestJson>('GET', `/builds/${id}`);
    if (opts.json) writeJson(ctx, r);
    else ctx.io.stdout.write(requestSummary(r));
  });
}

/** The list filters, named after the API's query parameters. */
const FILTERS: [flag: string, key: string, description: string][] = [
  ['--state <state>', 'state', 'in_progress, complete or failed'],
  ['--request-type <type>', 'request_type', 'e.g. add, rm, create-empty-index'],
  ['--user <name>', 'user', 'requests of this user (on list, --user filters; Basic auth takes IIB_USER)'],
  ['--batch <id>', 'batch', 'requests of this batch'],
  ['--from-index <pullspec>', 'from_index', 'exact from_index'],
  ['--from-index-startswith <prefix>', 'from_index_startswith', 'from_index prefix'],
  ['--index-image <pullspec>', 'index_image', 'exact index_image'],
];

function listCommand(ctx: CommandContext): Command {
  const cmd = new Command('list').description('List requests, newest first (GET /api/v1/builds)');
  for (const [flag, , description] of FILTERS) cmd.option(flag, description);
  cmd
    .option('--page <n>', 'page number', positiveInteger)
    .option('--per-page <n>', 'requests per page (the server caps it, default 20)', positiveInteger)
    .option('--verbose', 'ask for the verbose JSON (with --json)')
    .option('--json', 'print the API answer ({"items": [...], "meta": {...}}) instead of a table');
  addConnectionOptions(cmd, { userFlag: false });
  return cmd.action(async (opts: Record<string, unknown>) => {
    const query: Record<string, string | number | boolean | undefined> = {
      page: opts.page as number | undefined,
      per_page: opts.perPage as number | undefined,
      verbose: opts.verbose ? true : undefined,
    };
    for (const [flag, key] of FILTERS) {
      const attr = flag
        .slice(2)
        .split(' ')[0]!
        .replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
      query[key] = opts[attr] as string | undefined;
    }
    const answer = await clientFor(ctx, opts, false).json<{ items: RequestJson[]; meta?: ListMeta }>(
      'GET',
      '/builds',
      { query },
    );
    if (opts.json) writeJson(ctx, answer);
    else ctx.io.stdout.write(requestTable(answer.items, answer.meta, ctx.io.stdout.columns ?? 120));
  });
}

function logsCommand(ctx: CommandContext): Command {
  const cmd = new Command('logs')
    .description('Print the log of a request; --follow streams it while the request runs')
    .argument('<id>', 'request id', requestId)
    .option('-F, --follow', 'stream the log until the request is final; exit 1 if it failed');
  addConnectionOptions(cmd, { userFlag: true });
  return cmd.action(async (id: number, opts: Record<string, unknown>) => {
    const client = clientFor(ctx, opts);
    if (!opts.follow) {
      const res = await client.call('GET', `/builds/${id}/logs`, { stream: true });
      ctx.io.stdout.write(await res.text());
      return;
    }
    // The gateway writes the log as plain text, line by line, and ends the
    // response once the request is final and every line was sent.
    const res = await client.call('GET', `/builds/${id}/logs`, { query: { follow: 'true' }, stream: true });
    if (res.body) {
      const decoder = new TextDecoder();
      try {
        for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
          ctx.io.stdout.write(decoder.decode(chunk, { stream: true }));
        }
      } catch (err) {
        throw new CliError(
          `the log stream of request ${id} broke off: ${(err as Error).message}`,
          EXIT.unreachable,
        );
      }
      const rest = decoder.decode();
      if (rest) ctx.io.stdout.write(rest);
    }
    const r = await client.json<RequestJson>('GET', `/builds/${id}`);
    if (r.state === 'failed') {
      ctx.io.stderr.write(`request ${id} failed: ${r.state_reason}\n`);
      ctx.exit(EXIT.failed);
    } else {
      ctx.io.stderr.write(`request ${id} ${r.state}: ${r.state_reason}\n`);
    }
  });
}

/** `--wait` for requests submitted earlier (a pipeline that submits in one step and waits in another). */
function waitCommand(ctx: CommandContext): Command {
  const cmd = new Command('wait')
    .description('Wait until requests are final, showing their progress; exit 1 if one failed')
    .argument('<id...>', 'request ids', (v: string, prev: number[] = []) => [...prev, requestId(v)])
    .addOption(
      new Option('--poll-interval <seconds>', 'how often to ask').default(2).argParser(positiveNumber),
    )
    .addOption(
      new Option('--timeout <seconds>', 'give up after this long (exit 4)').argParser(positiveNumber),
    )
    .option('--json', "print IIB's JSON of the request(s) instead of a summary");
  addConnectionOptions(cmd, { userFlag: true });
  return cmd.action(async (ids: number[], opts: Record<string, unknown>) => {
    const client = clientFor(ctx, opts);
    const current: RequestJson[] = [];
    for (const id of ids) current.push(await client.json<RequestJson>('GET', `/builds/${id}`));
    const done = await waitForRequests(client, current, {
      progress: createProgress(ctx.io.stderr, { onInterrupt: ctx.io.onInterrupt }),
      pollMs: Number(opts.pollInterval) * 1000,
      timeoutMs: opts.timeout === undefined ? 0 : Number(opts.timeout) * 1000,
    });
    if (opts.json) writeJson(ctx, done.length === 1 ? done[0] : done);
    else for (const r of done) ctx.io.stdout.write(requestSummary(r));
    ctx.exit(done.some((r) => r.state !== 'complete') ? EXIT.failed : EXIT.ok);
  });
}

export function queryCommands(ctx: CommandContext): Command[] {
  return [getCommand(ctx), listCommand(ctx), logsCommand(ctx), waitCommand(ctx)];
}
