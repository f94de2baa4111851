import express, { Express, Request, Response, Router } from 'express';
import type { Logger } from 'pino';
import type { GatewayConfig } from '../../shared/config';
import { NotFoundError } from '../../shared/errors';
import { errorHandler } from './http-errors';
import { requestJson } from './request-json';
import type { NewRequest, RequestStore } from './store';
import { validateCreateEmptyIndex, ValidationContext } from './validation/create-empty-index';

export interface AppDeps {
  config: Pick<GatewayConfig, 'loginDisabled' | 'maxPerPage' | 'binaryImageConfig' | 'requestDataDaysToLive' | 'maxBodyBytes'>;
  store: RequestStore;
  log: Logger;
  /** Called after requests were committed, to publish their outbox rows now. */
  onCommitted: () => void;
}

function apiBase(req: Request): string {
  return `${req.protocol}://${req.get('host') ?? 'localhost'}/api/v1`;
}

function parseId(raw: string | undefined): number {
  const id = Number(raw);
  if (!Number.isInteger(id) || id <= 0 || id > 2_147_483_647) throw new NotFoundError();
  return id;
}

export function createApp(deps: AppDeps): Express {
  const { store, config } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use(express.json({ limit: config.maxBodyBytes, strict: false }));

  const api = Router();
  const ctx = (_req: Request): ValidationContext => ({
    user: null,
    binaryImageConfigured: config.binaryImageConfig !== undefined,
  });

  const verboseJson = async (req: Request, id: number): Promise<Record<string, unknown>> => {
    const r = await store.get(id);
    if (!r) throw new NotFoundError();
    const [history, batchAnnotations] = await Promise.all([store.history(id), store.batchAnnotations(r.batch_id)]);
    return requestJson(r, {
      history,
      batchAnnotations,
      apiBase: apiBase(req),
      daysToLive: config.requestDataDaysToLive,
    });
  };

  const submit = (validate: (body: unknown, c: ValidationContext) => NewRequest) =>
    async (req: Request, res: Response): Promise<void> => {
      const item = validate(req.body, ctx(req));
      const [created] = await store.create([item]);
      deps.onCommitted();
      res.status(201).json(await verboseJson(req, (created as { id: number }).id));
    };

  api.get('/healthcheck', async (_req, res) => {
    try {
      await store.db.raw('SELECT 1');
    } catch {
      res.status(500).json({ error: 'Database health check failed.' });
      return;
    }
    res.json({ status: 'Health check OK' });
  });

  api.post('/builds/create-empty-index', submit(validateCreateEmptyIndex));

  api.get('/builds/:id', async (req, res) => {
    res.json(await verboseJson(req, parseId(req.params.id)));
  });

  api.get('/builds/:id/logs', async (req, res) => {
    const id = parseId(req.params.id);
    if (!(await store.get(id))) throw new NotFoundError();
    const lines = await store.logs(id);
    res.type('text/plain').send(lines.join('\n') + (lines.length ? '\n' : ''));
  });

  app.use('/api/v1', api);
  app.use((_req, _res, next) => next(new NotFoundError()));
  app.use(errorHandler(deps.log));
  return app;
}

