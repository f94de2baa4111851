import { once } from 'node:events';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runCli } from '../../services/cli/main';
import { KerberosModule, negotiateHeader } from '../../services/cli/negotiate';
import { captureIo } from '../unit/cli/capture';

interface Seen {
  method: string;
  url: string;
  authorization?: string;
  body: string;
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void | Promise<void>;

/** A tiny HTTP server standing in for the gateway: each test sets what it answers. */
describe('iib against a local HTTP server (auth handshakes, errors, streams, waits)', () => {
  let server: Server;
  let base: string;
  let handler: Handler;
  let seen: Seen[];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({
          method: req.method ?? '',
          url: req.url ?? '',
          authorization: req.headers.authorization,
          body,
        });
        void Promise.resolve(handler(req, res, body)).catch((err: unknown) => {
          res.statusCode = 500;
          res.end(String(err));
        });
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  beforeEach(() => {
    seen = [];
  });

  const json = (
    res: ServerResponse,
    status: number,
    value: unknown,
    headers: Record<string, string> = {},
  ): void => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(value));
  };

  const created = {
    id: 7,
    request_type: 'create-empty-index',
    state: 'in_progress',
    state_reason: 'The request was initiated',
    batch: 7,
  };

  it('when the server asks for Basic, then the CLI retries with the user and IIB_PASSWORD, resending the body', async () => {
    const expected = `Basic ${Buffer.from('alice:pw').toString('base64')}`;
    handler = (req, res) =>
      req.headers.authorization === expected
        ? json(res, 201, created)
        : json(res, 401, { error: 'login required' }, { 'www-authenticate': 'Basic realm="iib"' });
    const c = captureIo({ IIB_PASSWORD: 'pw' });
    const code = await runCli(
      ['create-empty-index', '--from-index', 'i:1', '--user', 'alice', '--server', base],
      c.io,
    );
    expect(code).toBe(0);
    expect(c.out()).toBe('7\n');
    expect(seen.map((s) => s.authorization)).toEqual([undefined, expected]);
    expect(JSON.parse(seen[1]!.body)).toEqual({ from_index: 'i:1' });
    expect(seen[1]!.url).toBe('/api/v1/builds/create-empty-index');
  });

  it('when a Bearer token is set in IIB_TOKEN, then it is sent on the first call and never printed', async () => {
    handler = (_req, res) => json(res, 201, created);
    const c = captureIo({ IIB_TOKEN: 'tok-123', IIB_SERVER: base });
    const code = await runCli(['create-empty-index', '--from-index', 'i:1', '--json'], c.io);
    expect(code).toBe(0);
    expect(seen.map((s) => s.authorization)).toEqual(['Bearer tok-123']);
    expect(JSON.parse(c.out())).toMatchObject({ id: 7 });
    expect(c.out() + c.err()).not.toContain('tok-123');
  });

  it('when the server answers 401 with WWW-Authenticate: Negotiate, then --kerberos retries with a SPNEGO token for HTTP@<host>', async () => {
    handler = (req, res) =>
      req.headers.authorization === 'Negotiate c3BuZWdv'
        ? json(res, 201, created)
        : json(res, 401, { error: 'login required' }, { 'www-authenticate': 'Negotiate' });
    const services: string[] = [];
    const fake: KerberosModule = {
      GSS_MECH_OID_SPNEGO: 6,
      initializeClient: (service) => {
        services.push(service);
        return Promise.resolve({
          step: (challenge: string) => Promise.resolve(challenge === '' ? 'c3BuZWdv' : 'x'),
        });
      },
    };
    const c = captureIo();
    const code = await runCli(
      ['create-empty-index', '--from-index', 'i:1', '--kerberos', '--server', base],
      c.io,
      {
        negotiate: (url) => negotiateHeader(url, () => fake),
      },
    );
    expect(c.err()).toContain('submitted request 7');
    expect(code).toBe(0);
    expect(services).toEqual(['HTTP@127.0.0.1']);
    expect(seen.map((s) => s.authorization)).toEqual([undefined, 'Negotiate c3BuZWdv']);
  });

  it('when --kerberos is used but the server does not offer Negotiate, then the CLI says so', async () => {
    handler = (_req, res) => json(res, 401, { error: 'no' }, { 'www-authenticate': 'Basic realm="iib"' });
    const c = captureIo();
    const code = await runCli(
      ['create-empty-index', '--from-index', 'i:1', '--kerberos', '--server', base],
      c.io,
      {
        negotiate: () => Promise.reject(new Error('must not be called')),
      },
    );
    expect(code).toBe(1);
    expect(c.err()).toContain('does not offer Kerberos (WWW-Authenticate: Basic realm="iib")');
  });

  it('when --kerberos runs with the real kerberos package and no ticket, then it fails with a clear message', async () => {
    handler = (_req, res) => json(res, 401, { error: 'no' }, { 'www-authenticate': 'Negotiate' });
    let loadable = true;
    try {
      require.resolve('kerberos/build/Release/kerberos.node');
    } catch {
      loadable = false;
    }
    const saved = process.env.KRB5CCNAME;
    process.env.KRB5CCNAME = 'FILE:/nonexistent/iib-cli-test-ccache';
    try {
      const c = captureIo();
      const code = await runCli(
        ['create-empty-index', '--from-index', 'i:1', '--kerberos', '--server', base],
        c.io,
      );
      expect(code).toBe(1);
      if (loadable) {
        expect(c.err()).toContain('Kerberos authentication to HTTP@127.0.0.1 failed');
        expect(c.err()).toContain('kinit');
      } else {
        expect(c.err()).toContain('--kerberos needs the "kerberos" npm package');
      }
      expect(seen).toHaveLength(1);
    } finally {
      if (saved === undefined) delete process.env.KRB5CCNAME;
      else process.env.KRB5CCNAME = saved;
    }
  });

