import type { Request, Response, Router } from 'express';
import { isFinal } from '../../../../shared/contracts';
import { GoneError, NotFoundError, ValidationError } from '../../../../shared/errors';
import type { RequestRecord } from '../../requests/record';
import type { AppDeps } from './context';
import { loadRequest } from './request-id';
import { mount } from './table';

/** A request's temporary data: its log and artifacts, served once it is final and until they expire. */
export function dataRoutes(router: Router, deps: AppDeps): void {
  const { store, config } = deps;

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

  mount(router, 'getBuildLogs', async (req, res) => {
    const r = await loadRequest(deps, req.params.id);
    if (req.query.follow === 'true' || req.query.follow === '1') {
      if (expired(r)) throw new GoneError(`The logs for the build request ${r.id} no longer exist`);
      await followLogs(deps, r.id, req, res);
      return;
    }
    temporaryData(r, 'logs');
    const lines = await store.logs(r.id);
    res.type('text/plain').send(lines.join('\n') + (lines.length ? '\n' : ''));
  });

  const artifact = (operationId: string, kind: string, type: string, what: string): void => {
    mount(router, operationId, async (req, res) => {
      const r = await loadRequest(deps, req.params.id);
      temporaryData(r, what, type);
      const content = await store.artifact(r.id, kind);
      if (content === undefined) throw new NotFoundError();
      res.type('application/json').send(JSON.stringify(content));
    });
  };
  artifact('getRelatedBundles', 'related_bundles', 'regenerate-bundle', 'related_bundles');
  artifact('getNestedBundles', 'nested_bundles', 'recursive-related-bundles', 'nested_bundles');

  mount(router, 'getDeprecationSchema', async (req, res) => {
    const r = await loadRequest(deps, req.params.id);
    if (r.type !== 'add-deprecations') {
      throw new ValidationError(
        `The request ${r.id} is of type ${r.type}. This endpoint is only valid for requests of type add-deprecations.`,
      );
    }
    res.type('application/json').send(String(r.params.deprecation_schema));
  });
}

/**
 * `?follow=true` (our extension; IIB serves logs only once a request is
 * final): streams the log as the builder reports it, chunk by chunk, and
 * ends once the request is final and every line has been sent.
 */
async function followLogs(
  { store, config }: AppDeps,
  id: number,
  req: Request,
  res: Response,
): Promise<void> {
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
}
