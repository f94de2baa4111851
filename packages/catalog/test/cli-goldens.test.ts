/**
 * Replays opm v1.26.4's golden outputs through the `iib-catalog` CLI: every
 * registry scenario step by step, every render golden, every validate verdict,
 * and the bad inputs the CLI must explain without a stack trace.
 */
import { execFile } from 'node:child_process';
import { existsSync, promises as fsp, readdirSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { runCli } from '../src/cli';
import { bundlesDir, fixturesDir, goldenDir, packageRoot, repoRoot } from './fixtures';

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(...args: string[]): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) });
  return { code, stdout, stderr };
}

function readJsonStream(text: string): Record<string, unknown>[] {
  return text
    .split(/\n(?=\{)/)
    .filter((c) => c.trim() !== '')
    .map((c) => JSON.parse(c) as Record<string, unknown>);
}

/** Image ref -> bundle directory, from the goldens' IMAGES.tsv. */
async function imageDirs(): Promise<Map<string, string>> {
  const text = await fsp.readFile(path.join(goldenDir, 'IMAGES.tsv'), 'utf8');
  const map = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const [op, verDir, image] = line.split('\t');
    if (!op || !verDir || !image) continue;
    map.set(image, path.join(bundlesDir, op, verDir.split(' ')[0]!));
  }
  return map;
}

interface Step {
  id: string;
  rc: number;
  args: string[];
}

function parseSteps(text: string, catalog: string, images: Map<string, string>): Step[] {
  const steps: Step[] = [];
  for (const line of text.split('\n')) {
    const m = /^(step\d+) rc=(\d+):\s+registry (add|rm) (.*)$/.exec(line);
    if (!m) continue;
    const [, id, rc, verb, rest] = m as unknown as [string, string, string, string, string];
    const words = rest.split(/\s+/);
    const flag = (name: string) => words[words.indexOf(name) + 1] ?? '';
    if (verb === 'rm') {
      steps.push({
        id,
        rc: Number(rc),
        args: ['rm', '--catalog', catalog, '--packages', flag('--packages')],
      });
      continue;
    }
    const args = ['add', '--catalog', catalog, '--mode', flag('--mode')];
    if (words.includes('--overwrite-latest')) args.push('--overwrite-latest');
    for (const image of flag('--bundle-images').split(',')) {
      const dir = images.get(image);
      if (!dir) throw new Error(`IMAGES.tsv has no bundle for ${image}`);
      args.push('--bundle', `${dir}=${image}`);
    }
    steps.push({ id, rc: Number(rc), args });
  }
  return steps;
}

async function snapshot(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (!existsSync(dir)) return out;
  for (const pkg of await fsp.readdir(dir)) {
    out.set(pkg, await fsp.readFile(path.join(dir, pkg, 'catalog.json'), 'utf8'));
  }
  return out;
}

function sortSkips(blob: Record<string, unknown>): Record<string, unknown> {
  if (blob.schema !== 'olm.channel') return blob;
  const entries = (blob.entries as Record<string, unknown>[]).map((e) =>
    Array.isArray(e.skips) ? { ...e, skips: [...(e.skips as string[])].sort() } : e,
  );
  return { ...blob, entries };
}

/** Our catalog reduced the way the goldens' stepNN.graph.jsonl are. */
function reduce(blobs: Record<string, unknown>[]): Record<string, unknown>[] {
  return blobs.map((b) => {
    if (b.schema !== 'olm.bundle') return sortSkips(b);
    const props = (b.properties as { type: string }[] | undefined) ?? [];
    return {
      schema: b.schema,
      name: b.name,
      package: b.package,
      image: b.image,
      propertyTypes: props.map((p) => p.type),
      relatedImages: b.relatedImages,
    };
  });
}

function goldenError(log: string): string | undefined {
  const err = /^Error: (.*)$/m.exec(log)?.[1];
  if (err !== undefined) return err;
  return /level=fatal msg="[^"]*" error="(.*)"$/m.exec(log)?.[1];
}