  it('when the API answers {"error": ...}, then the message is printed plainly with the status, exit 1', async () => {
    handler = (_req, res) => json(res, 400, { error: 'Missing required parameter(s): from_index' });
    const c = captureIo();
    const code = await runCli(['create-empty-index', '--server', base], c.io);
    expect(code).toBe(1);
    expect(c.err()).toBe('iib: Missing required parameter(s): from_index (HTTP 400)\n');
  });

  it('when nothing listens on the server port, then the CLI explains the refused connection, exit 3', async () => {
    const probe = createServer();
    probe.listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const c = captureIo();
    const code = await runCli(['get', '1', '--server', `http://127.0.0.1:${port}`], c.io);
    expect(code).toBe(3);
    expect(c.err()).toContain(
      `cannot reach the IIB API at http://127.0.0.1:${port}/api/v1 (connection refused)`,
    );
  });

  it('when logs --follow streams chunk by chunk, then every chunk is printed as it comes and the exit follows the final state', async () => {
    let written = 0;
    handler = async (req, res) => {
      if (req.url === '/api/v1/builds/5/logs?follow=true') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        for (const line of ['one\n', 'two\n', 'three\n']) {
          res.write(line);
          written += 1;
          await new Promise((r) => setTimeout(r, 150));
        }
        res.end();
      } else {
        json(res, 200, { id: 5, request_type: 'add', state: 'failed', state_reason: 'bundle not found' });
      }
    };
    const c = captureIo();
    const outputs: string[] = [];
    const write = c.io.stdout.write.bind(c.io.stdout);
    c.io.stdout.write = (s: string) => {
      outputs.push(`${written}:${s}`);
      return write(s);
    };
    const code = await runCli(['logs', '5', '--follow', '--server', base], c.io);
    expect(c.out()).toBe('one\ntwo\nthree\n');
    // Each chunk reached stdout before the server wrote the next one: streamed, not buffered.
    expect(outputs).toEqual(['1:one\n', '2:two\n', '3:three\n']);
    expect(c.err()).toContain('request 5 failed: bundle not found');
    expect(code).toBe(1);
  });

  it('when a batch is submitted with --wait, then every request is followed and one failure makes the exit 1', async () => {
    let polls = 0;
    handler = (req, res) => {
      if (req.method === 'POST') {
        json(res, 201, [
          {
            id: 11,
            request_type: 'add',
            state: 'in_progress',
            state_reason: 'The request was initiated',
            batch: 3,
          },
          {
            id: 12,
            request_type: 'rm',
            state: 'in_progress',
            state_reason: 'The request was initiated',
            batch: 3,
          },
        ]);
        return;
      }
      polls += 1;
      const id = Number(/\/builds\/(\d+)$/.exec(req.url ?? '')?.[1]);
      const done = polls > 2;
      json(res, 200, {
        id,
        request_type: id === 11 ? 'add' : 'rm',
        batch: 3,
        state: done ? (id === 11 ? 'complete' : 'failed') : 'in_progress',
        state_reason: done ? (id === 11 ? 'added' : 'operator not in index') : 'Building',
        state_history: [],
      });
    };
    const c = captureIo({}, false);
    const body = JSON.stringify({
      build_requests: [
        { from_index: 'i:1', bundles: ['b:1'] },
        { from_index: 'i:1', operators: ['x'] },
      ],
    });
    const code = await runCli(
      ['add-rm-batch', '-f', 'b.json', '--wait', '--poll-interval', '0.05', '--server', base, '--json'],
      c.io,
      { readFile: () => body },
    );
    expect(code).toBe(1);
    const final = JSON.parse(c.out()) as { id: number; state: string }[];
    expect(final.map((r) => [r.id, r.state])).toEqual([
      [11, 'complete'],
      [12, 'failed'],
    ]);
    expect(c.err()).toContain('2 requests: 2 in_progress');
    expect(c.err()).toContain('✖ 1 of 2 requests failed');
    expect(c.err()).toContain('request 12 rm failed: operator not in index');
  });

  it('when wait is given earlier requests, then it follows them to the end, exit 0 when all complete', async () => {
    const asked = new Map<number, number>();
    handler = (req, res) => {
      const id = Number(/\/builds\/(\d+)$/.exec(req.url ?? '')?.[1]);
      asked.set(id, (asked.get(id) ?? 0) + 1);
      const done = (asked.get(id) ?? 0) > 2;
      json(res, 200, {
        id,
        request_type: 'rm',
        state: done ? 'complete' : 'in_progress',
        state_reason: done ? 'removed' : 'Building',
        state_history: [],
      });
    };
    const c = captureIo();
    const code = await runCli(['wait', '21', '22', '--poll-interval', '0.05', '--server', base], c.io);
    expect(c.err()).toContain('✔ 2 requests complete');
    expect(c.out()).toContain('Request 21 (rm): complete');
    expect(c.out()).toContain('Request 22 (rm): complete');
    expect(code).toBe(0);
  });

  it('when --timeout passes before the request is final, then the wait gives up with exit 4 and the request id', async () => {
    handler = (req, res) =>
      req.method === 'POST'
        ? json(res, 201, created)
        : json(res, 200, { ...created, state_reason: 'Building', state_history: [] });
    const c = captureIo();
    const code = await runCli(
      [
        'create-empty-index',
        '--from-index',
        'i:1',
        '--wait',
        '--poll-interval',
        '0.05',
        '--timeout',
        '0.3',
        '--server',
        base,
      ],
      c.io,
    );
    expect(code).toBe(4);
    expect(c.err()).toContain('gave up waiting after 0.3 s; the request goes on (iib get 7)');
  });
});
