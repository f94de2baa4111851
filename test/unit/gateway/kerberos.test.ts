import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Request, Response } from 'express';
import pino from 'pino';
import { loadGatewayConfig } from '../../../shared/config';
import { DependencyError } from '../../../shared/errors';
import { AuthenticationFailed, createAuthenticators } from '../../../services/gateway/auth';
import { kerberosAuthenticator, userFromPrincipal } from '../../../services/gateway/auth/kerberos';
import {
  AcceptorUnavailable,
  acceptorName,
  GssAcceptor,
  keytabAcceptor,
  TicketRejected,
} from '../../../services/gateway/auth/kerberos-gssapi';

const log = pino({ level: 'silent' });

function request(authorization?: string): Request {
  return {
    get: (name: string) => (name.toLowerCase() === 'authorization' ? authorization : undefined),
  } as Request;
}

function response(): Response & { headers: Record<string, string> } {
  const headers: Record<string, string> = {};
  return {
    headers,
    set(name: string, value: string) {
      headers[name.toLowerCase()] = value;
      return this;
    },
  } as unknown as Response & { headers: Record<string, string> };
}

describe('Kerberos principal names', () => {
  it('when a principal is configured, then GSSAPI gets the host-based name without the realm', () => {
    expect(acceptorName('HTTP/iib.example.com@EXAMPLE.COM')).toBe('HTTP@iib.example.com');
    expect(acceptorName('HTTP/localhost')).toBe('HTTP@localhost');
    expect(acceptorName('HTTP@localhost')).toBe('HTTP@localhost');
    expect(acceptorName('*')).toBe('');
    expect(acceptorName('')).toBe('');
    expect(() => acceptorName('HTTP/a/b@R')).toThrow(/SERVICE\/host/);
    expect(() => acceptorName('/host')).toThrow(/SERVICE\/host/);
  });

  it('when no realm is listed, then the user is the whole principal, as IIB stores REMOTE_USER', () => {
    expect(userFromPrincipal('alice@IIB.TEST', [])).toBe('alice@IIB.TEST');
    expect(userFromPrincipal('iib-worker/host.example.com@IIB.TEST', [])).toBe(
      'iib-worker/host.example.com@IIB.TEST',
    );
  });

  it('when the realm is listed in IIB_KERBEROS_STRIP_REALMS, then only that realm is stripped', () => {
    expect(userFromPrincipal('alice@IIB.TEST', ['IIB.TEST'])).toBe('alice');
    expect(userFromPrincipal('alice@OTHER.TEST', ['IIB.TEST'])).toBe('alice@OTHER.TEST');
    // An escaped @ belongs to the name, not the realm separator.
    expect(userFromPrincipal('a\\@b@IIB.TEST', ['IIB.TEST'])).toBe('a\\@b');
    expect(userFromPrincipal('a\\@IIB.TEST', ['IIB.TEST'])).toBe('a\\@IIB.TEST');
  });
});

describe('kerberos authenticator', () => {
  const acceptor = (accept: GssAcceptor['accept']): GssAcceptor => ({ accept, check: async () => {} });

  it('when there is no Negotiate header, then it does not claim the request', async () => {
    const a = kerberosAuthenticator({
      acceptor: acceptor(() => Promise.reject(new Error('no'))),
      stripRealms: [],
      log,
    });
    expect(await a.authenticate(request(), response())).toBeNull();
    expect(await a.authenticate(request('Basic YTpi'), response())).toBeNull();
    expect(a.challenge).toBe('Negotiate');
  });

  it('when GSSAPI accepts, then the principal is the user and the mutual-auth token is answered', async () => {
    const seen: string[] = [];
    const a = kerberosAuthenticator({
      acceptor: acceptor(async (token) => {
        seen.push(token);
        return { principal: 'alice@IIB.TEST', response: 'bXV0dWFs' };
      }),
      stripRealms: [],
      log,
    });
    const res = response();
    expect(await a.authenticate(request('negotiate YWJj'), res)).toBe('alice@IIB.TEST');
    expect(seen).toEqual(['YWJj']);
    expect(res.headers['www-authenticate']).toBe('Negotiate bXV0dWFs');
  });

  it('when the ticket is rejected, then 401 with a Negotiate challenge; when the keytab fails, then 503', async () => {
    const rejected = kerberosAuthenticator({
      acceptor: acceptor(() => Promise.reject(new TicketRejected('wrong principal'))),
      stripRealms: [],
      log,
    });
    const err = await rejected.authenticate(request('Negotiate YWJj'), response()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthenticationFailed);
    expect((err as AuthenticationFailed).challenges).toEqual(['Negotiate']);
    const broken = kerberosAuthenticator({
      acceptor: acceptor(() => Promise.reject(new AcceptorUnavailable('no keytab'))),
      stripRealms: [],
      log,
    });
    const down = await broken.authenticate(request('Negotiate YWJj'), response()).catch((e: unknown) => e);
    expect(down).toBeInstanceOf(DependencyError);
    expect((down as DependencyError).status).toBe(503);
  });
});

