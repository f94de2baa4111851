import { Router } from 'express';
import type { Request } from 'express';
import { ForbiddenError } from '../../../../shared/errors';
import { currentUser, requireLogin } from '../../auth';
import type { RequestRecord } from '../../requests/record';
import { patchRequest } from '../../requests/updates';
import { pageMeta, parseListQuery } from '../listing';
import { requestJson } from '../../requests/request-json';
import { dataRoutes } from './build-data';
import { apiBase, AppDeps } from './context';
import { loadRequest, parseId } from './request-id';
import { mount } from './table';

type ToJson = (req: Request, rows: RequestRecord[], verbose: boolean) => Promise<Record<string, unknown>[]>;

/** IIB's JSON of the rows; verbose adds histories and batch annotations, read in one query each. */
function jsonOf({ store, config }: AppDeps): ToJson {
  return async (req, rows, verbose) => {
    if (!verbose) return rows.map((r) => requestJson(r));
    const ids = rows.map((r) => r.id);
    const [histories, annotations] = await Promise.all([
      store.histories(ids),
      store.annotationsOf(rows.map((r) => r.batch_id)),
    ]);
    return rows.map((r) =>
      requestJson(r, {
        history: histories.get(r.id) ?? [],
        batchAnnotations: annotations.get(r.batch_id) ?? null,
        apiBase: apiBase(req),
        daysToLive: config.requestDataDaysToLive,
      }),
    );
  };
}

/** The GET endpoints and the workers' PATCH. */
export function buildRoutes(deps: AppDeps): Router {
  const { store, config } = deps;
  const router = Router();
  const toJson = jsonOf(deps);

  mount(router, 'listBuilds', async (req, res) => {
    const lq = parseListQuery(req.query, config.maxPerPage);
    const page = await store.list(lq);
    res.json({
      items: await toJson(req, page.rows, lq.verbose),
      meta: pageMeta(`${apiBase(req)}/builds`, lq, page.total),
    });
  });

  mount(router, 'getBuild', async (req, res) => {
    const [json] = await toJson(req, [await loadRequest(deps, req.params.id)], true);
    res.json(json);
  });

  mount(router, 'patchBuild', requireLogin(deps.authenticators), async (req, res) => {
    const user = currentUser(res);
    if (deps.authenticators.length > 0 && (user === null || !config.workerUsernames.includes(user))) {
      throw new ForbiddenError('This API endpoint is restricted to IIB workers');
    }
    const { record, stateUpdated } = await patchRequest(store, parseId(req.params.id), req.body);
    if (stateUpdated) deps.onCommitted();
    deps.log.info({ requestId: record.id, user, state: record.state }, 'request patched');
    const [json] = await toJson(req, [record], true);
    res.json(json);
  });

  dataRoutes(router, deps);
  return router;
}