const registryDir = path.join(goldenDir, 'registry');
const scenarios = existsSync(registryDir)
  ? readdirSync(registryDir)
      .filter((d: string) => existsSync(path.join(registryDir, d, 'steps.txt')))
      .sort()
  : [];

/** Runs one golden step on `catalog` and checks its outcome, graph and final catalog against opm's. */
async function expectStepMatches(dir: string, scenario: string, step: Step, catalog: string): Promise<void> {
  const before = await snapshot(catalog);
  const res = await cli(...step.args);
  const label = `${scenario} ${step.id}`;
  expect({ label, failed: res.code !== 0 }).toEqual({ label, failed: step.rc !== 0 });
  if (step.rc !== 0) {
    const log = await fsp.readFile(path.join(dir, `${step.id}.log`), 'utf8');
    const expected = goldenError(log);
    if (expected !== undefined)
      expect({ label, stderr: res.stderr }).toEqual({ label, stderr: `Error: ${expected}\n` });
    expect(await snapshot(catalog)).toEqual(before);
  }
  const graphFile = path.join(dir, `${step.id}.graph.jsonl`);
  if (existsSync(graphFile)) {
    const expected = (await fsp.readFile(graphFile, 'utf8'))
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => sortSkips(JSON.parse(l) as Record<string, unknown>));
    const ours: Record<string, unknown>[] = [];
    for (const text of (await snapshot(catalog)).values()) ours.push(...reduce(readJsonStream(text)));
    expect({ label, graph: ours }).toEqual({ label, graph: expected });
  }
  const finalDir = path.join(dir, `${step.id}.catalog`);
  if (existsSync(finalDir)) {
    const ours = await snapshot(catalog);
    const golden = await snapshot(finalDir);
    expect([...ours.keys()].sort()).toEqual([...golden.keys()].sort());
    for (const [pkg, text] of golden) {
      const mine = ours.get(pkg) ?? '';
      if (mine !== text) {
        // Only the order of skips may differ (opm's is not stable).
        expect(readJsonStream(mine).map(sortSkips)).toEqual(readJsonStream(text).map(sortSkips));
      }
    }
  }
}

describe('iib-catalog against opm v1.26.4 registry goldens', () => {
  let work: string;
  let images: Map<string, string>;

  beforeAll(async () => {
    if (!existsSync(goldenDir)) {
      throw new Error(
        `fixtures not found at ${fixturesDir}: set IIB_FIXTURES_DIR to the shared olm fixtures`,
      );
    }
    work = await fsp.mkdtemp(path.join(os.tmpdir(), 'catalog-cli-'));
    images = await imageDirs();
  });

  afterAll(async () => {
    await fsp.rm(work, { recursive: true, force: true });
  });

  it('when the fixtures are read, then there are registry scenarios to replay', () => {
    expect(scenarios.length).toBeGreaterThan(0);
  });

  it.each(scenarios)(
    'when scenario %s is replayed step by step, then every step matches opm',
    async (scenario) => {
      const dir = path.join(registryDir, scenario);
      const catalog = path.join(work, scenario);
      const steps = parseSteps(await fsp.readFile(path.join(dir, 'steps.txt'), 'utf8'), catalog, images);
      expect(steps.length).toBeGreaterThan(0);
      for (const step of steps) await expectStepMatches(dir, scenario, step, catalog);
    },
  );

  it('when a package that does not exist is removed, then opm error text is printed and the catalog is unchanged', async () => {
    const catalog = path.join(work, 'rm-nonexistent');
    const foo = path.join(bundlesDir, 'foo', '0.1.0');
    expect(
      (await cli('add', '--catalog', catalog, '--mode', 'replaces', '--bundle', `${foo}=example/foo:1`)).code,
    ).toBe(0);
    const before = await snapshot(catalog);
    const log = await fsp.readFile(path.join(registryDir, 'rm-nonexistent-package.txt'), 'utf8');
    const res = await cli('rm', '--catalog', catalog, '--packages', 'nonexistent');
    expect(res.code).not.toBe(0);
    expect(res.stderr).toBe(`Error: ${goldenError(log) ?? 'missing golden'}\n`);
    expect(await snapshot(catalog)).toEqual(before);
  });
});

