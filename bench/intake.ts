/**
 * Intake benchmark: sustained POST /api/v1/builds/add throughput (closed
 * loop) and latency at a fixed rate (open loop), against a baseline bare
 * express handler doing one INSERT into the same PostgreSQL. Loopback only.
 *
 *   node dist/bench/intake.js [--rate 200] [--seconds 10] [--concurrency 16]
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import knexFactory, { Knex } from 'knex';
import pino from 'pino';
import { loadDatabaseUrl, loadGatewayConfig } from '../shared/config';
import { createApp } from '../services/gateway/http/app';
import { migrateLatest } from '../services/gateway/db/migrations';
import { KnexRequestStore } from '../services/gateway/db/knex-store';
import { arg, atRate, postOnce, throughput } from './load';

function listen(app: express.Express): Promise<{ server: Server; url: string }> {
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({ server, url: `http://127.0.0.1:${port}` });
    });
  });
}

function baselineApp(db: Knex): express.Express {
  const app = express();
  app.use(express.json());
  app.post('/add', async (req, res) => {
    const [row] = await db('bench_baseline')
      .insert({ body: JSON.stringify(req.body) })
      .returning<{ id: number }[]>('id');
    res.status(201).json({ id: row?.id });
  });
  return app;
}

async function main(): Promise<void> {
  const rate = arg('rate', 200);
  const seconds = arg('seconds', 10);
  const concurrency = arg('concurrency', 16);
  const adminUrl = new URL(loadDatabaseUrl());
  const name = `iib_bench_${process.pid}`;
  adminUrl.pathname = '/postgres';
  const admin = knexFactory({ client: 'pg', connection: adminUrl.toString(), pool: { min: 0, max: 1 } });
  await admin.raw(`CREATE DATABASE ${name}`);
  const dbUrl = new URL(adminUrl.toString());
  dbUrl.pathname = `/${name}`;
  const db = knexFactory({ client: 'pg', connection: dbUrl.toString(), pool: { min: 0, max: 10 } });
  const servers: Server[] = [];
  try {
    await migrateLatest(db);
    await db.schema.createTable('bench_baseline', (t) => {
      t.increments('id');
      t.jsonb('body');
    });
    const config = loadGatewayConfig({ IIB_DATABASE_URL: dbUrl.toString(), LOGIN_DISABLED: 'true' });
    const gateway = await listen(
      createApp({
        config,
        store: new KnexRequestStore(db),
        log: pino({ level: 'warn' }),
        authenticators: [],
        onCommitted: () => {},
      }),
    );
    const baseline = await listen(baselineApp(db));
    servers.push(gateway.server, baseline.server);
    const targets = [
      { name: 'baseline (express + 1 INSERT)', url: `${baseline.url}/add` },
      { name: 'gateway POST /builds/add', url: `${gateway.url}/api/v1/builds/add` },
    ];
    const rows: { name: string; rps: number; p50: number; p99: number; errors: number }[] = [];
    for (const t of targets) {
      for (let i = 0; i < 50; i += 1) await postOnce(t.url); // warm-up
      const rps = await throughput(t.url, seconds, concurrency);
      const lat = await atRate(t.url, rate, seconds);
      rows.push({ name: t.name, rps, ...lat });
    }
    const pad = (s: string, n: number): string => s.padEnd(n);
    console.log(
      `intake benchmark: ${seconds}s closed loop x${concurrency}, then ${rate} req/s open loop for ${seconds}s`,
    );
    console.log(
      `${pad('target', 32)}${pad('throughput req/s', 18)}${pad(`p50 ms @${rate}/s`, 16)}${pad(`p99 ms @${rate}/s`, 16)}errors`,
    );
    for (const r of rows) {
      console.log(
        `${pad(r.name, 32)}${pad(r.rps.toFixed(0), 18)}${pad(r.p50.toFixed(2), 16)}${pad(r.p99.toFixed(2), 16)}${r.errors}`,
      );
    }
    const [base, gw] = rows;
    if (base && gw) {
      const ratio = gw.rps / base.rps;
      console.log(
        `ratio gateway/baseline throughput: ${ratio.toFixed(2)} (target >= 0.5); gateway p99 ${gw.p99.toFixed(1)} ms (target < 50)`,
      );
    }
  } finally {
    for (const s of servers) await new Promise<void>((r) => s.close(() => r()));
    await db.destroy();
    await admin.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.destroy();
  }
}

main().catch((err: unknown) => {
  console.error(`intake benchmark failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
