import * as fs from 'node:fs';
import * as path from 'node:path';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { TracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import type { EncodedSpanExporter, EncodedSpans } from '../../shared/tracing/encoding-span-processor';
import { OtlpSpanEncoder } from '../../shared/tracing/otlp-span-encoder';
import { BufferingSpanExporter, type SpanBufferOptions } from '../../shared/tracing/span-buffer';
import { decodeProtobufRequest } from '../support/otlp-receiver-decode';
import { eventually } from '../unit/tracing/memory-tracing';
import { tempDir } from './tracing-support';

/*
 * The disk buffer on a real directory, in front of a collector stand-in whose
 * availability the test switches (the OTLP path end to end is in
 * tracing-buffer.test.ts).
 */
class SwitchableCollector implements EncodedSpanExporter {
  up = true;
  refuseWith: number | undefined;
  calls = 0;
  readonly received: string[] = [];

  export(batch: EncodedSpans, done: (result: ExportResult) => void): void {
    this.calls++;
    setImmediate(() => {
      if (this.refuseWith !== undefined) {
        done({
          code: ExportResultCode.FAILED,
          error: Object.assign(new Error('refused'), { code: this.refuseWith }),
        });
      } else if (this.up) {
        this.received.push(...decodeProtobufRequest(Buffer.from(batch.bytes)).map((s) => s.name));
        done({ code: ExportResultCode.SUCCESS });
      } else done({ code: ExportResultCode.FAILED, error: new Error('connect ECONNREFUSED') });
    });
  }

  async shutdown(): Promise<void> {}
}

const finishedSpans = (() => {
  const memory = new InMemorySpanExporter();
  const tracer = new TracerProvider({
    spanProcessors: [new SimpleSpanProcessor({ exporter: memory })],
  }).getTracer('buffer-test');
  return (...names: string[]) => {
    memory.reset();
    for (const name of names) tracer.startSpan(name).end();
    return memory.getFinishedSpans();
  };
})();

/** A batch as the span processor hands it over: one OTLP request. */
function makeSpans(...names: string[]): EncodedSpans {
  return { bytes: new OtlpSpanEncoder().encode(finishedSpans(...names)), spans: names.length };
}

function exportNow(exporter: EncodedSpanExporter, batch: EncodedSpans): Promise<ExportResult> {
  return new Promise((resolve) => exporter.export(batch, resolve));
}

const files = (dir: string): string[] => fs.readdirSync(dir).filter((f) => !f.endsWith('.tmp'));

function setup(overrides: Partial<SpanBufferOptions> = {}) {
  const dir = tempDir('span-buffer-unit');
  const warnings: string[] = [];
  const collector = new SwitchableCollector();
  const options: SpanBufferOptions = {
    dir,
    maxBytes: 10_000_000,
    maxSpans: 1000,
    retryMs: 20,
    warn: (msg) => warnings.push(msg),
    ...overrides,
  };
  return { dir, warnings, collector, options, exporter: new BufferingSpanExporter(collector, options) };
}

const setupOptions = (dir: string): SpanBufferOptions => ({
  dir,
  maxBytes: 10_000_000,
  maxSpans: 1000,
  retryMs: 60_000,
  warn: () => undefined,
});

describe('BufferingSpanExporter', () => {
  it('when the collector is down, then batches go to disk and, once it is back, arrive once each, oldest first', async () => {
    const { dir, collector, exporter, warnings } = setup();
    collector.up = false;
    expect((await exportNow(exporter, makeSpans('a1', 'a2'))).code).toBe(ExportResultCode.SUCCESS);
    const callsWhenOffline = collector.calls;
    expect((await exportNow(exporter, makeSpans('b1'))).code).toBe(ExportResultCode.SUCCESS);
    expect(collector.calls).toBe(callsWhenOffline); // offline: straight to disk, no timeout paid
    expect(files(dir)).toHaveLength(2);
    expect(warnings).toEqual(['collector unreachable: buffering spans on disk']);

    collector.up = true;
    await eventually(() => files(dir).length === 0, 'the buffer to drain');
    expect(collector.received).toEqual(['a1', 'a2', 'b1']);
    expect((await exportNow(exporter, makeSpans('c1'))).code).toBe(ExportResultCode.SUCCESS);
    expect(collector.received).toEqual(['a1', 'a2', 'b1', 'c1']);
    await exporter.shutdown();
  });

  it('when the buffer exceeds its span limit, then the oldest batches are dropped with a warning', async () => {
    const { dir, collector, exporter, warnings } = setup({ maxSpans: 4, retryMs: 60_000 });
    collector.up = false;
    for (const batch of [
      ['1a', '1b'],
      ['2a', '2b'],
      ['3a', '3b'],
    ])
      await exportNow(exporter, makeSpans(...batch));
    expect(exporter.bufferedSpans).toBe(4);
    expect(files(dir)).toHaveLength(2);
    expect(warnings).toContain('span buffer full: dropped the oldest spans');
    await exporter.shutdown();
    const collectorBack = new SwitchableCollector();
    const next = new BufferingSpanExporter(collectorBack, setupOptions(dir));
    await next.shutdown();
    expect(collectorBack.received).toEqual(['2a', '2b', '3a', '3b']);
  });

  it('when the buffer exceeds its byte limit, then the oldest batches are dropped', async () => {
    const maxBytes = Math.floor(2.5 * makeSpans('span-0').bytes.length);
    const { dir, collector, exporter } = setup({ maxBytes, retryMs: 60_000 });
    collector.up = false;
    for (let i = 0; i < 5; i++) await exportNow(exporter, makeSpans(`span-${i}`));
    const bytes = files(dir).reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);
    expect(bytes).toBeLessThanOrEqual(maxBytes);
    expect(files(dir).length).toBeLessThan(5);
    await exporter.shutdown();
  });

  it('when a process restarts on a buffer left by a previous run, then it sends it and cleans up leftovers', async () => {
    const first = setup({ retryMs: 60_000 });
    first.collector.up = false;
    await exportNow(first.exporter, makeSpans('old-1'));
    await exportNow(first.exporter, makeSpans('old-2'));
    await first.exporter.shutdown();
    const [oldest] = files(first.dir).sort();
    // A crash while sending (claimed by a pid that is gone) and while writing.
    fs.renameSync(path.join(first.dir, oldest!), path.join(first.dir, `${oldest!}.sending-2147483646`));
    fs.writeFileSync(path.join(first.dir, '00000000000001-1-00000000-1.otlp.tmp'), 'partial');

    const collector = new SwitchableCollector();
    const second = new BufferingSpanExporter(collector, { ...first.options, retryMs: 20 });
    await eventually(() => collector.received.length === 2, 'the previous run to be sent');
    expect(collector.received).toEqual(['old-1', 'old-2']);
    // A batch's file is removed after the collector's answer, not before it.
    await eventually(() => fs.readdirSync(first.dir).length === 0, 'the sent batches to be removed');
    expect(fs.readdirSync(first.dir)).toEqual([]);
    await second.shutdown();
  });

  it('when the collector refuses a batch for good (HTTP 400), then it is dropped, not buffered', async () => {
    const { dir, collector, exporter, warnings } = setup();
    collector.refuseWith = 400;
    expect((await exportNow(exporter, makeSpans('bad'))).code).toBe(ExportResultCode.FAILED);
    expect(files(dir)).toEqual([]);
    expect(warnings).toEqual(['collector refused spans: dropped']);
    await exporter.shutdown();
  });

  it('when a short-lived process shuts down before its background retry, then the buffer is still sent', async () => {
    const first = setup({ retryMs: 60_000 });
    first.collector.up = false;
    await exportNow(first.exporter, makeSpans('waiting'));
    await first.exporter.shutdown();
    const collector = new SwitchableCollector();
    const next = new BufferingSpanExporter(collector, setupOptions(first.dir));
    await next.shutdown(); // before the start-up drain timer could fire
    expect(collector.received).toEqual(['waiting']);
    expect(files(first.dir)).toEqual([]);
  });
});
