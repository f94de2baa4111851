import type { RequestHandler, Router } from 'express';
import { BATCH_ENDPOINTS, BatchEndpoint } from '../../requests/validation/batch-schemas';
import { EndpointSchema, SINGLE_ENDPOINTS } from '../../requests/validation/schemas';

/**
 * What the OpenAPI document says about an operation beyond its path and
 * method; the document builder turns each kind into its parameters, body
 * and responses.
 */
export type RouteKind =
  | { kind: 'submit'; schema: EndpointSchema }
  | { kind: 'batch'; batch: BatchEndpoint }
  | { kind: 'list' }
  | { kind: 'get' }
  | { kind: 'patch' }
  | { kind: 'logs' }
  | { kind: 'artifact'; requestType: string }
  | { kind: 'healthcheck' }
  | { kind: 'openapi' }
  | { kind: 'docs' };

export type Method = 'get' | 'post' | 'patch';

export interface ApiRoute {
  operationId: string;
  method: Method;
  /** Under /api/v1, in OpenAPI's template syntax (`/builds/{id}`). */
  path: string;
  summary: string;
  tag: 'Builds' | 'Submit' | 'Service';
  /** Needs an authenticated user when login is enabled. */
  login: boolean;
  spec: RouteKind;
}

/** `add-rm-batch` -> `AddRmBatch`, for operationIds and schema names. */
export const pascal = (s: string): string =>
  s
    .split(/[-_]/)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');

const submitRoute = (e: EndpointSchema): ApiRoute => ({
  operationId: `submit${pascal(e.path.replace('/builds/', ''))}`,
  method: 'post',
  path: e.path,
  summary: e.summary,
  tag: 'Submit',
  login: true,
  spec: { kind: 'submit', schema: e },
});

const batchRoute = (b: BatchEndpoint): ApiRoute => ({
  operationId: `submit${pascal(b.path.replace('/builds/', ''))}`,
  method: 'post',
  path: b.path,
  summary: b.summary,
  tag: 'Submit',
  login: true,
  spec: { kind: 'batch', batch: b },
});

const artifact = (name: string, requestType: string, operationId: string, summary: string): ApiRoute => ({
  operationId,
  method: 'get',
  path: `/builds/{id}/${name}`,
  summary,
  tag: 'Builds',
  login: false,
  spec: { kind: 'artifact', requestType },
});

/**
 * Every route of the API, declared once: the routers mount their handlers
 * through `mount` (so a route not in this table cannot be served), the
 * OpenAPI document and the 405 answers are generated from it, and a test
 * walks express's router to hold the three together.
 */
export const API_ROUTES: readonly ApiRoute[] = [
  {
    operationId: 'listBuilds',
    method: 'get',
    path: '/builds',
    summary: 'List build requests, newest first',
    tag: 'Builds',
    login: false,
    spec: { kind: 'list' },
  },
  {
    operationId: 'getBuild',
    method: 'get',
    path: '/builds/{id}',
    summary: 'Get one build request (verbose)',
    tag: 'Builds',
    login: false,
    spec: { kind: 'get' },
  },
  {
    operationId: 'patchBuild',
    method: 'patch',
    path: '/builds/{id}',
    summary: 'Update a build request (IIB workers only)',
    tag: 'Builds',
    login: true,
    spec: { kind: 'patch' },
  },
  {
    operationId: 'getBuildLogs',
    method: 'get',
    path: '/builds/{id}/logs',
    summary: 'Get the log of a build request',
    tag: 'Builds',
    login: false,
    spec: { kind: 'logs' },
  },
  artifact('related_bundles', 'regenerate-bundle', 'getRelatedBundles', 'Get the related bundles'),
  artifact('nested-bundles', 'recursive-related-bundles', 'getNestedBundles', 'Get the nested bundles'),
  artifact('deprecation-schema', 'add-deprecations', 'getDeprecationSchema', 'Get the deprecation schema'),
  ...SINGLE_ENDPOINTS.map(submitRoute),
  ...BATCH_ENDPOINTS.map(batchRoute),
  {
    operationId: 'healthcheck',
    method: 'get',
    path: '/healthcheck',
    summary: 'Check the database connection',
    tag: 'Service',
    login: false,
    spec: { kind: 'healthcheck' },
  },
  {
    operationId: 'getOpenApiDocument',
    method: 'get',
    path: '/openapi.json',
    summary: 'This OpenAPI document',
    tag: 'Service',
    login: false,
    spec: { kind: 'openapi' },
  },
  {
    operationId: 'getApiDocs',
    method: 'get',
    path: '/docs',
    summary: 'This document as a ReDoc page',
    tag: 'Service',
    login: false,
    spec: { kind: 'docs' },
  },
];

/** `/builds/{id}` -> `/builds/:id`. */
export function expressPath(path: string): string {
  return path.replace(/\{(\w+)\}/g, ':$1');
}

export function apiRoute(operationId: string): ApiRoute {
  const route = API_ROUTES.find((r) => r.operationId === operationId);
  if (!route) throw new Error(`no route ${operationId} in API_ROUTES`);
  return route;
}

/** Serves a declared route: its method and path come from the table, never from the caller. */
export function mount(router: Router, operationId: string, ...handlers: RequestHandler[]): void {
  const { method, path } = apiRoute(operationId);
  router[method](expressPath(path), ...handlers);
}
