import type { Knex } from 'knex';
import { NotFoundError, ValidationError } from '../../../shared/errors';
import type { RequestRecord } from '../requests/record';
import type { ListQuery, Page } from '../requests/store';

/** The types IIB's from_index and index_image filters look at. */
const INDEX_IMAGE_TYPES = ['add', 'rm', 'merge-index-image', 'create-empty-index', 'fbc-operations'];

function escapeLike(s: string): string {
  // PostgreSQL's default LIKE escape is the backslash; an explicit ESCAPE clause would stop index use.
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** Applies the filters; each one is served by an index ordered like the listing (id desc). */
async function filtered(db: Knex, filters: [string, string][]): Promise<{ q: Knex.QueryBuilder }> {
  // Wrapped: a query builder is a thenable, and returning one from an async function would run it.
  const q: Knex.QueryBuilder = db('requests');
  for (const [key, value] of filters) {
    switch (key) {
      case 'state':
        q.where('state', value);
        break;
      case 'batch':
        q.where('batch_id', Number(value));
        break;
      case 'request_type':
        q.where('type', value);
        break;
      case 'user':
        q.where('user_name', value);
        break;
      case 'from_index': {
        const known: unknown = await db('requests').where('from_index', value).first('id');
        if (!known) throw new ValidationError(`from_index ${value} is not a valid index image`);
        q.where('from_index', value);
        break;
      }
      case 'from_index_startswith': {
        const pattern = `${escapeLike(value)}%`;
        const known: unknown = await db('requests').whereRaw('from_index LIKE ?', [pattern]).first('id');
        if (!known) throw new ValidationError(`Can't find any from_index starting with ${value}`);
        q.whereRaw('from_index LIKE ?', [pattern]);
        break;
      }
      case 'index_image': {
        const known: unknown = await db('requests').where('index_image', value).first('id');
        if (!known) throw new ValidationError(`${value} is not a valid index image`);
        q.where('index_image', value).whereIn('type', INDEX_IMAGE_TYPES);
        break;
      }
    }
  }
  return { q };
}

export async function listRequests(db: Knex, lq: ListQuery): Promise<Page> {
  const { q: base } = await filtered(db, lq.filters);
  const [countRow] = (await base.clone().count({ count: '*' })) as unknown as { count: string }[];
  const total = Number(countRow?.count ?? 0);
  const rows = (await base
    .clone()
    .orderBy('id', 'desc')
    .limit(lq.perPage)
    .offset((lq.page - 1) * lq.perPage)
    .select('*')) as RequestRecord[];
  // Flask-SQLAlchemy: a page past the end is a 404 (page 1 of nothing is an empty list).
  if (rows.length === 0 && lq.page !== 1) throw new NotFoundError();
  return { rows, total };
}

/** The SQL of a listing page, for EXPLAIN in tests and the benchmark. */
export async function listingSql(db: Knex, lq: ListQuery): Promise<Knex.Sql> {
  const { q: base } = await filtered(db, lq.filters);
  return base
    .orderBy('id', 'desc')
    .limit(lq.perPage)
    .offset((lq.page - 1) * lq.perPage)
    .select('*')
    .toSQL();
}
