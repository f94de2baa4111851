/*
 * Decoding of OTLP trace export requests (opentelemetry-proto
 * collector/trace/v1 ExportTraceServiceRequest), protobuf and JSON, into a
 * flat list of spans. The protobuf reader is a minimal wire-format decoder
 * for just these messages, so tests depend on no generated code: the
 * exporter's own package ships only an encoder.
 */

export type AttributeValue =
  string | number | boolean | null | AttributeValue[] | { [key: string]: AttributeValue };

export type ReceivedSpanKind = 'UNSPECIFIED' | 'INTERNAL' | 'SERVER' | 'CLIENT' | 'PRODUCER' | 'CONSUMER';
export type ReceivedStatusCode = 'UNSET' | 'OK' | 'ERROR';

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** undefined for a root span */
  parentSpanId: string | undefined;
  name: string;
  kind: ReceivedSpanKind;
  attributes: Record<string, AttributeValue>;
  /** `service.name` of the span's resource */
  serviceName: string | undefined;
  resource: Record<string, AttributeValue>;
  scope: { name: string; version: string | undefined };
  status: { code: ReceivedStatusCode; message: string | undefined };
  links: { traceId: string; spanId: string; attributes: Record<string, AttributeValue> }[];
  events: { name: string; attributes: Record<string, AttributeValue> }[];
  /** Decimal strings (nanoseconds exceed Number precision; strings keep spans JSON-serializable). */
  startTimeUnixNano: string;
  endTimeUnixNano: string;
}

const KINDS: ReceivedSpanKind[] = ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'];
const CODES: ReceivedStatusCode[] = ['UNSET', 'OK', 'ERROR'];

// ---------------------------------------------------------------- protobuf

interface Field {
  no: number;
  wire: number;
  varint?: bigint;
  bytes?: Buffer;
  fixed?: Buffer;
}

function readFields(buf: Buffer): Field[] {
  const fields: Field[] = [];
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (pos >= buf.length) throw new Error('truncated varint');
      const b = buf[pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  while (pos < buf.length) {
    const key = Number(varint());
    const no = key >>> 3;
    const wire = key & 7;
    if (wire === 0) fields.push({ no, wire, varint: varint() });
    else if (wire === 1 || wire === 5) {
      const size = wire === 1 ? 8 : 4;
      fields.push({ no, wire, fixed: buf.subarray(pos, pos + size) });
      pos += size;
    } else if (wire === 2) {
      const len = Number(varint());
      fields.push({ no, wire, bytes: buf.subarray(pos, pos + len) });
      pos += len;
    } else throw new Error(`unsupported wire type ${wire}`);
  }
  return fields;
}

const all = (fields: Field[], no: number): Field[] => fields.filter((f) => f.no === no);
const one = (fields: Field[], no: number): Field | undefined => fields.filter((f) => f.no === no).pop();
const str = (f: Field | undefined): string | undefined => f?.bytes?.toString('utf8');
const hex = (f: Field | undefined): string => f?.bytes?.toString('hex') ?? '';

function pbAnyValue(buf: Buffer): AttributeValue {
  const f = readFields(buf)[0];
  if (!f) return null;
  switch (f.no) {
    case 1:
      return f.bytes!.toString('utf8');
    case 2:
      return f.varint !== 0n;
    case 3:
      return Number(BigInt.asIntN(64, f.varint!));
    case 4:
      return f.fixed!.readDoubleLE(0);
    case 5:
      return all(readFields(f.bytes!), 1).map((v) => pbAnyValue(v.bytes!));
    case 6:
      return pbAttributes(readFields(f.bytes!), 1);
    case 7:
      return f.bytes!.toString('base64');
    default:
      return null;
  }
}

function pbAttributes(fields: Field[], no: number): Record<string, AttributeValue> {
  const attrs: Record<string, AttributeValue> = {};
  for (const kv of all(fields, no)) {
    const kvFields = readFields(kv.bytes!);
    const key = str(one(kvFields, 1)) ?? '';
    const value = one(kvFields, 2);
    attrs[key] = value ? pbAnyValue(value.bytes!) : null;
  }
  return attrs;
}

export function decodeProtobufRequest(body: Buffer): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const rs of all(readFields(body), 1)) {
    const rsFields = readFields(rs.bytes!);
    const resourceField = one(rsFields, 1);
    const resource = resourceField ? pbAttributes(readFields(resourceField.bytes!), 1) : {};
    for (const ss of all(rsFields, 2)) {
      const ssFields = readFields(ss.bytes!);
      const scopeField = one(ssFields, 1);
      const scopeFields = scopeField ? readFields(scopeField.bytes!) : [];
      const scope = { name: str(one(scopeFields, 1)) ?? '', version: str(one(scopeFields, 2)) };
      for (const sp of all(ssFields, 2)) {
        const f = readFields(sp.bytes!);
        const statusField = one(f, 15);
        const statusFields = statusField ? readFields(statusField.bytes!) : [];
        const parent = hex(one(f, 4));
        spans.push({
          traceId: hex(one(f, 1)),
          spanId: hex(one(f, 2)),
          parentSpanId: parent || undefined,
          name: str(one(f, 5)) ?? '',
          kind: KINDS[Number(one(f, 6)?.varint ?? 0n)] ?? 'UNSPECIFIED',
          startTimeUnixNano: (one(f, 7)?.fixed?.readBigUInt64LE(0) ?? 0n).toString(),
          endTimeUnixNano: (one(f, 8)?.fixed?.readBigUInt64LE(0) ?? 0n).toString(),
          attributes: pbAttributes(f, 9),
          events: all(f, 11).map((e) => {
            const ef = readFields(e.bytes!);
            return { name: str(one(ef, 2)) ?? '', attributes: pbAttributes(ef, 3) };
          }),
          links: all(f, 13).map((l) => {
            const lf = readFields(l.bytes!);
            return { traceId: hex(one(lf, 1)), spanId: hex(one(lf, 2)), attributes: pbAttributes(lf, 4) };
          }),
          status: {
            code: CODES[Number(one(statusFields, 3)?.varint ?? 0n)] ?? 'UNSET',
            message: str(one(statusFields, 2)) || undefined,
          },
          resource,
          serviceName: typeof resource['service.name'] === 'string' ? resource['service.name'] : undefined,
          scope,
        });
      }
    }
  }
  return spans;
}

