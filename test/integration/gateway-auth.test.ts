/* eslint-disable @typescript-eslint/no-explicit-any -- JSON answers are checked by value */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { UNAUTHORIZED_MESSAGE } from '../../services/gateway/auth';
import { call, Gateway, startGateway } from './gateway-harness';

const IDX = 'quay.io/ns/index:v4.18';
const BIN = 'quay.io/ns/binary:v4.18';
const CEI = { from_index: IDX, binary_image: BIN };
const basic = (u: string, p: string) => ({
  authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`,
});

describe('authentication: trusted proxy header', () => {
  let gw: Gateway;
  beforeAll(async () => {
    gw = await startGateway('auth_proxy', {
      LOGIN_DISABLED: 'false',
      IIB_AUTH_MODES: 'trusted-proxy',
      IIB_TRUSTED_PROXIES: '127.0.0.1',
      IIB_WORKER_USERNAMES: 'worker@EXAMPLE',
    });
  });
  afterAll(() => gw.stop());

  it('when the proxy names the user, then the request is theirs; without it, 401', async () => {
    const r = await call('POST', `${gw.base}/builds/create-empty-index`, CEI, {
      'x-remote-user': 'alice@EXAMPLE',
    });
    expect(r.status).toBe(201);
    expect(r.body.user).toBe('alice@EXAMPLE');
    const event = await gw.tdb.db('outbox').where({ destination: 'iib.requests' }).first();
    expect(event.body.user).toBe('alice@EXAMPLE');
    expect(await call('POST', `${gw.base}/builds/create-empty-index`, CEI)).toMatchObject({
      status: 401,
      body: { error: UNAUTHORIZED_MESSAGE },
    });
    expect((await call('GET', `${gw.base}/builds?user=alice@EXAMPLE`)).body.items).toHaveLength(1);
  });

  it('when overwrite_from_index comes without a token, then 403', async () => {
    const r = await call(
      'POST',
      `${gw.base}/builds/add`,
      { bundles: ['q.io/b:1'], from_index: IDX, binary_image: BIN, overwrite_from_index: true },
      { 'x-remote-user': 'alice' },
    );
    expect(r).toMatchObject({
      status: 403,
      body: { error: 'You must set "overwrite_from_index_token" to use "overwrite_from_index"' },
    });
  });

  it('when a worker patches, then the state changes once and is published; others get 403', async () => {
    const c = await call('POST', `${gw.base}/builds/create-empty-index`, CEI, { 'x-remote-user': 'alice' });
    const url = `${gw.base}/builds/${c.body.id}`;
    const worker = { 'x-remote-user': 'worker@EXAMPLE' };
    expect(
      await call('PATCH', url, { state: 'complete', state_reason: 'x' }, { 'x-remote-user': 'alice' }),
    ).toMatchObject({
      status: 403,
      body: { error: 'This API endpoint is restricted to IIB workers' },
    });
    expect((await call('PATCH', url, { state: 'complete', state_reason: 'x' })).status).toBe(401);
    const before = await gw.tdb
      .db('outbox')
      .where({ destination: 'iib.events.build-state' })
      .count({ n: '*' });
    const p1 = await call(
      'PATCH',
      url,
      { arches: ['amd64'], index_image: 'reg/iib-build:1', state: 'complete', state_reason: 'done' },
      worker,
    );
    expect(p1.status).toBe(200);
    expect(p1.body).toMatchObject({ state: 'complete', arches: ['amd64'], index_image: 'reg/iib-build:1' });
    const p2 = await call('PATCH', url, { state: 'complete', state_reason: 'done' }, worker);
    expect(p2.body.state_history).toHaveLength(2);
    expect(await call('PATCH', url, { state: 'failed', state_reason: 'no' }, worker)).toMatchObject({
      status: 400,
      body: { error: 'A complete request cannot change states' },
    });
    const after = await gw.tdb
      .db('outbox')
      .where({ destination: 'iib.events.build-state' })
      .count({ n: '*' });
    expect(Number((after[0] as any).n) - Number((before[0] as any).n)).toBe(1);
    const batchMsg = await gw.tdb
      .db('outbox')
      .where({ destination: 'iib.events.batch-state' })
      .whereRaw("body->>'state' = 'complete'");
    expect(batchMsg).toHaveLength(1);
    expect(
      await call('PATCH', `${gw.base}/builds/999999`, { state: 'complete', state_reason: 'x' }, worker),
    ).toMatchObject({ status: 404 });
  });
});

describe('authentication: untrusted proxy address', () => {
  let gw: Gateway;
  beforeAll(async () => {
    gw = await startGateway('auth_untrusted', {
      LOGIN_DISABLED: 'false',
      IIB_AUTH_MODES: 'trusted-proxy',
      IIB_TRUSTED_PROXIES: '10.9.9.9',
    });
  });
  afterAll(() => gw.stop());

  it('when the user header comes from an address that is not a proxy, then it is ignored (401)', async () => {
    expect(
      (await call('POST', `${gw.base}/builds/create-empty-index`, CEI, { 'x-remote-user': 'mallory' }))
        .status,
    ).toBe(401);
  });
});

describe('authentication: HTTP Basic and bearer JWT', () => {
  let gw: Gateway;
  let jwks: Server;
  let sign: (
    claims: Record<string, unknown>,
    opts?: { iss?: string; aud?: string; exp?: string },
  ) => Promise<string>;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iib-users-'));
    const users = join(dir, 'users');
    writeFileSync(
      users,
      `# name:bcrypt\nworker:${bcrypt.hashSync('w-pass', 4)}\ncarol:${bcrypt.hashSync('c-pass', 4)}\n`,
    );
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    jwks = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', () => r()));
    const jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks`;
    sign = (claims, opts = {}) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .setIssuer(opts.iss ?? 'https://idp.test')
        .setAudience(opts.aud ?? 'iib')
        .setIssuedAt()
        .setExpirationTime(opts.exp ?? '5m')
        .sign(privateKey);
    gw = await startGateway('auth_basic_jwt', {
      LOGIN_DISABLED: 'false',
      IIB_AUTH_MODES: 'jwt,basic',
      IIB_USERS_FILE: users,
      IIB_OIDC_ISSUER: 'https://idp.test',
      IIB_OIDC_AUDIENCE: 'iib',
      IIB_OIDC_JWKS_URL: jwksUrl,
      IIB_WORKER_USERNAMES: 'worker',
    });
  });
  afterAll(async () => {
    await gw.stop();
    await new Promise<void>((r) => jwks.close(() => r()));
  });

  it('when Basic credentials are right, then the user is known; wrong ones are 401 with a challenge', async () => {
    const ok = await call('POST', `${gw.base}/builds/create-empty-index`, CEI, basic('carol', 'c-pass'));
    expect(ok).toMatchObject({ status: 201, body: { user: 'carol' } });
    const again = await call('POST', `${gw.base}/builds/create-empty-index`, CEI, basic('carol', 'c-pass'));
    expect(again.status).toBe(201);
    const bad = await call('POST', `${gw.base}/builds/create-empty-index`, CEI, basic('carol', 'nope'));
    expect(bad.status).toBe(401);
    expect(bad.headers.get('www-authenticate')).toContain('Basic');
    expect((await call('POST', `${gw.base}/builds/create-empty-index`, CEI, basic('eve', 'x'))).status).toBe(
      401,
    );
    const patch = await call(
      'PATCH',
      `${gw.base}/builds/${ok.body.id}`,
      { state: 'failed', state_reason: 'x' },
      basic('worker', 'w-pass'),
    );
    expect(patch).toMatchObject({ status: 200, body: { state: 'failed' } });
    expect(gw.logs.join('')).not.toContain('c-pass');
  });

  it('when a bearer token is valid, then its preferred_username is the user; a bad one is 401', async () => {
    const token = await sign({ preferred_username: 'dave', sub: 'x' });
    const ok = await call('POST', `${gw.base}/builds/create-empty-index`, CEI, {
      authorization: `Bearer ${token}`,
    });
    expect(ok).toMatchObject({ status: 201, body: { user: 'dave' } });
    for (const t of [
      await sign({ preferred_username: 'dave' }, { aud: 'other' }),
      await sign({ preferred_username: 'dave' }, { iss: 'https://evil' }),
      await sign({ preferred_username: 'dave' }, { exp: '-10m' }),
      'not.a.jwt',
      `${token.slice(0, -4)}AAAA`,
    ]) {
      const r = await call('POST', `${gw.base}/builds/create-empty-index`, CEI, {
        authorization: `Bearer ${t}`,
      });
      expect(r.status).toBe(401);
    }
  });
});

describe('database down', () => {
  it('when PostgreSQL is unreachable, then 503 with a clear error, and answers again once it is back', async () => {
    const gw = await startGateway('db_down');
    try {
      const real = gw.store.db;
      const { createDb } = await import('../../services/gateway/db/connect');
      const dead = createDb('postgres://postgres@127.0.0.1:1/none');
      (gw.store as any).db = dead;
      const r = await call('POST', `${gw.base}/builds/create-empty-index`, CEI);
      expect(r).toMatchObject({
        status: 503,
        body: { error: 'The database is unavailable, try again later' },
      });
      expect((await call('GET', `${gw.base}/builds`)).status).toBe(503);
      expect((await call('GET', `${gw.base}/healthcheck`)).status).toBe(500);
      await dead.destroy();
      (gw.store as any).db = real;
      expect((await call('POST', `${gw.base}/builds/create-empty-index`, CEI)).status).toBe(201);
    } finally {
      await gw.stop();
    }
  });
});
