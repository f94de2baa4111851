import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Span } from '@opentelemetry/api';
import { ATTR_HTTP_ROUTE } from '@opentelemetry/semantic-conventions';

/** What express leaves on a request it routed (express 4 and 5). */
interface RoutedRequest {
  method?: string;
  baseUrl?: unknown;
  route?: { path?: unknown };
}

/**
 * Names an HTTP SERVER span after the express route that handled it
 * (`POST /api/v1/builds/:id`) and sets `http.route`, from what express leaves
 * on the request once it answered: the matched route and the mount path of
 * its router. This is what the express instrumentation contributes to the
 * SERVER span, without patching every layer of every request: when no layer
 * spans are wanted, that patching is most of tracing's cost on a short route.
 * A request no route answered (404, a middleware's early answer) keeps the
 * http instrumentation's name, the method alone.
 */
export function nameSpanAfterExpressRoute(
  span: Span,
  request: IncomingMessage | object,
  _response: ServerResponse | IncomingMessage | object,
): void {
  const req = request as RoutedRequest;
  const path = req.route?.path;
  if (typeof path !== 'string') return;
  const base = typeof req.baseUrl === 'string' ? req.baseUrl : '';
  const route = `${base}${path}` || '/';
  span.setAttribute(ATTR_HTTP_ROUTE, route);
  span.updateName(`${req.method ?? 'GET'} ${route}`);
}
