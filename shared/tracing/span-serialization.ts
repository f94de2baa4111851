import {
  createTraceState,
  type Attributes,
  type HrTime,
  type Link,
  type SpanContext,
} from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace-base';

/*
 * Finished spans as JSON: the disk buffer's format before it kept OTLP
 * requests (`.otlp` files). Batches of that format left on disk are still
 * read (and encoded to OTLP on the way out); the writer is kept for tests
 * that make such batches. Spans of one batch sharing a resource share it
 * again after reading, because the OTLP encoder groups by resource identity.
 */
export const FORMAT_VERSION = 1;

interface SerializedContext {
  traceId: string;
  spanId: string;
  traceFlags: number;
  traceState?: string;
  isRemote?: boolean;
}

interface SerializedSpan {
  name: string;
  kind: number;
  context: SerializedContext;
  parent?: SerializedContext;
  startTime: HrTime;
  endTime: HrTime;
  duration: HrTime;
  status: ReadableSpan['status'];
  attributes: Attributes;
  links: { context: SerializedContext; attributes?: Attributes; droppedAttributesCount?: number }[];
  events: TimedEvent[];
  resource: number;
  scope: InstrumentationScope;
  dropped: [attributes: number, events: number, links: number];
}

export interface SerializedBatch {
  version: number;
  resources: { attributes: Attributes; schemaUrl?: string }[];
  spans: SerializedSpan[];
}

export function serializeSpans(spans: readonly ReadableSpan[]): string {
  const resourceIndex = new Map<Resource, number>();
  const resources: SerializedBatch['resources'] = [];
  const out: SerializedSpan[] = spans.map((span) => {
    let index = resourceIndex.get(span.resource);
    if (index === undefined) {
      index = resources.length;
      resourceIndex.set(span.resource, index);
      resources.push({
        attributes: plainAttributes(span.resource.attributes),
        schemaUrl: span.resource.schemaUrl,
      });
    }
    return {
      name: span.name,
      kind: span.kind,
      context: contextToJson(span.spanContext()),
      parent: span.parentSpanContext ? contextToJson(span.parentSpanContext) : undefined,
      startTime: span.startTime,
      endTime: span.endTime,
      duration: span.duration,
      status: span.status,
      attributes: span.attributes,
      links: span.links.map((l) => ({
        context: contextToJson(l.context),
        attributes: l.attributes,
        droppedAttributesCount: l.droppedAttributesCount,
      })),
      events: span.events,
      resource: index,
      scope: span.instrumentationScope,
      dropped: [span.droppedAttributesCount, span.droppedEventsCount, span.droppedLinksCount],
    };
  });
  const batch: SerializedBatch = { version: FORMAT_VERSION, resources, spans: out };
  return JSON.stringify(batch);
}

export function deserializeSpans(json: string): ReadableSpan[] {
  const batch = JSON.parse(json) as SerializedBatch;
  if (batch.version !== FORMAT_VERSION || !Array.isArray(batch.spans)) {
    throw new Error(`unsupported span buffer format ${String(batch.version)}`);
  }
  const resources = batch.resources.map((r) =>
    resourceFromAttributes(r.attributes, { schemaUrl: r.schemaUrl }),
  );
  return batch.spans.map((s): ReadableSpan => {
    const resource = resources[s.resource];
    if (!resource) throw new Error(`span buffer refers to missing resource ${s.resource}`);
    const spanContext = contextFromJson(s.context);
    const links: Link[] = s.links.map((l) => ({
      context: contextFromJson(l.context),
      attributes: l.attributes,
      droppedAttributesCount: l.droppedAttributesCount,
    }));
    return {
      name: s.name,
      kind: s.kind,
      spanContext: () => spanContext,
      parentSpanContext: s.parent ? contextFromJson(s.parent) : undefined,
      startTime: s.startTime,
      endTime: s.endTime,
      duration: s.duration,
      status: s.status,
      attributes: s.attributes,
      links,
      events: s.events,
      ended: true,
      resource,
      instrumentationScope: s.scope,
      droppedAttributesCount: s.dropped[0],
      droppedEventsCount: s.dropped[1],
      droppedLinksCount: s.dropped[2],
    };
  });
}

function contextToJson(ctx: SpanContext): SerializedContext {
  return {
    traceId: ctx.traceId,
    spanId: ctx.spanId,
    traceFlags: ctx.traceFlags,
    traceState: ctx.traceState?.serialize() || undefined,
    isRemote: ctx.isRemote,
  };
}

function contextFromJson(ctx: SerializedContext): SpanContext {
  return {
    traceId: ctx.traceId,
    spanId: ctx.spanId,
    traceFlags: ctx.traceFlags,
    traceState: ctx.traceState ? createTraceState(ctx.traceState) : undefined,
    isRemote: ctx.isRemote,
  };
}

// Resource attributes may be a frozen or proxied object: copy to plain JSON.
function plainAttributes(attributes: Attributes): Attributes {
  return { ...attributes };
}