describe('keytab acceptor', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  const keytab = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'iib-kt-'));
    dirs.push(dir);
    const file = join(dir, 'http.keytab');
    writeFileSync(file, 'not really a keytab');
    return file;
  };

  it('when created, then libkrb5 is pointed at the keytab and the host-based name is used', async () => {
    const env: NodeJS.ProcessEnv = {};
    const names: string[] = [];
    const file = keytab();
    const acc = keytabAcceptor({
      keytab: file,
      servicePrincipal: 'HTTP/localhost@IIB.TEST',
      env,
      binding: {
        initializeServer: async (name) => {
          names.push(name);
          return {
            username: 'alice@IIB.TEST',
            response: '',
            contextComplete: true,
            step: async () => '',
          };
        },
      },
    });
    expect(env.KRB5_KTNAME).toBe(`FILE:${file}`);
    expect(await acc.accept('YWJj')).toEqual({ principal: 'alice@IIB.TEST', response: undefined });
    expect(names).toEqual(['HTTP@localhost']);
  });

  it('when a token is not base64 or the context is incomplete, then it is rejected before or after GSSAPI', async () => {
    let steps = 0;
    const acc = keytabAcceptor({
      keytab: keytab(),
      servicePrincipal: '*',
      env: {},
      binding: {
        initializeServer: async () => ({
          username: '',
          response: '',
          contextComplete: false,
          step: async () => {
            steps++;
            return '';
          },
        }),
      },
    });
    await expect(acc.accept('not base64!')).rejects.toBeInstanceOf(TicketRejected);
    expect(steps).toBe(0);
    await expect(acc.accept('YWJj')).rejects.toThrow(/not complete/);
    expect(steps).toBe(1);
  });

  it('when the keytab cannot be read or the service key cannot be loaded, then it says so', async () => {
    expect(() =>
      keytabAcceptor({
        keytab: '/nonexistent/http.keytab',
        servicePrincipal: '*',
        env: {},
        binding: { initializeServer: jest.fn() },
      }),
    ).toThrow(/IIB_KERBEROS_KEYTAB \/nonexistent\/http.keytab cannot be read/);
    const acc = keytabAcceptor({
      keytab: keytab(),
      servicePrincipal: 'HTTP/nothere',
      env: {},
      binding: { initializeServer: () => Promise.reject(new Error('No key table entry found')) },
    });
    await expect(acc.check()).rejects.toThrow(/HTTP\/nothere.*No key table entry found/);
    await expect(acc.accept('YWJj')).rejects.toBeInstanceOf(AcceptorUnavailable);
  });
});

describe('kerberos configuration', () => {
  it('when IIB_AUTH_MODES names kerberos, then it is accepted, and it needs a keytab', () => {
    const config = loadGatewayConfig({
      IIB_AUTH_MODES: 'kerberos,basic',
      IIB_KERBEROS_STRIP_REALMS: 'A.TEST,B.TEST',
    });
    expect(config.authModes).toEqual(['kerberos', 'basic']);
    expect(config.kerberosStripRealms).toEqual(['A.TEST', 'B.TEST']);
    expect(config.kerberosServicePrincipal).toMatch(/^HTTP\/.+/);
    expect(() => createAuthenticators({ ...config, authModes: ['kerberos'] }, log)).toThrow(
      /needs IIB_KERBEROS_KEYTAB/,
    );
    expect(() => loadGatewayConfig({ IIB_AUTH_MODES: 'kerberos,ntlm' })).toThrow(
      /unknown auth mode\(s\) ntlm/,
    );
  });
});
