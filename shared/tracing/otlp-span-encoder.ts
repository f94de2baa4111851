import type { AttributeValue, Attributes, HrTime, Link, SpanContext } from '@opentelemetry/api';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace';

/*
 * OTLP/protobuf encoding of finished spans (opentelemetry-proto
 * collector/trace/v1 ExportTraceServiceRequest), in one pass over the spans
 * into a buffer that is kept from one export to the next.
 *
 * `@opentelemetry/otlp-transformer` encodes the same message in two passes (a
 * size estimate, then the writing) into a new buffer each time, and allocates
 * every trace and span id as a byte array on the way. On the scheduler's hot
 * path that serialization was the largest single cost of tracing, so the
 * exporter uses this encoder instead. Its output is byte for byte the
 * library's (same fields, same order, same defaults written), which the unit
 * test checks on spans of every shape; the library still decodes the
 * collector's responses.
 */

// Wire types.
const VARINT = 0;
const FIXED64 = 1;
const LEN = 2;
const FIXED32 = 5;

const SPAN_FLAGS_HAS_IS_REMOTE = 0x100;
const SPAN_FLAGS_IS_REMOTE = 0x200;
const TWO_32 = 0x1_0000_0000;
const MAX_CACHED_KEYS = 512;
const MAX_VALUES_PER_KEY = 16;
const MAX_CACHED_STRING = 256;
const MIN_INT64 = -(2 ** 63);
const MAX_INT64 = 2 ** 63;

interface EncodableResource {
  readonly attributes?: Attributes;
  readonly schemaUrl?: string;
}

interface EncodableScope {
  readonly name: string;
  readonly version?: string;
  readonly schemaUrl?: string;
  readonly attributes?: Attributes;
  readonly droppedAttributesCount?: number;
}

/** Encoders of spans (see `appendSpan`), one per resource and scope, in the order they were first used. */
export type SpanSections = Map<
  ReadableSpan['resource'],
  Map<ReadableSpan['instrumentationScope'], OtlpSpanEncoder>
>;

/** The section of `span`'s resource and scope, made on first use. */
export function sectionOf(sections: SpanSections, span: ReadableSpan, initialBytes = 4096): OtlpSpanEncoder {
  let scopes = sections.get(span.resource);
  if (!scopes) {
    scopes = new Map();
    sections.set(span.resource, scopes);
  }
  let section = scopes.get(span.instrumentationScope);
  if (!section) {
    section = new OtlpSpanEncoder(initialBytes);
    scopes.set(span.instrumentationScope, section);
  }
  return section;
}

export class OtlpSpanEncoder {
  private buf: Buffer;
  private pos = 0;
  /** Per attribute key: its encoded KeyValues by value, or null once it had too many values. */
  private readonly valuesByKey = new Map<string, Map<AttributeValue, Uint8Array> | null>();

