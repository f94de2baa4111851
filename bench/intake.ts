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
import { createApp } from '../services/gateway/app';
import { migrateLatest } from '../services/gateway/db/migrations';
import { RequestStore } from '../services/gateway/store';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : dflt;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`);
  return v;
}

const BODY = JSON.stringify({
  bundles: ['quay.io/ns/bundle:v1.0.0', 'quay.io/ns/bundle:v1.1.0'],
  from_index: 'quay.io/ns/index:v4.18',
  binary_image: 'quay.io/ns/binary:v4.18',
  add_arches: ['amd64'],
});

async function postOnce(url: string): Promise<number> {
  const started = performance.now();
  const res = await fetch(url, {
    method: 'POST',
    body: BODY,
    headers: { 'content-type': 'application/json' },
  });
  await res.arrayBuffer();
  if (res.status !== 201) throw new Error(`HTTP ${res.status}`);
  return performance.now() - started;
}

/** Closed loop: `concurrency` clients post back to back for `seconds`. */
async function throughput(url: string, seconds: number, concurrency: number): Promise<number> {
  const until = performance.now() + seconds * 1000;
  let done = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        await postOnce(url);
        done += 1;
      }
    }),
  );
  return done / seconds;
}

/** Open loop: one request every 1/rate s whatever the answers do; latencies of all. */
async function atRate(
  url: string,
  rate: number,
  seconds: number,
): Promise<{ p50: number; p99: number; errors: number }> {
  const total = Math.round(rate * seconds);
  const latencies: number[] = [];
  let errors = 0;
  const t0 = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < total; i += 1) {
    const wait = t0 + (i * 1000) / rate - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    pending.push(
      postOnce(url).then(
        (ms) => void latencies.push(ms),
        () => void (errors += 1),
      ),
    );
  }
  await Promise.all(pending);
  latencies.sort((a, b) => a - b);
  const q = (p: number): number =>
    latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  return { p50: q(0.5), p99: q(0.99), errors };
}

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
        store: new RequestStore(db),
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