describe('iib-catalog render against opm v1.26.4 render goldens', () => {
  const renderDir = path.join(goldenDir, 'render');
  const cases: [string, string][] = existsSync(renderDir)
    ? readdirSync(renderDir)
        .filter((op) => existsSync(path.join(bundlesDir, op)))
        .flatMap((op) =>
          readdirSync(path.join(renderDir, op))
            .filter((f) => f.endsWith('.json'))
            .map((f): [string, string] => [op, f.replace(/\.json$/, '')]),
        )
    : [];

  it('when the fixtures are read, then there are render goldens', () => {
    expect(cases.length).toBeGreaterThan(20);
  });

  it.each(cases)('when %s %s is rendered, then the output is byte-identical to opm', async (op, ver) => {
    const golden = await fsp.readFile(path.join(renderDir, op, `${ver}.json`), 'utf8');
    const res = await cli(
      'render',
      path.join(bundlesDir, op, ver),
      '--image',
      `localhost:5055/fixtures/${op}-bundle:v${ver}`,
    );
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toBe(golden);
  });
});

describe('iib-catalog validate against opm v1.26.4 verdicts', () => {
  const validateDir = path.join(goldenDir, 'validate');
  const cases: [string, string, string][] = [];
  if (existsSync(validateDir)) {
    for (const f of readdirSync(validateDir).filter((x) => x.endsWith('.txt'))) {
      cases.push([
        f,
        path.join(fixturesDir, ...f.replace(/\.txt$/, '').split('_')),
        path.join(validateDir, f),
      ]);
    }
    const mutations = path.join(validateDir, 'mutations');
    for (const m of existsSync(mutations) ? readdirSync(mutations) : []) {
      cases.push([
        m,
        path.join(mutations, m, 'catalog'),
        path.join(mutations, m, 'opm-validate-v1.26.4.txt'),
      ]);
    }
  }

  it('when the fixtures are read, then there are validate goldens', () => {
    expect(cases.length).toBeGreaterThan(5);
  });

  it.each(cases)('when %s is validated, then the verdict matches opm', async (_name, catalog, goldenFile) => {
    const golden = await fsp.readFile(goldenFile, 'utf8');
    const rc = Number(/rc=(\d+)/.exec(golden)?.[1] ?? NaN);
    expect(existsSync(catalog)).toBe(true);
    const res = await cli('validate', catalog);
    expect(res.code === 0).toBe(rc === 0);
    const msg = /msg="((?:[^"\\]|\\.)*)"/.exec(golden)?.[1];
    if (rc !== 0 && msg !== undefined) {
      const expected = JSON.parse(`"${msg}"`) as string;
      expect(res.stderr).toContain(expected);
    }
  });
});

const badBundle = async (root: string, files: Record<string, string>): Promise<string> => {
  for (const [rel, text] of Object.entries(files)) {
    await fsp.mkdir(path.dirname(path.join(root, rel)), { recursive: true });
    await fsp.writeFile(path.join(root, rel), text);
  }
  return root;
};

const csv =
  'apiVersion: operators.coreos.com/v1alpha1\nkind: ClusterServiceVersion\nmetadata:\n  name: x.v1.0.0\nspec:\n  version: 1.0.0\n';
const annotations =
  'annotations:\n  operators.operatorframework.io.bundle.package.v1: x\n  operators.operatorframework.io.bundle.channels.v1: stable\n';

const expectClearError = (res: CliResult, file: string, problem: RegExp) => {
  expect(res.code).not.toBe(0);
  expect(res.stderr).toContain(file);
  expect(res.stderr).toMatch(problem);
  expect(res.stderr).not.toMatch(/^\s+at /m);
};

