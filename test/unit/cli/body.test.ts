import { buildBody, cliFields, redact } from '../../../services/cli/body';
import { runCli } from '../../../services/cli/main';
import {
  ADD,
  MERGE_INDEX_IMAGE,
  REGENERATE_BUNDLE,
  SINGLE_ENDPOINTS,
} from '../../../services/gateway/requests/validation/schemas';
import { captureIo } from './capture';

/** Runs `iib <args> --dry-run` in-process and returns the body it would send. */
async function dryRun(
  args: string[],
  env: Record<string, string> = {},
  files: Record<string, string> = {},
): Promise<{ code: number; body: Record<string, unknown>; path: string; out: string; err: string }> {
  const c = captureIo(env);
  const readFile = (p: string): string => {
    const text = files[p];
    if (text === undefined) throw new Error(`no file ${p}`);
    return text;
  };
  const code = await runCli([...args, '--dry-run'], c.io, { readFile });
  const out = c.out();
  const [first, ...rest] = out.split('\n');
  return {
    code,
    path: first ?? '',
    body: code === 0 ? (JSON.parse(rest.join('\n')) as Record<string, unknown>) : {},
    out,
    err: c.err(),
  };
}

describe('iib submit commands: flags to the JSON body', () => {
  it('when add gets --bundles, repeated --bundle and index flags, then the body has the API keys, bundles in typed order', async () => {
    const r = await dryRun([
      'add',
      '--bundle',
      'reg/a:1',
      '--bundles',
      'reg/b:1,reg/c:1',
      '--bundle',
      'reg/d:1',
      '--from-index',
      'reg/index:v4.18',
      '--binary-image',
      'reg/binary:v1',
      '--build-tags',
      'x,y',
      '--add-arch',
      'amd64',
      '--check-related-images',
    ]);
    expect(r.code).toBe(0);
    expect(r.path).toBe('POST /builds/add');
    expect(r.body).toEqual({
      bundles: ['reg/a:1', 'reg/b:1', 'reg/c:1', 'reg/d:1'],
      from_index: 'reg/index:v4.18',
      binary_image: 'reg/binary:v1',
      build_tags: ['x', 'y'],
      add_arches: ['amd64'],
      check_related_images: true,
    });
  });

  it('when create-empty-index gets --labels and --label pairs, then labels is a map and a value may hold "="', async () => {
    const r = await dryRun([
      'create-empty-index',
      '--from-index',
      'reg/i:1',
      '--labels',
      'team=rel-eng',
      '--label',
      'expr=a=b',
      '--no-output-fbc',
    ]);
    expect(r.body).toEqual({
      from_index: 'reg/i:1',
      labels: { team: 'rel-eng', expr: 'a=b' },
      output_fbc: false,
    });
  });

  it('when --from-file holds a body, then the flags replace its keys and keep the others', async () => {
    const file = JSON.stringify({ from_index: 'old:1', operators: ['a', 'b'], distribution_scope: 'prod' });
    const r = await dryRun(
      ['rm', '--from-file', 'body.json', '--from-index', 'new:1', '--operator', 'c'],
      {},
      {
        'body.json': file,
      },
    );
    expect(r.body).toEqual({ from_index: 'new:1', operators: ['c'], distribution_scope: 'prod' });
  });

  it('when --from-file is not a JSON object, then the command fails as a usage error naming the file', async () => {
    const r = await dryRun(['rm', '--from-file', 'b.json'], {}, { 'b.json': '[1]' });
    expect(r.code).toBe(2);
    expect(r.err).toContain('b.json must hold a JSON object');
  });

  it('when overwriting with the token in IIB_OVERWRITE_TOKEN, then it is sent but --dry-run never prints it', async () => {
    const args = ['add', '--from-index', 'reg/i:1', '--overwrite-from-index'];
    const r = await dryRun(args, { IIB_OVERWRITE_TOKEN: 'robot:s3cret' });
    expect(r.body.overwrite_from_index_token).toBe('***');
    expect(r.out).not.toContain('s3cret');
    const fields = cliFields(ADD);
    const body = buildBody(fields, {
      opts: { fromIndex: 'reg/i:1', overwriteFromIndex: true },
      env: { IIB_OVERWRITE_TOKEN: 'robot:s3cret' },
      readFile: () => '',
    });
    expect(body.overwrite_from_index_token).toBe('robot:s3cret');
  });

  it('when not overwriting, then IIB_OVERWRITE_TOKEN is not sent (the API would refuse a token alone)', () => {
    const body = buildBody(cliFields(ADD), {
      opts: { fromIndex: 'reg/i:1' },
      env: { IIB_OVERWRITE_TOKEN: 'robot:s3cret' },
      readFile: () => '',
    });
    expect(body).toEqual({ from_index: 'reg/i:1' });
  });

  it('when merge-index-image overwrites its target, then the environment token fills overwrite_target_index_token', () => {
    const body = buildBody(cliFields(MERGE_INDEX_IMAGE), {
      opts: { sourceFromIndex: 's:1', targetIndex: 't:1', overwriteTargetIndex: true },
      env: { IIB_OVERWRITE_TOKEN: 'robot:tok' },
      readFile: () => '',
    });
    expect(body.overwrite_target_index_token).toBe('robot:tok');
  });

  it('when a flag given as @file is JSON (registry_auths) or a JSON string (deprecation_schema), then the file is read', async () => {
    const auths = { auths: { 'reg.example': { auth: 'dTpw' } } };
    const body = buildBody(cliFields(REGENERATE_BUNDLE), {
      opts: { fromBundleImage: 'b:1', registryAuths: '@auths.json', bundleReplacement: { 'a:1': 'b:2' } },
      env: {},
      readFile: (p) => (p === 'auths.json' ? JSON.stringify(auths) : ''),
    });
    expect(body).toEqual({
      from_bundle_image: 'b:1',
      registry_auths: auths,
      bundle_replacements: { 'a:1': 'b:2' },
    });
    const schema = '{"schema":"olm.deprecations"}';
    const r = await dryRun(
      [
        'add-deprecations',
        '--from-index',
        'i:1',
        '--operator-package',
        'p',
        '--deprecation-schema',
        '@d.json',
      ],
      {},
      { 'd.json': schema },
    );
    expect(r.body.deprecation_schema).toBe(schema);
  });

  it('when registry_auths is not JSON, then it is a usage error, and its text is not echoed', async () => {
    const r = await dryRun([
      'regenerate-bundle',
      '--from-bundle-image',
      'b:1',
      '--registry-auths',
      'secretish',
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('--registry-auths must be JSON');
    expect(r.err).not.toContain('secretish');
  });

  it('when a body has secrets at any depth, then redact hides them and nothing else', () => {
    expect(
      redact({
        build_requests: [{ from_index: 'i:1', overwrite_from_index_token: 'x' }],
        registry_auths: { auths: {} },
        bundles: ['a'],
      }),
    ).toEqual({
      build_requests: [{ from_index: 'i:1', overwrite_from_index_token: '***' }],
      registry_auths: '***',
      bundles: ['a'],
    });
  });

  it('when a map flag has no "=", then commander reports a usage error (exit 2)', async () => {
    const r = await dryRun(['create-empty-index', '--from-index', 'i:1', '--labels', 'novalue']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('expected key=value');
  });

  it('when the API declares a field, then every endpoint has a flag for it unless it is legacy', () => {
    for (const schema of SINGLE_ENDPOINTS) {
      const flags = cliFields(schema).map((f) => f.key);
      const expected = Object.entries(schema.fields)
        .filter(([, s]) => !s.deprecated)
        .map(([k]) => k);
      expect(flags).toEqual(expected);
    }
  });

  it('when a batch is submitted from a file with --annotation, then the annotations are merged into the body', async () => {
    const file = JSON.stringify({
      build_requests: [{ from_index: 'i:1', operators: ['a'] }],
      annotations: { a: '1' },
    });
    const r = await dryRun(['add-rm-batch', '-f', 'b.json', '--annotation', 'b=2'], {}, { 'b.json': file });
    expect(r.path).toBe('POST /builds/add-rm-batch');
    expect(r.body).toEqual({
      build_requests: [{ from_index: 'i:1', operators: ['a'] }],
      annotations: { a: '1', b: '2' },
    });
  });
});
