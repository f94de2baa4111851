import type { Span } from '@opentelemetry/api';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import type { ExpressInstrumentationConfig } from '@opentelemetry/instrumentation-express';
import type { HttpInstrumentationConfig } from '@opentelemetry/instrumentation-http';
import type { PgInstrumentationConfig } from '@opentelemetry/instrumentation-pg';
import { loadTracingConfig } from '../../../shared/config/tracing-config';
import { nameSpanAfterExpressRoute } from '../../../shared/tracing/express-route';
import { buildInstrumentations } from '../../../shared/tracing/instrumentations';

function built(env: Record<string, string>): {
  express: ExpressInstrumentationConfig | undefined;
  http: HttpInstrumentationConfig;
  pg: PgInstrumentationConfig;
} {
  const list = buildInstrumentations(loadTracingConfig(env, undefined), () => undefined);
  for (const i of list) i.disable(); // constructing enables them; a unit test patches nothing
  const find = (name: string): Instrumentation | undefined =>
    list.find((i) => i.instrumentationName.endsWith(`instrumentation-${name}`));
  return {
    express: find('express')?.getConfig(),
    http: find('http')!.getConfig(),
    pg: find('pg')!.getConfig(),
  };
}

function fakeSpan(): Span & { name: string; attributes: Record<string, unknown> } {
  const span = {
    name: 'POST',
    attributes: {} as Record<string, unknown>,
    setAttribute(key: string, value: unknown) {
      span.attributes[key] = value;
      return span;
    },
    updateName(name: string) {
      span.name = name;
      return span;
    },
  };
  return span as unknown as Span & typeof span;
}

describe('built-in instrumentations', () => {
  it('when nothing is set, then express is not patched, the http span gets the route, and parentless queries get no span', () => {
    const { express, http, pg } = built({});
    expect(express).toBeUndefined();
    expect(http.applyCustomAttributesOnSpan).toBe(nameSpanAfterExpressRoute);
    // One instrumentation traces incoming and outgoing requests.
    expect(http.disableIncomingRequestInstrumentation).toBeFalsy();
    expect(pg.requireParentSpan).toBe(true);
  });

  it('when layer spans and parentless queries are asked for, then the express instrumentation traces those layers', () => {
    const { express, http, pg } = built({
      IIB_OTEL_EXPRESS_LAYERS: 'request_handler',
      IIB_OTEL_PG_REQUIRE_PARENT_SPAN: 'false',
    });
    expect([...(express?.ignoreLayersType ?? [])].sort()).toEqual(['middleware', 'router']);
    expect(http.applyCustomAttributesOnSpan).toBeUndefined();
    expect(pg.requireParentSpan).toBe(false);
  });

  it('when express is disabled, then neither layers nor routes are traced', () => {
    const { express, http } = built({ IIB_OTEL_DISABLED_INSTRUMENTATIONS: 'express' });
    expect(express).toBeUndefined();
    expect(http.applyCustomAttributesOnSpan).toBeUndefined();
  });
});

describe('nameSpanAfterExpressRoute', () => {
  it('when express routed the request in a mounted router, then the span is named after the full route', () => {
    const span = fakeSpan();
    nameSpanAfterExpressRoute(
      span,
      { method: 'GET', baseUrl: '/api/v1', route: { path: '/builds/:id' } },
      {},
    );
    expect(span.name).toBe('GET /api/v1/builds/:id');
    expect(span.attributes['http.route']).toBe('/api/v1/builds/:id');
  });

  it('when no route answered the request, then the span keeps its name', () => {
    const span = fakeSpan();
    nameSpanAfterExpressRoute(span, { method: 'POST', baseUrl: '' }, {});
    expect(span.name).toBe('POST');
    expect(span.attributes).toEqual({});
  });
});
