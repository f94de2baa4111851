/**
 * `iib-catalog`: render bundles and edit file-based catalogs with opm
 * v1.26.4's semantics. Errors go to stderr as one message, never a stack.
 */
import { parseArgs } from 'node:util';
import { ADD_MODES, addBundles, type AddMode } from './add';
import { readCatalog, writeCatalog } from './catalog-io';
import { deprecateBundles } from './deprecate';
import { CatalogError, errorText } from './errors';
import { mergeCatalogs } from './merge';
import { removePackagesFromDir } from './remove';
import { renderBundle, renderJson } from './render';
import { validateCatalog } from './validate';

export const USAGE = `Usage: iib-catalog <command> [options]

Commands:
  render <bundle-dir> --image <ref>       print the olm.bundle opm v1.26.4 renders (FBC JSON)
  add --catalog <dir> --mode <mode> [--overwrite-latest] --bundle <bundle-dir>=<image-ref> [--bundle ...]
                                          add bundles (modes: replaces, semver, semver-skippatch)
  rm --catalog <dir> --packages a,b        remove packages
  deprecate --catalog <dir> --bundles <image-ref>[,...]
                                          deprecate bundles, truncating the graph below them
  merge --from <dir> --into <dir> --mode <mode>
                                          add to --into every bundle of --from it lacks
  validate <dir>                          check the catalog as 'opm validate' does

The catalog directory holds one <package>/catalog.json per package; a missing
or empty directory is an empty catalog. Edits are atomic: on failure the
directory is left unchanged and the command exits non-zero.
`;

export interface CliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

const defaultIo: CliIo = {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
};

function usage(message: string): CatalogError {
  return new CatalogError('usage', message);
}

function need(value: string | undefined, flag: string): string {
  if (value === undefined || value === '') throw usage(`missing required flag ${flag}`);
  return value;
}

function mode(value: string | undefined): AddMode {
  const m = need(value, '--mode');
  if (!(ADD_MODES as readonly string[]).includes(m)) {
    throw usage(`invalid --mode "${m}": expected one of ${ADD_MODES.join(', ')}`);
  }
  return m as AddMode;
}

function list(value: string | undefined, flag: string): string[] {
  return need(value, flag)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  image: { type: 'string', multiple: true },
  catalog: { type: 'string' },
  mode: { type: 'string' },
  'overwrite-latest': { type: 'boolean' },
  bundle: { type: 'string', multiple: true },
  packages: { type: 'string' },
  bundles: { type: 'string' },
  from: { type: 'string' },
  into: { type: 'string' },
} as const;

interface Parsed {
  values: ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>['values'];
  positionals: string[];
}

type Command = (args: Parsed, io: CliIo) => Promise<number>;

async function render({ values, positionals }: Parsed, io: CliIo): Promise<number> {
  if (positionals.length === 0) throw usage('render needs a bundle directory');
  const images = values.image ?? [];
  if (images.length !== positionals.length) throw usage('render needs one --image per bundle directory');
  const blobs = [];
  for (const [i, dir] of positionals.entries()) blobs.push(await renderBundle(dir, images[i]!));
  io.stdout(renderJson(blobs));
  return 0;
}

async function add({ values }: Parsed, io: CliIo): Promise<number> {
  const dir = need(values.catalog, '--catalog');
  const m = mode(values.mode);
  const sources = (values.bundle ?? []).map((b) => {
    const eq = b.lastIndexOf('=');
    if (eq <= 0 || eq === b.length - 1) throw usage(`--bundle must be <bundle-dir>=<image-ref>, got "${b}"`);
    return { dir: b.slice(0, eq), image: b.slice(eq + 1) };
  });
  if (sources.length === 0) throw usage('add needs at least one --bundle <bundle-dir>=<image-ref>');
  const catalog = await readCatalog(dir);
  const result = await addBundles(catalog, sources, { mode: m, overwriteLatest: values['overwrite-latest'] });
  for (const w of result.warnings) io.stderr(`warning: ${w}\n`);
  await writeCatalog(dir, catalog, { dirty: result.dirty });
  return 0;
}

async function rm({ values }: Parsed): Promise<number> {
  const dir = need(values.catalog, '--catalog');
  await removePackagesFromDir(dir, list(values.packages, '--packages'));
  return 0;
}

async function deprecate({ values }: Parsed): Promise<number> {
  const dir = need(values.catalog, '--catalog');
  const catalog = await readCatalog(dir);
  const dirty = deprecateBundles(catalog, list(values.bundles, '--bundles'));
  await writeCatalog(dir, catalog, { dirty });
  return 0;
}

async function merge({ values }: Parsed): Promise<number> {
  const from = await readCatalog(need(values.from, '--from'));
  const intoDir = need(values.into, '--into');
  const into = await readCatalog(intoDir);
  const result = mergeCatalogs(from, into, mode(values.mode));
  await writeCatalog(intoDir, into, { dirty: result.dirty });
  return 0;
}

async function validate({ values, positionals }: Parsed, io: CliIo): Promise<number> {
  const dir = positionals[0] ?? values.catalog;
  const catalog = await readCatalog(need(dir, '<dir>'));
  const result = validateCatalog(catalog);
  if (result.valid) return 0;
  io.stderr(`invalid catalog: ${result.message ?? ''}\n`);
  return 1;
}

const COMMANDS: Record<string, Command> = { render, add, rm, deprecate, merge, validate };

async function run(args: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = args;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    io.stdout(USAGE);
    return command === undefined ? 2 : 0;
  }
  const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: OPTIONS });
  if (values.help) {
    io.stdout(USAGE);
    return 0;
  }
  const handler = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (!handler) throw usage(`unknown command "${command}"`);
  return handler({ values, positionals }, io);
}

/** Runs the CLI on `argv` (without node and script); resolves to the exit code. */
export async function runCli(argv: readonly string[], io: CliIo = defaultIo): Promise<number> {
  try {
    return await run([...argv], io);
  } catch (err) {
    const usageError =
      (err instanceof CatalogError && err.kind === 'usage') ||
      (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    io.stderr(`Error: ${errorText(err)}\n`);
    if (usageError) {
      io.stderr("Run 'iib-catalog --help' for usage.\n");
      return 2;
    }
    return 1;
  }
}

/** Runs the CLI as this process: arguments from `process.argv`, the exit code into `process.exitCode`. */
export function runCliProcess(): void {
  runCli(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`Error: ${errorText(err)}\n`);
      process.exitCode = 1;
    },
  );
}
