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
import type { EncodedSpanExporter, EncodedSpans } from './encoding-span-processor';

/**
 * The OTLP/HTTP protobuf span exporter of `@opentelemetry/exporter-trace-otlp-proto`
 * (same delegate: endpoint, headers, TLS, compression, timeout and retries
 * from the standard `OTEL_EXPORTER_OTLP_*` variables), for batches that are
 * already encoded (by the EncodingSpanProcessor, or read back from the disk
 * buffer): the bytes are sent as they are.
 */
export class OtlpProtoTraceExporter extends OTLPExporterBase<EncodedSpans> implements EncodedSpanExporter {
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
