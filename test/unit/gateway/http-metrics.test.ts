import type { AddressInfo } from 'node:net';
import express from 'express';
import { ValidationError } from '../../../shared/errors';
import { createLogger } from '../../../shared/logging';
import { httpRequestDuration } from '../../../shared/metrics';
import { errorHandler } from '../../../services/gateway/http/errors';
import { httpMetrics, rememberMount } from '../../../services/gateway/http/metrics';

describe('HTTP latency metrics', () => {
  it('when routes answer, fail validation or do not exist, then each is one series by route template', async () => {
    httpRequestDuration.reset();
    const app = express();
    app.use(httpMetrics());
    const api = express.Router();
    api.use(rememberMount);
    api.get('/builds/:id', (_req, res) => {
      res.json({});
    });
    api.post('/builds/add', () => {
      throw new ValidationError('"bundles" should be a non-empty array of strings');
    });
    app.use('/api/v1', api);
    app.use(errorHandler(createLogger('test', 'silent')));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      await fetch(`${base}/api/v1/builds/1`);
      await fetch(`${base}/api/v1/builds/2`);
      expect((await fetch(`${base}/api/v1/builds/add`, { method: 'POST' })).status).toBe(400);
      await fetch(`${base}/api/v1/nothing/42`);
    } finally {
      await new Promise((r) => server.close(r));
    }
    const counts = (await httpRequestDuration.get()).values
      .filter((v) => v.metricName === 'iib_http_request_duration_seconds_count')
      .map(
        (v) => `${String(v.labels.method)} ${String(v.labels.route)} ${String(v.labels.status)} ${v.value}`,
      )
      .sort();
    expect(counts).toEqual([
      'GET /api/v1/builds/:id 200 2',
      'GET unmatched 404 1',
      'POST /api/v1/builds/add 400 1',
    ]);
  });
});