describe('iib-catalog on bad input', () => {
  let work: string;

  beforeAll(async () => {
    work = await fsp.mkdtemp(path.join(os.tmpdir(), 'catalog-bad-'));
  });
  afterAll(async () => {
    await fsp.rm(work, { recursive: true, force: true });
  });

  it('when a manifest is malformed YAML, then the error names the file and the problem', async () => {
    const dir = await badBundle(path.join(work, 'bad-yaml'), {
      'manifests/csv.yaml': 'kind: [unclosed\n  foo: : bar',
      'metadata/annotations.yaml': annotations,
    });
    const res = await cli('render', dir, '--image', 'example/x:1');
    expectClearError(res, path.join(dir, 'manifests', 'csv.yaml'), /invalid YAML/);
  });

  it('when a bundle has no CSV, then the error names the manifests directory', async () => {
    const dir = await badBundle(path.join(work, 'no-csv'), {
      'manifests/crd.yaml':
        'apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: a.b\n',
      'metadata/annotations.yaml': annotations,
    });
    const res = await cli('render', dir, '--image', 'example/x:1');
    expectClearError(res, path.join(dir, 'manifests'), /no csv in bundle/);
  });

  it('when a bundle has no annotations, then the error names the metadata directory', async () => {
    const dir = await badBundle(path.join(work, 'no-annotations'), {
      'manifests/csv.yaml': csv,
      'metadata/other.yaml': 'foo: bar\n',
    });
    const res = await cli(
      'add',
      '--catalog',
      path.join(work, 'cat-a'),
      '--mode',
      'replaces',
      '--bundle',
      `${dir}=example/x:1`,
    );
    expectClearError(res, path.join(dir, 'metadata'), /Could not find annotations file/);
    expect(existsSync(path.join(work, 'cat-a'))).toBe(false);
  });

  it('when a catalog defines a package twice, then the error names the file and the duplicate', async () => {
    const cat = await badBundle(path.join(work, 'dup'), {
      'a/catalog.json': '{"schema":"olm.package","name":"a","defaultChannel":"s"}\n',
      'b/catalog.json': '{"schema":"olm.package","name":"a","defaultChannel":"s"}\n',
    });
    const res = await cli('validate', cat);
    expectClearError(res, path.join(cat, 'b', 'catalog.json'), /duplicate package "a"/);
  });

  it('when a catalog file is malformed JSON, then add fails naming it and leaves the catalog unchanged', async () => {
    const cat = await badBundle(path.join(work, 'bad-json'), {
      'a/catalog.json': '{"schema":"olm.package", "name": }\n',
    });
    const dir = await badBundle(path.join(work, 'ok-bundle'), {
      'manifests/csv.yaml': csv,
      'metadata/annotations.yaml': annotations,
    });
    const res = await cli('add', '--catalog', cat, '--mode', 'replaces', '--bundle', `${dir}=example/x:1`);
    expectClearError(res, path.join(cat, 'a', 'catalog.json'), /invalid JSON/);
    expect(await fsp.readFile(path.join(cat, 'a', 'catalog.json'), 'utf8')).toBe(
      '{"schema":"olm.package", "name": }\n',
    );
  });

  it('when the mode is unknown, then the CLI explains the usage error', async () => {
    const res = await cli('add', '--catalog', work, '--mode', 'bogus', '--bundle', 'a=b');
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/invalid --mode "bogus"/);
  });
});

describe('iib-catalog as an installed bin', () => {
  const run = promisify(execFile);
  const bins = [
    ['the package', path.join(packageRoot, 'bin', 'iib-catalog.js')],
    ['the repo root', path.join(repoRoot, 'bin', 'iib-catalog.js')],
  ];
  it.each(bins)('when the bin of %s runs --help, then it prints the usage', async (_where, bin) => {
    if (!existsSync(path.join(packageRoot, 'dist', 'index.js')))
      throw new Error('packages/catalog/dist/ is missing: run `npm run build` first');
    const { stdout } = await run(process.execPath, [bin, '--help'], { cwd: repoRoot });
    expect(stdout).toMatch(/^Usage: iib-catalog/);
  });
});
