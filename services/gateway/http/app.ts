import express, { Express } from 'express';
import { NotFoundError } from '../../../shared/errors';
import { DOCS_CSP, docsPage } from './docs-page';
import { errorHandler } from './errors';
import { inputGuard, jsonBody } from './input-guard';
import { openApiDocument } from './openapi';
import { buildRoutes } from './routes/builds';
import { methodNotAllowed } from './routes/method-not-allowed';
import type { AppDeps } from './routes/context';
import { submitRoutes } from './routes/submit';
import { mount } from './routes/table';
import { uiRoutes } from '../ui/ui-routes';
import { serveOpsPath } from '../../../shared/health';
import { httpMetrics, rememberMount } from './metrics';

export type { AppConfig, AppDeps } from './routes/context';

export function createApp(deps: AppDeps): Express {
  const { store, config } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.set('query parser', 'simple');
  app.use(httpMetrics());
  // Probes and scrapes: before the body parser and authentication, and never 404.
  const readiness = deps.readiness ?? { database: () => store.ping() };
  app.use((req, res, next) => {
    serveOpsPath(req, res, readiness).then((served) => {
      if (!served) next();
    }, next);
  });
  app.use(jsonBody(config.maxBodyBytes));
  app.use(inputGuard());

  const openapi = JSON.stringify(openApiDocument({ graphModeOptions: config.graphModeOptions }));
  const docs = docsPage();
  app.use(uiRoutes());

  const api = express.Router();
  api.use(rememberMount);
  api.use(methodNotAllowed());
  mount(api, 'getOpenApiDocument', (_req, res) => {
    res.type('application/json').send(openapi);
  });
  mount(api, 'getApiDocs', (_req, res) => {
    res.set('Content-Security-Policy', DOCS_CSP);
    res.type('html').send(docs);
  });
  mount(api, 'healthcheck', async (_req, res) => {
    try {
      await store.ping();
    } catch {
      res.status(500).json({ error: 'Database health check failed.' });
      return;
    }
    res.json({ status: 'Health check OK' });
  });
  api.use(submitRoutes(deps));
  api.use(buildRoutes(deps));

  app.use('/api/v1', api);
  app.use((_req, _res, next) => next(new NotFoundError()));
  app.use(errorHandler(deps.log));
  return app;
}
