import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import pino from 'pino';
import { loadBuilderConfig } from '../../../shared/config';
import type { BuildRequestEvent } from '../../../shared/contracts';
import { SecretBox } from '../../../shared/crypto';
import { RequestWorkspace } from '../../../services/builder/workspace/request-workspace';
import { FakeReporter } from './pipelines/fakes';

describe('the request workspace', () => {
  const key = randomBytes(32).toString('base64');
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'iib-workspace-'));
  });
  afterEach(async () => rm(root, { recursive: true, force: true }));

  const event = (params: Record<string, unknown>, secrets?: unknown): BuildRequestEvent =>
    ({
      id: 7,
      request_type: 'rm',
      user: 'tester',
      batch: 7,
      params: { operators: ['foo'], ...params },
      submitted_at: new Date().toISOString(),
      ...(secrets ? { sealed_secrets: new SecretBox(key).seal(secrets, 'iib-request:7') } : {}),
    }) as BuildRequestEvent;
  const config = (secretsKey?: string) => ({
    ...loadBuilderConfig({ IIB_REGISTRY: 'registry.test/iib' }),
    secretsKey,
    dockerConfigTemplate: undefined,
  });
  const open = (e: BuildRequestEvent, secretsKey?: string) =>
    RequestWorkspace.create(e, config(secretsKey), root, new FakeReporter(), pino({ level: 'silent' }));

  it('when the request carries an overwrite token, then its auth file in the work dir holds it for that repository only', async () => {
    const ws = await open(
      event({ from_index: 'quay.test/ns/index:v1' }, { overwrite_from_index_token: 'user:secret' }),
      key,
    );
    const ctx = await ws.open();
    expect(ctx.workDir).toBe(ws.workDir);
    expect(path.dirname(ctx.workDir)).toBe(root);
    expect(ctx.secrets.overwrite_from_index_token).toBe('user:secret');
    expect(ctx.authFile?.startsWith(ctx.workDir)).toBe(true);
    const auths = JSON.parse(await readFile(ctx.authFile!, 'utf8')) as { auths: Record<string, unknown> };
    expect(auths.auths).toEqual({
      'quay.test/ns/index': { auth: Buffer.from('user:secret').toString('base64') },
    });
    await ws.close();
    await expect(stat(ctx.workDir)).rejects.toThrow();
  });

  it('when the request carries no secrets, then there is no auth file', async () => {
    const ws = await open(event({ from_index: 'quay.test/ns/index:v1' }));
    const ctx = await ws.open();
    expect(ctx.authFile).toBeUndefined();
    expect(ctx.secrets).toEqual({});
    await ws.close();
  });

  it('when sealed secrets arrive at a builder without a key, then opening fails and close still removes the directory', async () => {
    const ws = await open(event({}, { overwrite_from_index_token: 'user:secret' }));
    await expect(ws.open()).rejects.toThrow('this builder has no IIB_SECRETS_KEY');
    await ws.close();
    await expect(stat(ws.workDir)).rejects.toThrow();
  });

  it("when a message names the builder's directories, then the submitter's copy does not", async () => {
    const ws = await open(event({}));
    expect(ws.withoutPaths(`cannot read ${ws.workDir}/context/configs/foo and ${root}/x`)).toBe(
      'cannot read /context/configs/foo and /x',
    );
    await ws.close();
  });
});
