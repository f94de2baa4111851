import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { nameQuerySpan } from '../../shared/tracing/pg-span-name';
import { databaseUrl } from '../support/env';
import { startMemoryTracing, warmUp } from '../unit/tracing/memory-tracing';

/*
 * The pg instrumentation as the services use it
 * (`@opentelemetry/instrumentation-pg`) against the real PostgreSQL,
 * in-process (spans in memory). The e2e trace test covers it inside the
 * running gateway.
 */
const { exporter } = startMemoryTracing();
const tracer = trace.getTracer('integration');
// As the services configure it.
const serviceConfig = { requireParentSpan: true, requestHook: nameQuerySpan };
const instrumentation = new PgInstrumentation({ ...serviceConfig, enabled: false });
// jest's module registry is invisible to require hooks: pg is patched by hand.
const pgDefinition = instrumentation.getModuleDefinitions().find((d) => d.name === 'pg')!;
const patchModule = (): void => void pgDefinition.patch?.(pg);
const unpatchModule = (): void => pgDefinition.unpatch?.(pg);
patchModule();

const url = new URL(databaseUrl);
url.pathname = '/postgres';
const DB = 'postgres';
let client: pg.Client;
let knex: Knex;

beforeAll(async () => {
  client = new pg.Client({ connectionString: url.toString(), connectionTimeoutMillis: 3000 });
  await client.connect().catch((err: Error) => {
    throw new Error(
      `PostgreSQL is not reachable; start the local stack with: npm run stack (${err.message})`,
    );
  });
  knex = knexFactory({ client: 'pg', connection: url.toString(), pool: { min: 0, max: 1 } });
  // Outside any span: knex's connection and its version query are made now.
  await knex.raw('select 1');
  await warmUp(exporter);
});

afterAll(async () => {
  unpatchModule();
  await client?.end();
  await knex?.destroy();
});

beforeEach(() => {
  instrumentation.setConfig(serviceConfig);
  exporter.reset();
});

function clientSpans(): ReadableSpan[] {
  return exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.CLIENT);
}

/** Runs `fn` under a fresh parent span, ended afterwards; returns the parent's span id. */
async function underParent(fn: () => Promise<unknown>): Promise<string> {
  const parent = tracer.startSpan('parent');
  try {
    await context.with(trace.setSpan(context.active(), parent), fn);
  } finally {
    parent.end();
  }
  return parent.spanContext().spanId;
}

describe('pg instrumentation on PostgreSQL', () => {
  it('when a query runs under a span, then a CLIENT span named after the operation and database has the conventions attributes and no values', async () => {
    const parentId = await underParent(() => client.query('SELECT $1::text AS secret_value', ['hunter2']));
    const [span, ...more] = clientSpans();
    expect(more).toHaveLength(0);
    expect(span?.name).toBe(`SELECT ${DB}`);
    expect(span?.parentSpanContext?.spanId).toBe(parentId);
    expect(span?.attributes).toEqual({
      'db.system.name': 'postgresql',
      'db.namespace': DB,
      'server.address': url.hostname,
      'server.port': Number(url.port || 5432),
      'db.query.text': 'SELECT $1::text AS secret_value',
      'db.operation.name': 'SELECT',
    });
    expect(JSON.stringify(span?.attributes)).not.toContain('hunter2');
    expect(span?.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('when a query has a callback, then the span ends before it and the callback runs in the caller’s context', async () => {
    let seen: string | undefined;
    let endedBefore = false;
    const parentId = await underParent(
      () =>
        new Promise<void>((resolve, reject) => {
          client.query('SELECT 1 AS one', (err) => {
            seen = trace.getActiveSpan()?.spanContext().spanId;
            endedBefore = clientSpans().length === 1;
            if (err) reject(err);
            else resolve();
          });
        }),
    );
    expect(seen).toBe(parentId);
    expect(endedBefore).toBe(true);
  });

  it('when a query fails, then the span has error status and the exception, and the caller still gets the error', async () => {
    let caught: unknown;
    await underParent(() =>
      client.query('SELECT * FROM iib_no_such_table').catch((err: unknown) => {
        caught = err;
      }),
    );
    expect((caught as { code?: string }).code).toBe('42P01');
    const [span] = clientSpans();
    expect(span?.status.code).toBe(SpanStatusCode.ERROR);
    expect(span?.status.message).toMatch(/iib_no_such_table/);
    // The upstream instrumentation puts the SQLSTATE on its duration metric, not on the span.
    expect(span?.events.map((e) => e.name)).toEqual(['exception']);
  });

  it('when a query runs outside any span, then it gets no span unless parentless queries are asked for', async () => {
    await client.query('SELECT 1 AS one');
    expect(clientSpans()).toHaveLength(0);
    instrumentation.setConfig({ ...serviceConfig, requireParentSpan: false });
    await client.query('SELECT 2 AS two');
    const [span] = clientSpans();
    expect(span?.name).toBe(`SELECT ${DB}`);
    expect(span?.parentSpanContext).toBeUndefined();
  });

  it('when tracing is suppressed, then a query gets no span', async () => {
    await underParent(() =>
      context.with(suppressTracing(context.active()), () => client.query('SELECT 1 AS one')),
    );
    expect(clientSpans()).toHaveLength(0);
  });

  it('when knex runs queries under a span, then each statement is a child span with its operation', async () => {
    const parentId = await underParent(async () => {
      await knex.raw('select 1 as one');
      await knex.raw('with t as (select 1 as x) select x from t');
    });
    const spans = clientSpans();
    expect(spans.map((s) => [s.name, s.attributes['db.operation.name']])).toEqual([
      [`SELECT ${DB}`, 'SELECT'],
      [`WITH ${DB}`, 'WITH'],
    ]);
    expect(spans.every((s) => s.parentSpanContext?.spanId === parentId)).toBe(true);
  });

  it('when a submittable query is used, then it still works (its span is left open: no service uses one)', async () => {
    let rows = 0;
    await underParent(
      () =>
        new Promise<void>((resolve, reject) => {
          const query = client.query(new pg.Query('SELECT generate_series(1, 3) AS n'));
          query.on('row', () => rows++);
          query.on('end', () => resolve());
          query.on('error', reject);
        }),
    );
    expect(rows).toBe(3);
    // The upstream instrumentation ends a query's span through its promise or
    // callback; a submittable without a callback has neither.
    expect(clientSpans()).toEqual([]);
  });

  it('when a client connects under a span, then the connect is a span of its own', async () => {
    const other = new pg.Client({ connectionString: url.toString() });
    await underParent(() => other.connect());
    await other.end();
    const [span] = clientSpans();
    expect(span?.name).toBe('pg.connect');
    expect(span?.attributes['db.namespace']).toBe(DB);
    expect(span?.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('when the instrumentation is unpatched, then queries get no span', async () => {
    unpatchModule();
    try {
      await underParent(() => client.query('SELECT 1 AS one'));
      expect(clientSpans()).toHaveLength(0);
    } finally {
      patchModule();
    }
  });
});
