import { context, diag, TraceFlags, type Context } from '@opentelemetry/api';
import { ExportResultCode, getNumberFromEnv, suppressTracing, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace';
import { OtlpSpanEncoder, sectionOf, type SpanSections } from './otlp-span-encoder';
import { warnTracing, type TracingWarn } from './tracing-log';

/** One ExportTraceServiceRequest, encoded, and how many spans it holds. */
export interface EncodedSpans {
  readonly bytes: Uint8Array;
  readonly spans: number;
}

/** An exporter of encoded batches (the OTLP/HTTP exporter, or the disk buffer in front of it). */
export interface EncodedSpanExporter {
  export(batch: EncodedSpans, done: (result: ExportResult) => void): void;
  forceFlush?(): Promise<void>;
  shutdown(): Promise<void>;
}

export interface EncodingSpanProcessorOptions {
  /** Spans per request (`OTEL_BSP_MAX_EXPORT_BATCH_SIZE`, default 512). */
  maxExportBatchSize?: number;
  /** A batch that has not filled up is sent after this long (`OTEL_BSP_SCHEDULE_DELAY`, default 5000 ms). */
  scheduledDelayMillis?: number;
  /**
   * Spans held at most, encoded or being exported; more are dropped
   * (`OTEL_BSP_MAX_QUEUE_SIZE`, default 2048). A batch cut while a resource's
   * attributes are still being detected may hold more than a batch's size.
   */
  maxQueueSize?: number;
  /** An export that has not answered after this long counts as failed (`OTEL_BSP_EXPORT_TIMEOUT`, default 30000 ms). */
  exportTimeoutMillis?: number;
  warn?: TracingWarn;
}

/**
 * The BatchSpanProcessor's contract (same `OTEL_BSP_*` settings, same
 * bounded queue, one export at a time), except that a span is encoded to
 * OTLP protobuf when it ends rather than when its batch is sent. A finished
 * span then dies young instead of waiting, with its attributes, links and
 * context, for the batch to fill; the queue holds bytes (about 0.5 KiB per
 * span), and the disk buffer writes them as they are.
 */
export class EncodingSpanProcessor implements SpanProcessor {
  private readonly maxExportBatchSize: number;
  private readonly scheduledDelayMillis: number;
  private readonly maxQueueSize: number;
  private readonly exportTimeoutMillis: number;
  private readonly warn: TracingWarn;
  private readonly sections: SpanSections = new Map();
  private readonly envelope = new OtlpSpanEncoder();
  /** Spans encoded into the sections, not yet cut into a batch. */
  private open = 0;
  private readonly queue: EncodedSpans[] = [];
  /** Spans in the queue or being exported. */
  private queued = 0;
  private exporting = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private dropping = false;
  /** Waiting for a resource's asynchronous attributes (a detector's) before cutting. */
  private waitingForResource = false;
  private readonly idleWaiters: (() => void)[] = [];

  constructor(
    private readonly exporter: EncodedSpanExporter,
    options: EncodingSpanProcessorOptions = {},
  ) {
    this.warn = options.warn ?? warnTracing;
    this.maxQueueSize = positive(options.maxQueueSize ?? getNumberFromEnv('OTEL_BSP_MAX_QUEUE_SIZE'), 2048);
    const batch = positive(
      options.maxExportBatchSize ?? getNumberFromEnv('OTEL_BSP_MAX_EXPORT_BATCH_SIZE'),
      512,
    );
    this.maxExportBatchSize = Math.min(batch, this.maxQueueSize);
    this.scheduledDelayMillis = positive(
      options.scheduledDelayMillis ?? getNumberFromEnv('OTEL_BSP_SCHEDULE_DELAY'),
      5000,
    );
    this.exportTimeoutMillis = positive(
      options.exportTimeoutMillis ?? getNumberFromEnv('OTEL_BSP_EXPORT_TIMEOUT'),
      30_000,
    );
  }

  onStart(_span: Span, _parentContext: Context): void {}

  onEnd(span: ReadableSpan): void {
    if (this.stopped || (span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
    if (this.open + this.queued >= this.maxQueueSize) {
      if (!this.dropping) {
        this.dropping = true;
        this.warn('span queue full: dropping spans until an export completes', {
          maxQueueSize: this.maxQueueSize,
        });
      }
      return;
    }
    sectionOf(this.sections, span).appendSpan(span);
    this.open += 1;
    if (this.open >= this.maxExportBatchSize) this.cut();
    else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.cut();
      }, this.scheduledDelayMillis);
      this.timer.unref();
    }
  }

  /** Sends everything encoded so far and waits until every export has answered. */
  async forceFlush(): Promise<void> {
    this.cut();
    if (this.waitingForResource || this.exporting || this.queue.length > 0)
      await new Promise<void>((r) => this.idleWaiters.push(r));
    await this.exporter.forceFlush?.();
  }

  async shutdown(): Promise<void> {
    if (this.stopped) return;
    await this.forceFlush();
    this.stopped = true;
    await this.exporter.shutdown();
  }

  /** The open spans become a batch in the queue. */
  private cut(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.open === 0 || this.waitingForResource) return;
    // As the BatchSpanProcessor does: a resource is encoded once its
    // detectors' asynchronous attributes (e.g. host.id) have settled.
    const pending = [...this.sections.keys()].filter((r) => r.asyncAttributesPending);
    if (pending.length > 0) {
      this.waitingForResource = true;
      void Promise.all(pending.map((r) => r.waitForAsyncAttributes?.() ?? Promise.resolve()))
        .catch(() => undefined)
        .then(() => {
          this.waitingForResource = false;
          this.cut();
        });
      return;
    }
    // Sections that took no span since the last batch go: a scope or
    // resource that is no longer used holds no buffer.
    for (const [resource, scopes] of this.sections) {
      for (const [scope, section] of scopes) if (section.length === 0) scopes.delete(scope);
      if (scopes.size === 0) this.sections.delete(resource);
    }
    const batch: EncodedSpans = { bytes: this.envelope.request(this.sections), spans: this.open };
    this.open = 0;
    this.queue.push(batch);
    this.queued += batch.spans;
    this.pump();
  }

  /** Exports the oldest batch unless one is being exported. */
  private pump(): void {
    if (this.exporting) return;
    const batch = this.queue.shift();
    if (!batch) {
      if (!this.waitingForResource) for (const resolve of this.idleWaiters.splice(0)) resolve();
      return;
    }
    this.exporting = true;
    let answered = false;
    const finish = (result: ExportResult): void => {
      if (answered) return;
      answered = true;
      clearTimeout(timeout);
      this.exporting = false;
      this.queued -= batch.spans;
      this.dropping = false;
      // The exporter reports its own failures (the disk buffer warns about
      // what it drops); the SDK's processor only tells the diagnostic logger.
      if (result.code !== ExportResultCode.SUCCESS) diag.error('span export failed', result.error);
      this.pump();
    };
    const timeout = setTimeout(() => {
      this.warn('span export timed out: spans dropped', {
        spans: batch.spans,
        timeoutMs: this.exportTimeoutMillis,
      });
      finish({ code: ExportResultCode.FAILED, error: new Error('span export timed out') });
    }, this.exportTimeoutMillis);
    timeout.unref();
    try {
      // The exporter's own requests (HTTP, file writes) must not make spans.
      context.with(suppressTracing(context.active()), () => this.exporter.export(batch, finish));
    } catch (err) {
      finish({ code: ExportResultCode.FAILED, error: err instanceof Error ? err : new Error(String(err)) });
    }
  }
}

function positive(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isFinite(value) && value > 0 ? Math.floor(value) : fallback;
}
