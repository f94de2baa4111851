import { Router } from 'express';
import type { Request, Response } from 'express';
import { requireLogin, currentUser } from '../../auth';
import { requestJson } from '../../requests/request-json';
import { INITIAL_REASON } from '../../requests/record';
import { submitRequests } from '../../requests/submit';
import { validateAdd } from '../../requests/validation/add';
import { validateAddDeprecations } from '../../requests/validation/add-deprecations';
import {
  ValidatedBatch,
  validateAddRmBatch,
  validateRegenerateBundleBatch,
} from '../../requests/validation/batch';
import { validateRecursiveRelatedBundles, validateRegenerateBundle } from '../../requests/validation/bundles';
import type { ValidatedRequest, ValidationContext } from '../../requests/validation/common';
import { validateCreateEmptyIndex } from '../../requests/validation/create-empty-index';
import { validateFbcOperations } from '../../requests/validation/fbc-operations';
import { validateMergeIndexImage } from '../../requests/validation/merge-index-image';
import { validateRm } from '../../requests/validation/rm';
import { apiBase, AppDeps } from './context';
import { API_ROUTES, mount } from './table';
import { ANONYMOUS_USER, requestsAccepted } from '../../../../shared/metrics';

type Single = (body: unknown, ctx: ValidationContext) => ValidatedRequest;
type Batch = (body: unknown, ctx: ValidationContext) => ValidatedBatch;

export const SINGLE_VALIDATORS: Record<string, Single> = {
  '/builds/add': validateAdd,
  '/builds/rm': validateRm,
  '/builds/regenerate-bundle': validateRegenerateBundle,
  '/builds/merge-index-image': validateMergeIndexImage,
  '/builds/create-empty-index': validateCreateEmptyIndex,
  '/builds/recursive-related-bundles': validateRecursiveRelatedBundles,
  '/builds/fbc-operations': validateFbcOperations,
  '/builds/add-deprecations': validateAddDeprecations,
};

export const BATCH_VALIDATORS: Record<string, Batch> = {
  '/builds/regenerate-bundle-batch': validateRegenerateBundleBatch,
  '/builds/add-rm-batch': validateAddRmBatch,
};

/** A declared endpoint without a validator is a programming error: refuse to start. */
function validatorOf<T>(validators: Record<string, T>, path: string): T {
  const v = validators[path];
  if (!v) throw new Error(`no validator for ${path}`);
  return v;
}

/** The POST endpoints: validate, then one transaction writes the requests and their messages. */
export function submitRoutes(deps: AppDeps): Router {
  const { config, store } = deps;
  const router = Router();
  const login = requireLogin(deps.authenticators);

  const context = (res: Response): ValidationContext => ({
    user: currentUser(res),
    authEnabled: deps.authenticators.length > 0,
    binaryImageConfigured:
      config.binaryImageConfig !== undefined && Object.keys(config.binaryImageConfig).length > 0,
    graphModeOptions: config.graphModeOptions,
    graphModeIndexAllowList: config.graphModeIndexAllowList,
  });

  /** The new requests' verbose JSON, from what was just written (no second read). */
  const created = async (req: Request, batch: ValidatedBatch): Promise<Record<string, unknown>[]> => {
    const rows = await submitRequests(store, deps.sealer, batch.items, batch.annotations);
    deps.onCommitted();
    for (const r of rows) {
      requestsAccepted.inc({ request_type: r.type, user: r.user_name ?? ANONYMOUS_USER });
      deps.log.info(
        { requestId: r.id, requestType: r.type, user: r.user_name, batch: r.batch_id },
        'request accepted',
      );
    }
    return rows.map((r) =>
      requestJson(r, {
        history: [{ state: r.state, state_reason: INITIAL_REASON, updated: r.updated }],
        batchAnnotations: batch.annotations,
        apiBase: apiBase(req),
        daysToLive: config.requestDataDaysToLive,
      }),
    );
  };

  for (const route of API_ROUTES) {
    if (route.spec.kind === 'submit') {
      const validate = validatorOf(SINGLE_VALIDATORS, route.path);
      mount(router, route.operationId, login, async (req, res) => {
        const item = validate(req.body, context(res));
        const [json] = await created(req, { items: [item], annotations: null });
        res.status(201).json(json);
      });
    } else if (route.spec.kind === 'batch') {
      const validate = validatorOf(BATCH_VALIDATORS, route.path);
      mount(router, route.operationId, login, async (req, res) => {
        res.status(201).json(await created(req, validate(req.body, context(res))));
      });
    }
  }
  return router;
}
