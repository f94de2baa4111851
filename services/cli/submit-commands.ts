import { Command, Option } from 'commander';
import type { EndpointSchema } from '../gateway/requests/validation/schemas';
import { SINGLE_ENDPOINTS } from '../gateway/requests/validation/schemas';
import {
  buildBody,
  CliField,
  cliFields,
  collectList,
  collectPair,
  isListType,
  parseBodyFile,
  redact,
  TOKEN_ENV,
} from './body';
import { addConnectionOptions, clientFor, CommandContext, positiveNumber, writeJson } from './context';
import { EXIT } from './io';
import { createProgress } from './progress';
import { requestSummary } from './render';
import { RequestJson, waitForRequests } from './wait';

const VALUE_NAMES: Record<string, string> = {
  pullspec: 'pullspec',
  string: 'value',
  'string[]': 'list',
  'pullspec[]': 'pullspecs',
  registryAuths: 'json|@file',
  jsonString: 'json|@file',
  object: 'json|@file',
};

function describe(field: CliField, extra = ''): string {
  return `${field.description}${field.required ? ' (required)' : ''}${extra}`;
}

/** The flags of one API key. */
function addField(cmd: Command, field: CliField): void {
  const valueName = VALUE_NAMES[field.type] ?? 'value';
  if (field.type === 'boolean') {
    cmd.option(`--${field.flag}`, describe(field));
    cmd.option(`--no-${field.flag}`, `send "${field.key}": false`);
  } else if (isListType(field.type)) {
    // One accumulator for --bundles and --bundle, so mixed flags keep the order they were typed in.
    const acc: string[] = [];
    const parse = (value: string): string[] => {
      acc.push(...collectList(value, []));
      return acc;
    };
    cmd.option(`--${field.flag} <${valueName}>`, describe(field, ', comma-separated, repeatable'), parse);
    if (field.singular) {
      const one = field.type === 'pullspec[]' ? 'pullspec' : 'value';
      cmd.option(`--${field.singular} <${one}>`, `one of --${field.flag}, repeatable`, parse);
    }
  } else if (field.type === 'stringMap') {
    const acc: Record<string, string> = {};
    const parse = (value: string): Record<string, string> => Object.assign(acc, collectPair(value, {}));
    cmd.option(`--${field.flag} <key=value>`, describe(field, ', repeatable'), parse);
    if (field.singular) cmd.option(`--${field.singular} <key=value>`, `one of --${field.flag}`, parse);
  } else if (field.secret && field.key.endsWith('_token')) {
    cmd.option(`--${field.flag} <token>`, describe(field, ` (env ${TOKEN_ENV}; never printed)`));
  } else {
    cmd.option(`--${field.flag} <${valueName}>`, describe(field));
  }
}

function addSubmitOptions(cmd: Command, fileRequired = false): void {
  if (fileRequired) {
    cmd.requiredOption(
      '-f, --from-file <path>',
      'JSON body: {"build_requests": [...], "annotations": {...}}',
    );
  } else {
    cmd.option('-f, --from-file <path>', 'JSON body to start from; flags replace its keys');
  }
  cmd
    .option('-w, --wait', 'wait until the request is final, showing its progress; exit 1 if it failed')
    .addOption(
      new Option('--poll-interval <seconds>', 'how often --wait asks').default(2).argParser(positiveNumber),
    )
    .addOption(
      new Option('--timeout <seconds>', '--wait gives up after this long (exit 4)').argParser(positiveNumber),
    )
    .option('--json', "print IIB's JSON of the request(s) instead of a summary")
    .option('--dry-run', 'print the body that would be sent (secrets hidden) and send nothing');
}

