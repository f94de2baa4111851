import * as fs from 'node:fs';
import * as path from 'node:path';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver';
import { createTestPki, type TestPki } from '../support/test-pki';
import { requireBuild, startFixture, tempDir, tracingEnv } from './tracing-support';

/*
 * Issue 8 point 3: TLS to the collector with a private CA and a client
 * certificate, configured only by the standard OTEL_EXPORTER_OTLP_* file
 * variables (the OTLP exporter reads them itself).
 */
describe('OTLP export over TLS with a client certificate', () => {
  let pki: TestPki;
  let receiver: OtlpReceiver;

  beforeAll(async () => {
    requireBuild();
    pki = await createTestPki();
    const read = (f: string): Buffer => fs.readFileSync(f);
    receiver = await startOtlpReceiver({
      tls: { key: read(pki.serverKey), cert: read(pki.serverCert), clientCa: read(pki.ca) },
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
      OTEL_EXPORTER_OTLP_CERTIFICATE: pki.ca,
    };

    const refused = startFixture('one-span.js', [], tracingEnv(receiver, base));
    expect(await refused.exited).toEqual({ code: 0, signal: null });
    expect(receiver.requestCount()).toBe(0);
    expect(fs.readdirSync(bufferDir).filter((f) => f.endsWith('.otlp'))).toHaveLength(1);
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
        OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE: pki.clientCert,
        OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY: pki.clientKey,
      }),
    );
    const spans = await receiver.waitFor((s) => s.filter((x) => x.name === 'fixture.work').length === 2);
    expect(await trusted.exited).toEqual({ code: 0, signal: null });
    expect(spans.map((s) => s.traceId)).toContain(refusedTraceId);
    expect(spans.every((s) => s.serviceName === 'tracing-fixture')).toBe(true);
    expect(fs.readdirSync(bufferDir).filter((f) => f.endsWith('.otlp'))).toEqual([]);
  });
});
