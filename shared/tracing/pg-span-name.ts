import type { Span } from '@opentelemetry/api';
import type { PgRequestHookInformation } from '@opentelemetry/instrumentation-pg';

/**
 * The pg instrumentation's request hook: names a query's span after the
 * stable database conventions, `{db.operation.name} {db.namespace}`
 * (`SELECT iib`), where the upstream package says `pg.query:SELECT iib`, and
 * records `db.operation.name` (the statement's first keyword).
 */
export function nameQuerySpan(span: Span, info: PgRequestHookInformation): void {
  const operation = /^\s*([A-Za-z]+)/.exec(info.query.text)?.[1]?.toUpperCase();
  if (!operation) return;
  span.setAttribute('db.operation.name', operation);
  const database = info.connection.database;
  span.updateName(database ? `${operation} ${database}` : operation);
}
