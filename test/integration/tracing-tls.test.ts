import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver';
import { requireBuild, startFixture, tempDir, tracingEnv } from './tracing-support';

/*
 * Issue 8 point 3: TLS to the collector with a private CA and a client
 * certificate, configured only by the standard OTEL_EXPORTER_OTLP_* file
 * variables (the 0.223 OTLP exporter reads them itself).
 */
const run = promisify(execFile);

async function openssl(cwd: string, ...args: string[]): Promise<void> {
  await run('openssl', args, { cwd });
}

/** A CA, a server certificate for 127.0.0.1 and a client certificate, all signed by the CA. */
async function makePki(dir: string): Promise<void> {
  await openssl(
    dir,
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '1',
    '-subj',
    '/CN=iib-test-ca',
  );
  fs.writeFileSync(
    path.join(dir, 'server.ext'),
    'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n',
  );
  fs.writeFileSync(path.join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const name of ['server', 'client']) {
    await openssl(
      dir,
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=iib-test-${name}`,
    );
    await openssl(
      dir,
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '1',
      '-extfile',
      `${name}.ext`,
    );
  }
}

describe('OTLP export over TLS with a client certificate', () => {
  let pki: string;
  let receiver: OtlpReceiver;

  beforeAll(async () => {
    requireBuild();
    pki = tempDir('pki');
    await makePki(pki);
    const read = (f: string): Buffer => fs.readFileSync(path.join(pki, f));
    receiver = await startOtlpReceiver({
      tls: { key: read('server.key'), cert: read('server.crt'), clientCa: read('ca.crt') },
    });
  });
  afterAll(async () => {
    await receiver.stop();
  });

  it('when the client certificate is missing, then the collector refuses and the spans wait on disk; with it, then both runs arrive', async () => {
    const bufferRoot = tempDir('tls-buffer');
    const bufferDir = path.join(bufferRoot, 'tracing-fixture');
    const base = {
      IIB_OTEL_BUFFER_DIR: bufferRoot,
      OTEL_EXPORTER_OTLP_CERTIFICATE: path.join(pki, 'ca.crt'),
    };

    const refused = startFixture('one-span.js', [], tracingEnv(receiver, base));
    expect(await refused.exited).toEqual({ code: 0, signal: null });
    expect(receiver.requestCount()).toBe(0);
    expect(fs.readdirSync(bufferDir).filter((f) => f.endsWith('.json'))).toHaveLength(1);
    const refusedTraceId = (
      JSON.parse(
        refused
          .stdout()
          .split('\n')
          .find((l) => l.includes('"ids"'))!,
      ) as {
        ids: { traceId: string };
      }
    ).ids.traceId;

    const trusted = startFixture(
      'one-span.js',
      [],
      tracingEnv(receiver, {
        ...base,
        OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE: path.join(pki, 'client.crt'),
        OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY: path.join(pki, 'client.key'),
      }),
    );
    const spans = await receiver.waitFor((s) => s.filter((x) => x.name === 'fixture.work').length === 2);
    expect(await trusted.exited).toEqual({ code: 0, signal: null });
    expect(spans.map((s) => s.traceId)).toContain(refusedTraceId);
    expect(spans.every((s) => s.serviceName === 'tracing-fixture')).toBe(true);
    expect(fs.readdirSync(bufferDir).filter((f) => f.endsWith('.json'))).toEqual([]);
  });
});
