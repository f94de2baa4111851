import { REQUEST_TYPES, STATES } from '../../../shared/contracts';
import { NotFoundError, ValidationError } from '../../../shared/errors';
import type { ListQuery } from '../requests/store';

/** IIB's RequestTypeMapping, in enum order (generic is valid and matches nothing). */
export const TYPE_NAMES: readonly string[] = ['generic', ...REQUEST_TYPES];
/** The filters matched as given, with what each one matches (the OpenAPI document describes them). */
export const TEXT_FILTERS = {
  user: 'User who submitted the request',
  from_index: 'Exact from_index (add, rm, create-empty-index, fbc-operations); an unknown one is a 400',
  from_index_startswith: 'Prefix of from_index',
  index_image: 'Exact built index image (add, rm, merge-index-image, create-empty-index, fbc-operations)',
} as const;
const STATE_NAMES: readonly string[] = STATES;

type Query = Record<string, unknown>;

function first(query: Query, key: string): string | undefined {
  const v = query[key];
  const value = Array.isArray(v) ? (v[0] as unknown) : v;
  return typeof value === 'string' ? value : undefined;
}

/** Flask-SQLAlchemy's page arguments: not an integer or below 1 is a 404; per_page is capped. */
function pageArg(raw: string | undefined, dflt: number): number {
  if (raw === undefined) return dflt;
  if (!/^\s*[+-]?\d{1,9}\s*$/.test(raw)) throw new NotFoundError();
  const n = Number(raw);
  if (n < 1) throw new NotFoundError();
  return n;
}

export function parseListQuery(query: Query, maxPerPage: number): ListQuery {
  const filters: [string, string][] = [];
  const state = first(query, 'state');
  if (state) {
    if (!STATE_NAMES.includes(state)) {
      throw new ValidationError(
        `${state} is not a valid build request state. Valid states are: ${STATE_NAMES.join(', ')}`,
      );
    }
    filters.push(['state', state]);
  }
  const batch = first(query, 'batch');
  if (batch !== undefined) {
    if (!/^\s*[+-]?\d{1,10}\s*$/.test(batch) || Number(batch) < 1 || Number(batch) > 2_147_483_647) {
      throw new ValidationError('The batch must be a positive integer');
    }
    filters.push(['batch', batch]);
  }
  const type = first(query, 'request_type');
  if (type) {
    if (!TYPE_NAMES.includes(type)) {
      throw new ValidationError(
        `${type} is not a valid build request type. Valid request_types are: ${TYPE_NAMES.join(', ')}`,
      );
    }
    filters.push(['request_type', type]);
  }
  for (const key of Object.keys(TEXT_FILTERS)) {
    const value = first(query, key);
    if (value) filters.push([key, value]);
  }
  const verbose = ['true', '1'].includes((first(query, 'verbose') ?? '').toLowerCase());
  const page = pageArg(first(query, 'page'), 1);
  const perPage = Math.min(pageArg(first(query, 'per_page'), 20), maxPerPage);
  return { page, perPage, verbose, filters };
}

/**
 * IIB's pagination_metadata: absolute links that keep the filters (not
 * `verbose`). Unlike IIB (issue #59), `last` of an empty result is page 1.
 */
export function pageMeta(url: string, lq: ListQuery, total: number): Record<string, unknown> {
  const pages = Math.ceil(total / lq.perPage);
  const link = (page: number): string => {
    const qs = new URLSearchParams([['page', String(page)], ['per_page', String(lq.perPage)], ...lq.filters]);
    return `${url}?${qs.toString()}`;
  };
  return {
    first: link(1),
    last: link(Math.max(pages, 1)),
    next: lq.page < pages ? link(lq.page + 1) : null,
    page: lq.page,
    pages,
    per_page: lq.perPage,
    previous: lq.page > 1 ? link(lq.page - 1) : null,
    total,
  };
}
