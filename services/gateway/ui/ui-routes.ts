import express, { Router } from 'express';
import { browserScriptsDir, redocBundle } from './assets';
import { shellPage, STYLE, UI_CSP } from './shell';

/** Routes of the pages outside /api/v1; the test of the route table lists these as the only others. */
export const PAGE_ROUTES = ['/', '/ui', '/ui/style.css', '/ui/vendor/redoc.standalone.js'] as const;

/** The builds page and its assets, all served by the gateway (no CDN). */
export function uiRoutes(): Router {
  const router = Router();
  const shell = shellPage();
  // Relative redirects, so a proxy's path prefix is kept.
  router.get('/', (_req, res) => res.redirect(302, 'ui/'));
  // express matches `/ui` and `/ui/` alike; only the latter makes the page's relative URLs right.
  router.get('/ui', (req, res) => {
    const [pathname = '', query] = req.originalUrl.split(/\?(.*)/s);
    if (!pathname.endsWith('/')) {
      res.redirect(302, `ui/${query ? `?${query}` : ''}`);
      return;
    }
    res.set('Content-Security-Policy', UI_CSP);
    res.set('Cache-Control', 'no-cache');
    res.type('html').send(shell);
  });
  router.get('/ui/style.css', (_req, res) => {
    res.type('css').send(STYLE);
  });
  router.get('/ui/vendor/redoc.standalone.js', (_req, res) => {
    res.sendFile(redocBundle(), { maxAge: '1d' });
  });
  router.use('/ui/app', express.static(browserScriptsDir(), { index: false, fallthrough: true }));
  return router;
}
