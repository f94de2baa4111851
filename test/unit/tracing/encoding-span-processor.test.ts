import { context, SpanKind } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { ExportResultCode, isTracingSuppressed, type ExportResult } from '@opentelemetry/core';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  TracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace';
import {
  EncodingSpanProcessor,
  type EncodedSpanExporter,
  type EncodedSpans,
  type EncodingSpanProcessorOptions,
} from '../../../shared/tracing/encoding-span-processor';
import { decodeProtobufRequest } from '../../support/otlp-receiver-decode';
import { eventually } from './memory-tracing';

/** Records every batch; answers at once, or holds the answers while `hold` is set. */
class RecordingExporter implements EncodedSpanExporter {
  readonly batches: EncodedSpans[] = [];
  readonly suppressed: boolean[] = [];
  hold = false;
  readonly held: ((r: ExportResult) => void)[] = [];
  shutdowns = 0;

  export(batch: EncodedSpans, done: (result: ExportResult) => void): void {
    this.batches.push(batch);
    this.suppressed.push(isTracingSuppressed(context.active()));
    if (this.hold) this.held.push(done);
    else done({ code: ExportResultCode.SUCCESS });
  }

  names(): string[][] {
    return this.batches.map((b) => decodeProtobufRequest(Buffer.from(b.bytes)).map((s) => s.name));
  }

  async shutdown(): Promise<void> {
    this.shutdowns += 1;
  }
}

function setup(
  options: EncodingSpanProcessorOptions = {},
  sampled = true,
  resource = resourceFromAttributes({ 'service.name': 'iib-scheduler' }),
) {
  const exporter = new RecordingExporter();
  const warnings: string[] = [];
  const processor = new EncodingSpanProcessor(exporter, {
    scheduledDelayMillis: 60_000,
    warn: (msg) => warnings.push(msg),
    ...options,
  });
  const memory = new InMemorySpanExporter();
  const provider = new TracerProvider({
    resource,
    spanProcessors: [new SimpleSpanProcessor({ exporter: memory }), processor],
    ...(sampled ? {} : { sampler: new AlwaysOffSampler() }),
  });
  const tracers = [provider.getTracer('@iib/instrumentation-rhea'), provider.getTracer('iib.steps', '1.0.0')];
  const end = (...names: string[]): void => {
    names.forEach((name, i) =>
      tracers[i % 2]!.startSpan(name, { kind: SpanKind.PRODUCER, attributes: { n: i } }).end(),
    );
  };
  return { exporter, processor, warnings, memory, end };
}

describe('EncodingSpanProcessor', () => {
  // A context manager, so that the export's suppressed context is visible.
  beforeAll(() => context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable()));
  afterAll(() => context.disable());

  it('when spans of two scopes end, then the batch holds the bytes the library would send for them', async () => {
    const { exporter, processor, memory, end } = setup();
    end('a', 'b', 'c', 'd', 'e');
    await processor.forceFlush();
    expect(exporter.batches).toHaveLength(1);
    expect(exporter.batches[0]!.spans).toBe(5);
    const library = ProtobufTraceSerializer.serializeRequest(memory.getFinishedSpans())!;
    expect(Buffer.from(exporter.batches[0]!.bytes).equals(Buffer.from(library))).toBe(true);
  });

  it('when a batch fills up, then it is sent at once; the rest waits for the delay', async () => {
    const { exporter, processor, end } = setup({ maxExportBatchSize: 3, scheduledDelayMillis: 50 });
    end('1', '2', '3', '4');
    expect(exporter.names()).toEqual([['1', '3', '2']]); // grouped by scope: rhea then steps
    await eventually(() => exporter.batches.length === 2, 'the delayed batch');
    expect(exporter.names()[1]).toEqual(['4']);
    expect(exporter.suppressed).toEqual([true, true]);
    await processor.shutdown();
  });

  it('when spans are not sampled, then nothing is encoded or sent', async () => {
    const { exporter, processor, end } = setup({}, false);
    end('dropped');
    await processor.forceFlush();
    expect(exporter.batches).toEqual([]);
  });

  it('when the exporter does not answer and the queue is full, then new spans are dropped with one warning, and accepted again after the answer', async () => {
    const { exporter, processor, warnings, end } = setup({ maxExportBatchSize: 2, maxQueueSize: 4 });
    exporter.hold = true;
    end('1', '2'); // batch one, being exported
    end('3', '4'); // batch two, queued
    end('5', '6'); // over the bound
    expect(exporter.batches).toHaveLength(1);
    expect(warnings).toEqual(['span queue full: dropping spans until an export completes']);
    exporter.hold = false;
    exporter.held.shift()!({ code: ExportResultCode.SUCCESS }); // batch one answered: batch two goes
    end('7', '8');
    await processor.forceFlush();
    expect(exporter.names().map((names) => names.sort())).toEqual([
      ['1', '2'],
      ['3', '4'],
      ['7', '8'],
    ]);
  });

  it('when an export never answers, then it counts as failed after the timeout and the next batch goes', async () => {
    const { exporter, processor, warnings, end } = setup({ maxExportBatchSize: 1, exportTimeoutMillis: 30 });
    exporter.hold = true;
    end('stuck');
    exporter.hold = false;
    end('next');
    await eventually(() => exporter.batches.length === 2, 'the next batch after the timeout');
    expect(warnings).toEqual(['span export timed out: spans dropped']);
    exporter.held[0]!({ code: ExportResultCode.SUCCESS }); // a late answer changes nothing
    await processor.forceFlush();
    expect(exporter.names()).toEqual([['stuck'], ['next']]);
  });

  it('when the resource has attributes that a detector still resolves, then the batch waits for them', async () => {
    const late = new Promise<string>((resolve) => setTimeout(() => resolve('machine-1'), 30));
    const resource = resourceFromAttributes({ 'service.name': 'iib-scheduler', 'host.id': late });
    const { exporter, processor, end } = setup({ maxExportBatchSize: 1 }, true, resource);
    end('early');
    expect(exporter.batches).toEqual([]); // not cut before host.id is known
    await processor.forceFlush();
    const [span] = decodeProtobufRequest(Buffer.from(exporter.batches[0]!.bytes));
    expect(span!.resource['host.id']).toBe('machine-1');
    expect(span!.name).toBe('early');
  });

  it('when shut down, then what is open is sent, the exporter is shut down once, and later spans are ignored', async () => {
    const { exporter, processor, end } = setup();
    end('last');
    await processor.shutdown();
    await processor.shutdown();
    end('after');
    expect(exporter.names()).toEqual([['last']]);
    expect(exporter.shutdowns).toBe(1);
  });
});
