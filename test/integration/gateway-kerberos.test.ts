/* eslint-disable @typescript-eslint/no-explicit-any -- JSON answers are checked by value */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import bcrypt from 'bcryptjs';
import { UNAUTHORIZED_MESSAGE } from '../../services/gateway/auth';
import { Kdc, startKdc } from '../support/kdc';
import { RunningSystem, startSystem } from '../support/system';

const run = promisify(execFile);
const CEI = { from_index: 'quay.io/ns/index:v4.18', binary_image: 'quay.io/ns/binary:v4.18' };

interface CurlAnswer {
  status: number;
  /** Headers of the last response (curl --negotiate makes two requests). */
  headers: string;
  body: any;
  /** curl -v: the request headers it sent, with the Negotiate token. */
  trace: string;
}

/**
 * The gateway runs as a process of its own: libkrb5 reads KRB5_CONFIG and
 * KRB5_KTNAME from the real process environment, which a Jest test cannot
 * set for its own process. The client is curl --negotiate, as a user would.
 */
describe('authentication: Kerberos (SPNEGO) against a real MIT KDC', () => {
  let kdc: Kdc;
  let sys: RunningSystem;
  let port: number;
  let alice: string;
  let worker: string;
  let nobody: string;

  const curl = async (
    ccache: string,
    method: string,
    route: string,
    body?: unknown,
    host = 'localhost',
  ): Promise<CurlAnswer> => {
    const headersFile = path.join(kdc.dir, `h-${Date.now()}-${Math.random()}`);
    const bodyFile = `${headersFile}.body`;
    const args = [
      '-sS',
      '-v',
      '--negotiate',
      '-u',
      ':',
      '--resolve',
      `${host}:${port}:127.0.0.1`,
      '-X',
      method,
      '-D',
      headersFile,
      '-o',
      bodyFile,
      '-w',
      '%{http_code}',
    ];
    if (body !== undefined) args.push('-H', 'content-type: application/json', '--data', JSON.stringify(body));
    args.push(`http://${host}:${port}/api/v1${route}`);
    const { stdout, stderr } = await run('curl', args, {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        KRB5_CONFIG: kdc.env.KRB5_CONFIG,
        KRB5CCNAME: ccache,
      },
    });
    const blocks = readFileSync(headersFile, 'utf8')
      .trim()
      .split(/\r?\n\r?\n/);
    const text = readFileSync(bodyFile, 'utf8');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
    return { status: Number(stdout), headers: blocks[blocks.length - 1]!, body: parsed, trace: stderr };
  };

  /** The gateway's output reaches us through a pipe, a moment after its answer. */
  const logged = async (pattern: RegExp): Promise<string> => {
    const deadline = Date.now() + 5000;
    while (!pattern.test(sys.logs('gateway')) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    return sys.logs('gateway');
  };

  const post = (headers: Record<string, string> = {}) =>
    fetch(`http://127.0.0.1:${port}/api/v1/builds/create-empty-index`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(CEI),
    });

  beforeAll(async () => {
    kdc = await startKdc('IIB.TEST');
    try {
      for (const p of ['alice', 'worker', 'HTTP/localhost', 'HTTP/otherhost', 'HTTP/elsewhere']) {
        await kdc.addPrincipal(p);
      }
      // The gateway's keytab also holds HTTP/otherhost: only the configured
      // principal may accept, not any key the keytab happens to have.
      const keytab = await kdc.keytab('gateway.keytab', ['HTTP/localhost', 'HTTP/otherhost']);
      const users = path.join(kdc.dir, 'users');
      writeFileSync(users, `carol:${bcrypt.hashSync('c-pass', 4)}\n`);
      alice = await kdc.login('alice');
      worker = await kdc.login('worker');
      nobody = kdc.emptyCache();
      sys = await startSystem({
        services: ['gateway'],
        env: {
          ...kdc.env,
          LOGIN_DISABLED: 'false',
          IIB_AUTH_MODES: 'kerberos,basic',
          IIB_USERS_FILE: users,
          IIB_KERBEROS_KEYTAB: keytab,
          IIB_KERBEROS_SERVICE_PRINCIPAL: 'HTTP/localhost@IIB.TEST',
          IIB_WORKER_USERNAMES: 'worker@IIB.TEST',
        },
      });
      port = Number(new URL(sys.api).port);
    } catch (err) {
      await kdc.stop();
      throw err;
    }
  });
  afterAll(async () => {
    await sys?.stop();
    await kdc?.stop();
  });

  it('when alice has a ticket, then her POST is recorded as alice@IIB.TEST (IIB keeps REMOTE_USER whole) and the answer carries the mutual-auth token', async () => {
    const r = await curl(alice, 'POST', '/builds/create-empty-index', CEI);
    expect(r.status).toBe(201);
    expect(r.body.user).toBe('alice@IIB.TEST');
    expect(r.headers).toMatch(/^www-authenticate: Negotiate [A-Za-z0-9+/]+={0,2}\s*$/im);
    expect(r.trace).toMatch(/Authorization: Negotiate /);
    const got = await curl(alice, 'GET', `/builds/${r.body.id}`);
    expect(got).toMatchObject({ status: 200, body: { id: r.body.id, user: 'alice@IIB.TEST' } });
    const mine = await fetch(`${sys.api}/builds?user=${encodeURIComponent('alice@IIB.TEST')}`);
    const listed = (await mine.json()) as { items: { id: number }[] };
    expect(listed.items.map((i) => i.id)).toEqual([r.body.id]);
    expect(await logged(/"principal":"alice@IIB.TEST"/)).toMatch(/"principal":"alice@IIB.TEST"/);
  });

  it('when there are no credentials, then 401 with IIB body and both challenges; curl without a ticket gets 401 too', async () => {
    const r = await post();
    expect(r.status).toBe(401);
    expect(await r.json()).toEqual({ error: UNAUTHORIZED_MESSAGE });
    const challenge = r.headers.get('www-authenticate') ?? '';
    expect(challenge).toMatch(/(^|, )Negotiate(,|$)/);
    expect(challenge).toContain('Basic realm="IIB"');
    const c = await curl(nobody, 'POST', '/builds/create-empty-index', CEI);
    expect(c).toMatchObject({ status: 401, body: { error: UNAUTHORIZED_MESSAGE } });
    // The other mode still works beside Kerberos.
    const basic = await post({ authorization: `Basic ${Buffer.from('carol:c-pass').toString('base64')}` });
    expect(basic.status).toBe(201);
    expect(((await basic.json()) as any).user).toBe('carol');
  });

  it('when the ticket is for another service, even one whose key the keytab holds, then 401', async () => {
    const other = await curl(alice, 'POST', '/builds/create-empty-index', CEI, 'otherhost');
    expect(other).toMatchObject({ status: 401, body: { error: UNAUTHORIZED_MESSAGE } });
    expect(other.trace).toMatch(/Authorization: Negotiate /);
    const elsewhere = await curl(alice, 'POST', '/builds/create-empty-index', CEI, 'elsewhere');
    expect(elsewhere).toMatchObject({ status: 401, body: { error: UNAUTHORIZED_MESSAGE } });
    expect(elsewhere.trace).toMatch(/Authorization: Negotiate /);
    const rejected = /does not match server principal HTTP\/localhost/;
    expect(await logged(rejected)).toMatch(rejected);
  });

  it('when a token is garbage or replayed, then 401 (never 500) with a Negotiate challenge', async () => {
    const ok = await curl(alice, 'POST', '/builds/create-empty-index', CEI);
    expect(ok.status).toBe(201);
    const token = /Authorization: Negotiate (\S+)/.exec(ok.trace)?.[1];
    expect(token).toBeDefined();
    const replayed = await post({ authorization: `Negotiate ${token!}` });
    expect(replayed.status).toBe(401);
    expect(await logged(/"reason":"[^"]*replay/i)).toMatch(/"reason":"[^"]*replay/i);
    for (const t of ['YWJjZGVm', 'not base64!', `${token!.slice(0, 40)}AAAA`]) {
      const r = await post({ authorization: `Negotiate ${t}` });
      expect([t.slice(0, 12), r.status]).toEqual([t.slice(0, 12), 401]);
      expect(r.headers.get('www-authenticate')).toBe('Negotiate');
      expect(await r.json()).toEqual({ error: UNAUTHORIZED_MESSAGE });
    }
  });

  it('when a principal listed in IIB_WORKER_USERNAMES patches, then it is applied; alice gets 403', async () => {
    const c = await curl(alice, 'POST', '/builds/create-empty-index', CEI);
    expect(c.status).toBe(201);
    const change = { state: 'complete', state_reason: 'done', index_image: 'reg/iib-build:1' };
    const denied = await curl(alice, 'PATCH', `/builds/${c.body.id}`, change);
    expect(denied).toMatchObject({
      status: 403,
      body: { error: 'This API endpoint is restricted to IIB workers' },
    });
    const done = await curl(worker, 'PATCH', `/builds/${c.body.id}`, change);
    expect(done).toMatchObject({
      status: 200,
      body: { state: 'complete', user: 'alice@IIB.TEST', index_image: 'reg/iib-build:1' },
    });
  });

  it('when the configured service principal is not in the keytab, then the gateway refuses to start', async () => {
    await expect(
      sys.startExtra('gateway', { IIB_GATEWAY_PORT: '0', IIB_KERBEROS_SERVICE_PRINCIPAL: 'HTTP/elsewhere' }),
    ).rejects.toThrow(/cannot be used from/);
  });
});
