import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { OTLPExporterBase } from '@opentelemetry/otlp-exporter-base';
import {
  convertLegacyHttpOptions,
  createOtlpHttpExportDelegate,
} from '@opentelemetry/otlp-exporter-base/node-http';
import {
  ProtobufTraceSerializer,
  TraceExporterMetricsHelper,
  type IExportTraceServiceResponse,
  type ISerializer,
} from '@opentelemetry/otlp-transformer';
import { OtlpSpanEncoder } from './otlp-span-encoder';

/**
 * The OTLP/HTTP protobuf span exporter of `@opentelemetry/exporter-trace-otlp-proto`
 * (same delegate: endpoint, headers, TLS, compression, timeout and retries
 * from the standard `OTEL_EXPORTER_OTLP_*` variables), with our one-pass
 * encoder in place of the library's serializer. The bytes sent are the same.
 */
export class OtlpProtoTraceExporter extends OTLPExporterBase<ReadableSpan[]> implements SpanExporter {
  constructor() {
    const encoder = new OtlpSpanEncoder();
    const serializer: ISerializer<ReadableSpan[], IExportTraceServiceResponse> = {
      serializeRequest: (spans) => encoder.encode(spans),
      deserializeResponse: (data) => ProtobufTraceSerializer.deserializeResponse(data),
    };
    super(
      createOtlpHttpExportDelegate(
        convertLegacyHttpOptions({}, 'TRACES', 'v1/traces', { 'Content-Type': 'application/x-protobuf' }),
        serializer,
        'otlp_http_span_exporter',
        TraceExporterMetricsHelper,
        undefined,
      ),
    );
  }
}