/** Submits a body, then prints the new request(s) or waits for them. */
async function submit(
  ctx: CommandContext,
  path: string,
  body: Record<string, unknown>,
  opts: Record<string, unknown>,
): Promise<void> {
  if (opts.dryRun) {
    ctx.io.stdout.write(`POST ${path}\n`);
    writeJson(ctx, redact(body));
    return;
  }
  const client = clientFor(ctx, opts);
  const answer = await client.json<RequestJson | RequestJson[]>('POST', path, { body });
  // The batch endpoints answer an array; every other one a single request.
  const created = Array.isArray(answer) ? answer : [answer];
  for (const r of created) {
    ctx.io.stderr.write(`submitted request ${r.id} (${r.request_type}, batch ${r.batch ?? '-'})\n`);
  }
  if (!opts.wait) {
    if (opts.json) writeJson(ctx, answer);
    else for (const r of created) ctx.io.stdout.write(`${r.id}\n`);
    return;
  }
  const progress = createProgress(ctx.io.stderr, { onInterrupt: ctx.io.onInterrupt });
  const done = await waitForRequests(client, created, {
    progress,
    pollMs: Number(opts.pollInterval) * 1000,
    timeoutMs: opts.timeout === undefined ? 0 : Number(opts.timeout) * 1000,
  });
  if (opts.json) writeJson(ctx, Array.isArray(answer) ? done : done[0]);
  else for (const r of done) ctx.io.stdout.write(requestSummary(r));
  ctx.exit(done.some((r) => r.state !== 'complete') ? EXIT.failed : EXIT.ok);
}

/** Help examples of the commands people run most. */
const EXAMPLES: Record<string, string> = {
  add: `
Examples:
  iib add --from-index reg/index:v4.18 --binary-image reg/opm:v1 --bundle reg/op-bundle:v1.2 --wait
  IIB_OVERWRITE_TOKEN=robot:token iib add --from-index reg/index:v4.18 --bundles a:1,b:2 --overwrite-from-index
  iib add --from-file add.json --build-tag latest --wait --json > result.json`,
  rm: `
Examples:
  iib rm --from-index reg/index:v4.18 --operators op-a,op-b --wait`,
  'create-empty-index': `
Examples:
  iib create-empty-index --from-index reg/index:v4.18 --binary-image reg/opm:v1 --label team=rel-eng --wait`,
  'add-deprecations': `
Examples:
  iib add-deprecations --from-index reg/index:v4.18 --operator-package op --deprecation-schema @deprecations.json`,
};

function singleCommand(ctx: CommandContext, schema: EndpointSchema): Command {
  const name = schema.path.replace(/^\/builds\//, '');
  const cmd = new Command(name).description(`${schema.summary} (POST /api/v1${schema.path})`);
  if (EXAMPLES[name]) cmd.addHelpText('after', EXAMPLES[name]);
  const fields = cliFields(schema);
  for (const field of fields) addField(cmd, field);
  addSubmitOptions(cmd);
  addConnectionOptions(cmd, { userFlag: true });
  cmd.action(async (opts: Record<string, unknown>) => {
    const fileBody =
      typeof opts.fromFile === 'string'
        ? parseBodyFile(opts.fromFile, ctx.readFile(opts.fromFile))
        : undefined;
    const body = buildBody(fields, { opts, fileBody, env: ctx.io.env, readFile: ctx.readFile });
    await submit(ctx, schema.path, body, opts);
  });
  return cmd;
}

/** The two batch endpoints take their build requests from a file; annotations may be added as flags. */
function batchCommand(ctx: CommandContext, name: string, summary: string): Command {
  const cmd = new Command(name).description(`${summary} (POST /api/v1/builds/${name})`);
  addSubmitOptions(cmd, true);
  cmd.option('--annotation <key=value>', 'a batch annotation (string value), repeatable', collectPair);
  addConnectionOptions(cmd, { userFlag: true });
  cmd.action(async (opts: Record<string, unknown>) => {
    const path = String(opts.fromFile);
    const body = parseBodyFile(path, ctx.readFile(path));
    if (opts.annotation) {
      body.annotations = {
        ...(body.annotations ?? {}),
        ...opts.annotation,
      };
    }
    await submit(ctx, `/builds/${name}`, body, opts);
  });
  return cmd;
}

export function submitCommands(ctx: CommandContext): Command[] {
  return [
    ...SINGLE_ENDPOINTS.map((schema) => singleCommand(ctx, schema)),
    batchCommand(ctx, 'add-rm-batch', 'Submit several add and rm requests as one batch'),
    batchCommand(ctx, 'regenerate-bundle-batch', 'Submit several regenerate-bundle requests as one batch'),
  ];
}