// -------------------------------------------------------------------- JSON

interface JsonKeyValue {
  key: string;
  value?: JsonAnyValue;
}
interface JsonAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
  arrayValue?: { values?: JsonAnyValue[] };
  kvlistValue?: { values?: JsonKeyValue[] };
  bytesValue?: string;
}
interface JsonSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind?: number;
  startTimeUnixNano?: string | number;
  endTimeUnixNano?: string | number;
  attributes?: JsonKeyValue[];
  events?: { name: string; attributes?: JsonKeyValue[] }[];
  links?: { traceId: string; spanId: string; attributes?: JsonKeyValue[] }[];
  status?: { code?: number; message?: string };
}
interface JsonRequest {
  resourceSpans?: {
    resource?: { attributes?: JsonKeyValue[] };
    scopeSpans?: { scope?: { name?: string; version?: string }; spans?: JsonSpan[] }[];
  }[];
}

function jsonAnyValue(v: JsonAnyValue | undefined): AttributeValue {
  if (!v) return null;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(jsonAnyValue);
  if (v.kvlistValue) return jsonAttributes(v.kvlistValue.values);
  if (v.bytesValue !== undefined) return v.bytesValue;
  return null;
}

function jsonAttributes(kvs: JsonKeyValue[] | undefined): Record<string, AttributeValue> {
  const attrs: Record<string, AttributeValue> = {};
  for (const kv of kvs ?? []) attrs[kv.key] = jsonAnyValue(kv.value);
  return attrs;
}

// OTLP/JSON ids are hex per the spec; some encoders send base64: accept both.
function jsonId(id: string | undefined, bytes: number): string {
  if (!id) return '';
  if (id.length === bytes * 2 && /^[0-9a-f]+$/i.test(id)) return id.toLowerCase();
  return Buffer.from(id, 'base64').toString('hex');
}

export function decodeJsonRequest(body: Buffer): ReceivedSpan[] {
  const request = JSON.parse(body.toString('utf8')) as JsonRequest;
  const spans: ReceivedSpan[] = [];
  for (const rs of request.resourceSpans ?? []) {
    const resource = jsonAttributes(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? []) {
      const scope = { name: ss.scope?.name ?? '', version: ss.scope?.version };
      for (const s of ss.spans ?? []) {
        spans.push({
          traceId: jsonId(s.traceId, 16),
          spanId: jsonId(s.spanId, 8),
          parentSpanId: jsonId(s.parentSpanId, 8) || undefined,
          name: s.name,
          kind: KINDS[s.kind ?? 0] ?? 'UNSPECIFIED',
          startTimeUnixNano: String(s.startTimeUnixNano ?? 0),
          endTimeUnixNano: String(s.endTimeUnixNano ?? 0),
          attributes: jsonAttributes(s.attributes),
          events: (s.events ?? []).map((e) => ({ name: e.name, attributes: jsonAttributes(e.attributes) })),
          links: (s.links ?? []).map((l) => ({
            traceId: jsonId(l.traceId, 16),
            spanId: jsonId(l.spanId, 8),
            attributes: jsonAttributes(l.attributes),
          })),
          status: { code: CODES[s.status?.code ?? 0] ?? 'UNSET', message: s.status?.message || undefined },
          resource,
          serviceName: typeof resource['service.name'] === 'string' ? resource['service.name'] : undefined,
          scope,
        });
      }
    }
  }
  return spans;
}