  constructor(private readonly initialBytes = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  /** One ExportTraceServiceRequest holding `spans`, grouped by resource and scope (by identity). */
  encode(spans: readonly ReadableSpan[]): Uint8Array {
    const sections: SpanSections = new Map();
    for (const span of spans) sectionOf(sections, span, this.initialBytes).appendSpan(span);
    return this.request(sections);
  }

  /**
   * Appends one span to this encoder's buffer, as an entry of a ScopeSpans'
   * `spans` field: a section that `request` later puts under its resource
   * and scope. Encoding a span as it ends lets it be collected young.
   */
  appendSpan(span: ReadableSpan): void {
    this.tag(2, LEN);
    this.span(span);
  }

  /** Bytes appended since the last `request` took them. */
  get length(): number {
    return this.pos;
  }

  /**
   * One ExportTraceServiceRequest from sections filled by `appendSpan`, one
   * per resource and scope, in the map's order; the sections are emptied.
   * The bytes are those `encode` writes for the same spans in the same order.
   */
  request(sections: SpanSections): Uint8Array {
    this.pos = 0;
    for (const [resource, scopes] of sections) {
      let any = false;
      for (const section of scopes.values()) any ||= section.pos > 0;
      if (!any) continue;
      this.tag(1, LEN);
      const resourceSpans = this.begin(3);
      this.resource(resource);
      for (const [scope, section] of scopes) {
        if (section.pos === 0) continue;
        this.tag(2, LEN);
        const scopeSpans = this.begin(3);
        this.scope(scope);
        this.ensure(section.pos);
        section.buf.copy(this.buf, this.pos, 0, section.pos);
        this.pos += section.pos;
        section.pos = 0;
        if (scope.schemaUrl) this.stringField(3, scope.schemaUrl);
        this.end(scopeSpans, 3);
      }
      if (resource.schemaUrl) this.stringField(3, resource.schemaUrl);
      this.end(resourceSpans, 3);
    }
    const out = Buffer.allocUnsafeSlow(this.pos);
    this.buf.copy(out, 0, 0, this.pos);
    return out;
  }

  private resource(resource: EncodableResource): void {
    this.tag(1, LEN);
    const start = this.begin();
    if (resource.attributes) this.attributes(1, resource.attributes);
    this.tag(2, VARINT);
    this.varint(0);
    this.end(start);
  }

  private scope(scope: EncodableScope): void {
    this.tag(1, LEN);
    const start = this.begin();
    this.stringField(1, scope.name);
    if (scope.version) this.stringField(2, scope.version);
    if (scope.attributes) this.attributes(3, scope.attributes);
    if (scope.droppedAttributesCount) {
      this.tag(4, VARINT);
      this.varint(scope.droppedAttributesCount);
    }
    this.end(start);
  }

  private span(span: ReadableSpan): void {
    const start = this.begin(2);
    const ctx = span.spanContext();
    this.idField(1, ctx.traceId);
    this.idField(2, ctx.spanId);
    const traceState = ctx.traceState?.serialize();
    if (traceState) this.stringField(3, traceState);
    const parent = span.parentSpanContext;
    if (parent?.spanId) this.idField(4, parent.spanId);
    this.stringField(5, span.name);
    // The API's kinds start at INTERNAL = 0; OTLP keeps 0 for UNSPECIFIED.
    const kind = (span.kind as number | undefined) == null ? 0 : span.kind + 1;
    if (kind !== 0) {
      this.tag(6, VARINT);
      this.varint(kind);
    }
    this.tag(7, FIXED64);
    this.hrTime(span.startTime);
    this.tag(8, FIXED64);
    this.hrTime(span.endTime);
    if (span.attributes) this.attributes(9, span.attributes);
    this.tag(10, VARINT);
    this.varint(span.droppedAttributesCount);
    for (const event of span.events) this.event(event);
    this.tag(12, VARINT);
    this.varint(span.droppedEventsCount);
    for (const link of span.links) this.link(link);
    this.tag(14, VARINT);
    this.varint(span.droppedLinksCount);
    this.tag(15, LEN);
    const status = this.begin();
    if (span.status.message) this.stringField(2, span.status.message);
    this.tag(3, VARINT);
    this.varint(span.status.code);
    this.end(status);
    this.flags(16, ctx, parent?.isRemote);
    this.end(start, 2);
  }

  private event(event: TimedEvent): void {
    this.tag(11, LEN);
    const start = this.begin();
    this.tag(1, FIXED64);
    this.hrTime(event.time);
    this.stringField(2, event.name);
    if (event.attributes) this.attributes(3, event.attributes);
    this.tag(4, VARINT);
    this.varint(event.droppedAttributesCount ?? 0);
    this.end(start);
  }

  private link(link: Link): void {
    this.tag(13, LEN);
    const start = this.begin();
    const ctx = link.context;
    this.idField(1, ctx.traceId);
    this.idField(2, ctx.spanId);
    const traceState = ctx.traceState?.serialize();
    if (traceState) this.stringField(3, traceState);
    if (link.attributes) this.attributes(4, link.attributes);
    this.tag(5, VARINT);
    this.varint(link.droppedAttributesCount ?? 0);
    this.flags(6, ctx, ctx.isRemote);
    this.end(start);
  }

  private flags(field: number, ctx: SpanContext, isRemote: boolean | undefined): void {
    let flags = (ctx.traceFlags & 0xff) | SPAN_FLAGS_HAS_IS_REMOTE;
    if (isRemote) flags |= SPAN_FLAGS_IS_REMOTE;
    this.tag(field, FIXED32);
    this.ensure(4);
    this.uint32(flags);
  }

  private attributes(field: number, attributes: Attributes): void {
    for (const key in attributes) {
      if (!Object.prototype.hasOwnProperty.call(attributes, key)) continue;
      const value = attributes[key];
      this.tag(field, LEN);
      const cached = this.cachedKeyValue(key, value);
      if (cached) {
        this.bytesField(cached);
        continue;
      }
      const kv = this.begin();
      this.stringField(1, key);
      this.tag(2, LEN);
      const start = this.begin();
      this.anyValue(value);
      this.end(start);
      this.end(kv);
    }
  }

  /**
   * The encoded KeyValue of a scalar attribute whose key has so far shown
   * only a few distinct values (messaging.system, server.address, a link's
   * destination, an outcome): most attributes of most spans repeat, and
   * copying their bytes costs a fraction of encoding them again. Keys with
   * ever-new values (message ids, request ids) stop being cached after a few.
   */
  private cachedKeyValue(key: string, value: AttributeValue): Uint8Array | undefined {
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean')
      return undefined;
    if (typeof value === 'string' && value.length > MAX_CACHED_STRING) return undefined;
    let values = this.valuesByKey.get(key);
    if (values === undefined) {
      if (this.valuesByKey.size >= MAX_CACHED_KEYS) return undefined;
      values = new Map();
      this.valuesByKey.set(key, values);
    }
    if (values === null) return undefined;
    let bytes = values.get(value);
    if (bytes === undefined) {
      if (values.size >= MAX_VALUES_PER_KEY) {
        this.valuesByKey.set(key, null);
        return undefined;
      }
      // Written where the next field goes, copied out, then taken back.
      const at = this.pos;
      this.stringField(1, key);
      this.tag(2, LEN);
      const start = this.begin();
      this.anyValue(value);
      this.end(start);
      bytes = Uint8Array.prototype.slice.call(this.buf, at, this.pos);
      this.pos = at;
      values.set(value, bytes);
    }
    return bytes;
  }

  /** A length-delimited field's length and bytes (its tag already written). */
  private bytesField(bytes: Uint8Array): void {
    const n = bytes.length;
    this.varint(n);
    this.ensure(n);
    this.buf.set(bytes, this.pos);
    this.pos += n;
  }

  // AnyValue: string 1, bool 2, int 3, double 4, array 5, kvlist 6, bytes 7.
  // (The api types an attribute value as `unknown`: nested lists and maps included.)
  private anyValue(value: AttributeValue): void {
    switch (typeof value) {
      case 'string':
        this.stringField(1, value);
        return;
      case 'boolean':
        this.tag(2, VARINT);
        this.varint(value ? 1 : 0);
        return;
      case 'number':
        if (Number.isInteger(value) && value >= MIN_INT64 && value < MAX_INT64) {
          this.tag(3, VARINT);
          this.varint(value);
        } else {
          this.tag(4, FIXED64);
          this.ensure(8);
          this.buf.writeDoubleLE(value, this.pos);
          this.pos += 8;
        }
        return;
      case 'object':
        break;
      default:
        return; // undefined and anything unsupported: an empty AnyValue
    }
    if (value === null) return;
    if (value instanceof Uint8Array) {
      this.tag(7, LEN);
      this.varint(value.length);
      this.ensure(value.length);
      this.buf.set(value, this.pos);
      this.pos += value.length;
    } else if (Array.isArray(value)) {
      this.tag(5, LEN);
      const array = this.begin();
      for (const item of value as unknown[]) {
        this.tag(1, LEN);
        const start = this.begin();
        this.anyValue(item);
        this.end(start);
      }
      this.end(array);
    } else {
      this.tag(6, LEN);
      const list = this.begin();
      this.attributes(1, value as Attributes); // a plain object: a kvlist
      this.end(list);
    }
  }

  // ------------------------------------------------------------ wire format

  private ensure(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + bytes) size *= 2;
    const grown = Buffer.allocUnsafe(size);
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }

  private tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  /** Non-negative integers and int64 values (negative ones as ten-byte two's complement). */
  private varint(value: number): void {
    this.ensure(10);
    const buf = this.buf;
    if (value >= 0 && value < TWO_32) {
      let v = value >>> 0;
      while (v > 0x7f) {
        buf[this.pos++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      buf[this.pos++] = v;
      return;
    }
    let v = BigInt.asUintN(64, BigInt(value));
    while (v > 0x7fn) {
      buf[this.pos++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    buf[this.pos++] = Number(v);
  }

  /**
   * Reserves `reserved` bytes for the length of what follows; `end` writes it,
   * moving the content when its varint needs another size. Spans (mostly 128
   * bytes to 16 KiB) reserve two, everything else one.
   */
  private begin(reserved = 1): number {
    this.ensure(reserved);
    const start = this.pos;
    this.pos += reserved;
    return start;
  }

  private end(start: number, reserved = 1): void {
    const length = this.pos - start - reserved;
    if (reserved === 1 && length < 0x80) {
      this.buf[start] = length;
      return;
    }
    let size = 1;
    while (size < 10 && length >= 2 ** (7 * size)) size += 1;
    if (size !== reserved) {
      this.ensure(size - reserved);
      this.buf.copy(this.buf, start + size, start + reserved, this.pos);
      this.pos += size - reserved;
    }
    let v = length;
    let p = start;
    while (v > 0x7f) {
      this.buf[p++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[p] = v;
  }

  private stringField(field: number, value: string): void {
    this.tag(field, LEN);
    const n = value.length;
    if (n < 0x80) {
      // Short strings: written in place as ASCII; anything else falls back.
      this.ensure(n + 1);
      const buf = this.buf;
      const at = this.pos + 1;
      let i = 0;
      for (; i < n; i += 1) {
        const c = value.charCodeAt(i);
        if (c > 0x7f) break;
        buf[at + i] = c;
      }
      if (i === n) {
        buf[this.pos] = n;
        this.pos = at + n;
        return;
      }
    }
    const bytes = Buffer.byteLength(value, 'utf8');
    this.varint(bytes);
    this.ensure(bytes);
    this.buf.write(value, this.pos, bytes, 'utf8');
    this.pos += bytes;
  }

  /** A hex trace or span id as bytes, decoded straight into the buffer. */
  private idField(field: number, hex: string): void {
    this.tag(field, LEN);
    const n = hex.length >>> 1;
    this.varint(n);
    this.ensure(n);
    const buf = this.buf;
    let at = this.pos;
    for (let i = 0; i < 2 * n; i += 2) {
      buf[at++] = (HEX[hex.charCodeAt(i) & 0x7f]! << 4) | HEX[hex.charCodeAt(i + 1) & 0x7f]!;
    }
    this.pos = at;
  }

  /** [seconds, nanoseconds] as fixed64 nanoseconds, without losing precision past 2^53. */
  private hrTime(time: HrTime): void {
    const [seconds, nanos] = time;
    // seconds * 1e9 = high16 * 1e9 * 2^16 + low16 * 1e9, each product exact.
    const high16 = Math.floor(seconds / 0x10000);
    const low16 = seconds - high16 * 0x10000;
    const a = high16 * 1e9; // < 2^53
    const aLow = a % TWO_32;
    const shifted = aLow * 0x10000; // < 2^48
    let low = shifted % TWO_32;
    let high = Math.floor(a / TWO_32) * 0x10000 + Math.floor(shifted / TWO_32);
    const b = low16 * 1e9 + nanos; // < 2^53
    low += b % TWO_32;
    high += Math.floor(b / TWO_32) + Math.floor(low / TWO_32);
    this.ensure(8);
    this.uint32(low % TWO_32);
    this.uint32(high % TWO_32);
  }

  /** A little-endian uint32, byte by byte (cheaper than Buffer's checked writer here). */
  private uint32(value: number): void {
    const buf = this.buf;
    let p = this.pos;
    buf[p++] = value & 0xff;
    buf[p++] = (value >>> 8) & 0xff;
    buf[p++] = (value >>> 16) & 0xff;
    buf[p++] = value >>> 24;
    this.pos = p;
  }
}

// Hex digit values by character code (0-9, a-f, A-F); ids are valid hex by the time a span ends.
const HEX = new Uint8Array(128);
for (let i = 0; i < 10; i += 1) HEX[48 + i] = i;
for (let i = 0; i < 6; i += 1) {
  HEX[97 + i] = 10 + i;
  HEX[65 + i] = 10 + i;
}
