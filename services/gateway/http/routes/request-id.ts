import { NotFoundError } from '../../../../shared/errors';
import type { RequestRecord } from '../../requests/record';
import type { AppDeps } from './context';

/** Flask's `<int:request_id>`: anything else is a 404. */
export function parseId(raw: unknown): number {
  if (typeof raw !== 'string' || !/^\d{1,10}$/.test(raw)) throw new NotFoundError();
  const id = Number(raw);
  if (id < 1 || id > 2_147_483_647) throw new NotFoundError();
  return id;
}

/** The request of a path's id, or a 404. */
export async function loadRequest(deps: AppDeps, raw: unknown): Promise<RequestRecord> {
  const r = await deps.store.get(parseId(raw));
  if (!r) throw new NotFoundError();
  return r;
}
