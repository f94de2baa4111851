import type { ExportResult } from '@opentelemetry/core';
import { OTLPExporterBase } from '@opentelemetry/otlp-exporter-base';
import {
  convertLegacyHttpOptions,
  createOtlpHttpExportDelegate,
} from '@opentelemetry/otlp-exporter-base/node-http';
import {
  ProtobufTraceSerializer,
  type IExportTraceServiceResponse,
  type ISerializer,
} from '@opentelemetry/otlp-transformer';

/** One ExportTraceServiceRequest, encoded, and how many spans it holds. */
export interface EncodedSpans {
  readonly bytes: Uint8Array;
  readonly spans: number;
}

/** An exporter of encoded batches: what sends the disk buffer's batches. */
export interface EncodedSpanExporter {
  export(batch: EncodedSpans, done: (result: ExportResult) => void): void;
  forceFlush?(): Promise<void>;
  shutdown(): Promise<void>;
}

/**
 * Sends batches read back from the disk buffer, already OTLP protobuf, as
 * they are. It is `@opentelemetry/exporter-trace-otlp-proto`'s exporter
 * (same delegate: endpoint, headers, TLS, compression, timeout and retries
 * from the standard `OTEL_EXPORTER_OTLP_*` variables) with a serializer that
 * passes the bytes through.
 */
export class OtlpBytesExporter extends OTLPExporterBase<EncodedSpans> implements EncodedSpanExporter {
  constructor() {
    const serializer: ISerializer<EncodedSpans, IExportTraceServiceResponse> = {
      serializeRequest: (batch) => batch.bytes,
      deserializeResponse: (data) => ProtobufTraceSerializer.deserializeResponse(data),
    };
    super(
      createOtlpHttpExportDelegate(
        convertLegacyHttpOptions({}, 'TRACES', 'v1/traces', { 'Content-Type': 'application/x-protobuf' }),
        serializer,
        'otlp_http_span_exporter',
        { name: 'span', countItems: (batch) => batch.spans },
        undefined,
      ),
    );
  }
}
