import { context } from '@opentelemetry/api';
import { ExportResultCode, suppressTracing, type ExportResult } from '@opentelemetry/core';
import { DiskSpanStore, type StoredBatch } from './disk-span-store';
import type { EncodedSpanExporter, EncodedSpans } from './encoding-span-processor';
import { warnTracing, type TracingWarn } from './tracing-log';

export interface SpanBufferOptions {
  /** Directory of this process's buffer; it must survive restarts to deliver a previous run's spans. */
  dir: string;
  maxBytes: number;
  maxSpans: number;
  /** While the collector is unreachable, one buffered batch is offered to it this often. */
  retryMs: number;
  /** At shutdown, with the collector reachable, buffered batches are sent for at most this long (default 5000). */
  shutdownDrainMs?: number;
  warn?: TracingWarn;
}

/**
 * An exporter decorator that never loses a batch to an unreachable
 * collector: a failed export is written to a bounded disk buffer and reported
 * as done, so the span processor's bounded queue keeps draining. After the
 * first failure it stays "offline" and writes batches straight to disk (no
 * export timeouts on the hot path) while a background loop offers the oldest
 * buffered batch to the collector every `retryMs`; once one is accepted it
 * sends the rest back to back and goes online again. A buffer left by a
 * previous run is sent at start. A batch the collector refuses for good
 * (HTTP 4xx) is dropped with a warning rather than retried forever.
 */
export class BufferingSpanExporter implements EncodedSpanExporter {
  private readonly store: DiskSpanStore;
  private readonly warn: TracingWarn;
  private online = true;
  private stopped = false;
  private shutdownDeadline = 0;
  private timer: NodeJS.Timeout | undefined;
  private draining: Promise<void> | undefined;
  private readonly writes = new Set<Promise<void>>();

  constructor(
    private readonly inner: EncodedSpanExporter,
    private readonly opts: SpanBufferOptions,
  ) {
    this.warn = opts.warn ?? warnTracing;
    this.store = new DiskSpanStore({
      dir: opts.dir,
      maxBytes: opts.maxBytes,
      maxSpans: opts.maxSpans,
      warn: this.warn,
    });
    if (this.store.batchCount > 0) this.scheduleDrain(0);
  }

  /** Spans currently on disk (for tests and diagnostics). */
  get bufferedSpans(): number {
    return this.store.spanCount;
  }

  export(batch: EncodedSpans, resultCallback: (result: ExportResult) => void): void {
    if (this.stopped) {
      resultCallback({ code: ExportResultCode.FAILED, error: new Error('span exporter is shut down') });
      return;
    }
    if (!this.online) {
      this.persist(batch, resultCallback);
      return;
    }
    void exportQuietly(this.inner, batch).then((result) => {
      if (result.code === ExportResultCode.SUCCESS) {
        resultCallback(result);
        if (this.store.batchCount > 0) this.scheduleDrain(0);
      } else if (isPermanent(result.error)) {
        this.warn('collector refused spans: dropped', { spans: batch.spans, err: describe(result.error) });
        resultCallback(result);
      } else {
        this.goOffline(result.error);
        this.persist(batch, resultCallback);
      }
    });
  }

  async forceFlush(): Promise<void> {
    await this.inner.forceFlush?.();
    await Promise.all([...this.writes]);
  }

  async shutdown(): Promise<void> {
    // A short-lived program may end before the background drain ever ran:
    // with the collector reachable, send what is buffered, within a budget.
    this.shutdownDeadline = Date.now() + (this.opts.shutdownDrainMs ?? 5_000);
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.draining;
    await Promise.all([...this.writes]);
    if (this.online && this.store.batchCount > 0) {
      await this.drain().catch((err: unknown) =>
        this.warn('span buffer drain failed', { err: describe(err) }),
      );
    }
    await this.inner.shutdown();
  }

  private persist(batch: EncodedSpans, resultCallback: (result: ExportResult) => void): void {
    const write = this.store.append(batch.bytes, batch.spans).then(
      () => resultCallback({ code: ExportResultCode.SUCCESS }),
      (err: unknown) => {
        this.warn('span buffer write failed: spans dropped', { spans: batch.spans, err: describe(err) });
        resultCallback({
          code: ExportResultCode.FAILED,
          error: err instanceof Error ? err : new Error(String(err)),
        });
      },
    );
    this.writes.add(write);
    void write.finally(() => this.writes.delete(write));
    this.scheduleDrain(this.opts.retryMs);
  }

  private goOffline(error: unknown): void {
    if (!this.online) return;
    this.online = false;
    this.warn('collector unreachable: buffering spans on disk', { err: describe(error), dir: this.opts.dir });
  }

  private scheduleDrain(delayMs: number): void {
    if (this.stopped || this.timer || this.draining) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.draining = this.drain()
        .catch((err: unknown) => {
          this.warn('span buffer drain failed', { err: describe(err) });
          this.goOffline(err);
        })
        .finally(() => {
          this.draining = undefined;
          if (!this.stopped && this.store.batchCount > 0)
            this.scheduleDrain(this.online ? 0 : this.opts.retryMs);
        });
    }, delayMs);
    // Never keep a process alive just to retry the collector.
    this.timer.unref();
  }

  /** A batch is stored as the OTLP request the collector takes: sending it again is reading it. */
  private async readBatch(batch: StoredBatch): Promise<EncodedSpans> {
    return { bytes: await this.store.read(batch), spans: batch.spans };
  }

  private async drain(): Promise<void> {
    while (!this.stopped || Date.now() < this.shutdownDeadline) {
      const batch = await this.store.claimOldest();
      if (!batch) return;
      let encoded: EncodedSpans;
      try {
        encoded = await this.readBatch(batch);
      } catch (err) {
        this.warn('unreadable span buffer file: dropped', { file: batch.name, err: describe(err) });
        await this.store.remove(batch);
        continue;
      }
      const result = await exportQuietly(this.inner, encoded);
      if (result.code === ExportResultCode.SUCCESS) {
        // Deleted right after the acknowledgement: a crash in between is the
        // only way a batch can be sent twice.
        await this.store.remove(batch);
        if (!this.online) {
          this.online = true;
          this.warn('collector reachable again: sending buffered spans', {
            bufferedSpans: this.store.spanCount,
          });
        }
      } else if (isPermanent(result.error)) {
        this.warn('collector refused buffered spans: dropped', {
          spans: encoded.spans,
          err: describe(result.error),
        });
        await this.store.remove(batch);
      } else {
        await this.store.release(batch);
        this.goOffline(result.error);
        return;
      }
    }
  }
}

/** Export outside any trace: the exporter's own HTTP calls must not create spans. */
function exportQuietly(exporter: EncodedSpanExporter, batch: EncodedSpans): Promise<ExportResult> {
  return new Promise((resolve) => {
    try {
      context.with(suppressTracing(context.active()), () => exporter.export(batch, resolve));
    } catch (err) {
      resolve({ code: ExportResultCode.FAILED, error: err instanceof Error ? err : new Error(String(err)) });
    }
  });
}

// OTLP/HTTP: 4xx other than 408/429 means this payload will never be accepted.
function isPermanent(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' && code >= 400 && code < 500 && code !== 408 && code !== 429;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
