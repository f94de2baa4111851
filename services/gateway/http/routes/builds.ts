import { Router } from 'express';
import type { Request, Response } from 'express';
import { isFinal } from '../../../../shared/contracts';
import { ForbiddenError, GoneError, NotFoundError, ValidationError } from '../../../../shared/errors';
import { currentUser, requireLogin } from '../../auth';
import { pageMeta, parseListQuery } from '../listing';
import type { RequestRecord } from '../../requests/record';
import { patchRequest } from '../../requests/updates';
import { requestJson } from '../request-json';
import { apiBase, AppDeps } from './context';
import { mount } from './table';

/** Flask's `<int:request_id>`: anything else is a 404. */
export function parseId(raw: unknown): number {
  if (typeof raw !== 'string' || !/^\d{1,10}$/.test(raw)) throw new NotFoundError();
  const id = Number(raw);
  if (id < 1 || id > 2_147_483_647) throw new NotFoundError();
  return id;
}

/** The GET endpoints and the workers' PATCH. */
export function buildRoutes(deps: AppDeps): Router {
  const { store, config } = deps;
  const router = Router();

  const toJson = async (
    req: Request,
    rows: RequestRecord[],
    verbose: boolean,
  ): Promise<Record<string, unknown>[]> => {
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

  const load = async (raw: unknown): Promise<RequestRecord> => {
    const r = await store.get(parseId(raw));
    if (!r) throw new NotFoundError();
    return r;
  };

  const expired = (r: RequestRecord): boolean =>
    r.updated.getTime() + config.requestDataDaysToLive * 86_400_000 < Date.now();

  /** IIB's checks before serving temporary data: the right type, finished, not expired. */
  const temporaryData = (r: RequestRecord, what: string, type?: string): void => {
    if (type && r.type !== type) {
      throw new ValidationError(
        `The request ${r.id} is of type ${r.type}. This endpoint is only valid for requests of type ${type}.`,
      );
    }
    if (!isFinal(r.state)) {
      throw new ValidationError(
        `The request ${r.id} is not complete yet. ${what} will be available once the request is complete.`,
      );
    }
    if (expired(r)) throw new GoneError(`The ${what} for the build request ${r.id} no longer exist`);
  };

  mount(router, 'listBuilds', async (req, res) => {
    const lq = parseListQuery(req.query, config.maxPerPage);
    const page = await store.list(lq);
    res.json({
      items: await toJson(req, page.rows, lq.verbose),
      meta: pageMeta(`${apiBase(req)}/builds`, lq, page.total),
    });
  });

  mount(router, 'getBuild', async (req, res) => {
    const [json] = await toJson(req, [await load(req.params.id)], true);
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

  mount(router, 'getBuildLogs', async (req, res) => {
    const r = await load(req.params.id);
    if (req.query.follow === 'true' || req.query.follow === '1') {
      if (expired(r)) throw new GoneError(`The logs for the build request ${r.id} no longer exist`);
      await followLogs(r.id, req, res);
      return;
    }
    temporaryData(r, 'logs');
    const lines = await store.logs(r.id);
    res.type('text/plain').send(lines.join('\n') + (lines.length ? '\n' : ''));
  });

  /**
   * `?follow=true` (our extension; IIB serves logs only once a request is
   * final): streams the log as the builder reports it, chunk by chunk, and
   * ends once the request is final and every line has been sent.
   */
  const followLogs = async (id: number, req: Request, res: Response): Promise<void> => {
    res.status(200).type('text/plain');
    res.setHeader('cache-control', 'no-store');
    res.setHeader('x-content-type-options', 'nosniff');
    let closed = false;
    req.on('close', () => {
      closed = true;
    });
    let after = 0;
    for (;;) {
      // Read the state before the lines, so the last lines of a final request are never missed.
      const current = await store.get(id);
      const lines = await store.logsAfter(id, after);
      if (closed) return;
      if (lines.length > 0) {
        after = lines[lines.length - 1]!.id;
        res.write(lines.map((l) => `${l.text}\n`).join(''));
      }
      if (lines.length === 0 && (!current || isFinal(current.state))) break;
      if (lines.length === 0)
        await new Promise((resolve) => setTimeout(resolve, config.logFollowPollMs ?? 500));
    }
    res.end();
  };

  const artifact = (operationId: string, kind: string, type: string, what: string): void => {
    mount(router, operationId, async (req, res) => {
      const r = await load(req.params.id);
      temporaryData(r, what, type);
      const content = await store.artifact(r.id, kind);
      if (content === undefined) throw new NotFoundError();
      res.type('application/json').send(JSON.stringify(content));
    });
  };
  artifact('getRelatedBundles', 'related_bundles', 'regenerate-bundle', 'related_bundles');
  artifact('getNestedBundles', 'nested_bundles', 'recursive-related-bundles', 'nested_bundles');

  mount(router, 'getDeprecationSchema', async (req, res) => {
    const r = await load(req.params.id);
    if (r.type !== 'add-deprecations') {
      throw new ValidationError(
        `The request ${r.id} is of type ${r.type}. This endpoint is only valid for requests of type add-deprecations.`,
      );
    }
    res.type('application/json').send(String(r.params.deprecation_schema));
  });

  return router;
}
