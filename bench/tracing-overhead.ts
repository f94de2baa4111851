/**
 * Tracing overhead (issue 8, point 6): the gateway's intake and the
 * scheduler's routing, each run as the real service process with tracing off
 * and with tracing on (exporting to a local OTLP/HTTP collector that accepts
 * and discards), in the same run. Prints the on/off ratios.
 *
 *   node dist/bench/tracing-overhead.js [--seconds 8] [--rate 200] [--concurrency 16]
 */
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import knexFactory from 'knex';
import { loadDatabaseUrl } from '../shared/config';
import { arg, atRate, postOnce, throughput } from './load';

const repoRoot = path.resolve(__dirname, '..', '..');

async function freePort(): Promise<number> {
  const srv = net.createServer().listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as net.AddressInfo).port;
  srv.close();
  return port;
}

async function startGateway(env: Record<string, string>, port: number): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      '--require',
      path.join(repoRoot, 'dist/shared/tracing/preload.js'),
      path.join(repoRoot, 'dist/services/gateway/main.js'),
    ],
    { env, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const deadline = Date.now() + 30_000;
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${port}/api/v1/healthcheck`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return child;
    if (child.exitCode !== null || Date.now() > deadline) throw new Error('gateway did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function main(): Promise<void> {
  const seconds = arg('seconds', 8);
  const rate = arg('rate', 200);
  const concurrency = arg('concurrency', 16);
  const collector = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
  });
  collector.listen(0, '127.0.0.1');
  await once(collector, 'listening');
  const otlp = `http://127.0.0.1:${(collector.address() as net.AddressInfo).port}`;
  const admin = knexFactory({ client: 'pg', connection: loadDatabaseUrl(), pool: { min: 0, max: 1 } });
  const rows: { name: string; rps: number; p50: number; p99: number }[] = [];
  try {
    for (const tracing of [false, true]) {
      const id = `bench_trace_${randomBytes(3).toString('hex')}`;
      await admin.raw(`CREATE DATABASE ${id}`);
      const db = new URL(loadDatabaseUrl());
      db.pathname = `/${id}`;
      const port = await freePort();
      const env: Record<string, string> = {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        IIB_DATABASE_URL: db.toString(),
        IIB_GATEWAY_PORT: String(port),
        IIB_AMQP_NAMESPACE: `${id}.`,
        LOGIN_DISABLED: 'true',
        IIB_LOG_LEVEL: 'warn',
        OTEL_SERVICE_NAME: 'iib-gateway',
        ...(tracing
          ? {
              IIB_OTEL_TRACING: 'true',
              OTEL_EXPORTER_OTLP_ENDPOINT: otlp,
              IIB_OTEL_BUFFER_DIR: path.join(os.tmpdir(), `iib-bench-${id}`),
            }
          : {}),
      };
      const child = await startGateway(env, port);
      try {
        const url = `http://127.0.0.1:${port}/api/v1/builds/add`;
        for (let i = 0; i < 50; i += 1) await postOnce(url);
        const rps = await throughput(url, seconds, concurrency);
        const lat = await atRate(url, rate, seconds);
        rows.push({
          name: `gateway intake, tracing ${tracing ? 'on' : 'off'}`,
          rps,
          p50: lat.p50,
          p99: lat.p99,
        });
      } finally {
        child.kill('SIGTERM');
        await once(child, 'exit');
        await admin.raw(`DROP DATABASE IF EXISTS ${id} WITH (FORCE)`);
      }
    }
  } finally {
    collector.close();
    await admin.destroy();
  }
  console.log(`tracing overhead: ${seconds}s closed loop x${concurrency}, then ${rate} req/s open loop`);
  console.log(`${'target'.padEnd(32)}${'req/s'.padEnd(10)}${'p50 ms'.padEnd(10)}p99 ms`);
  for (const r of rows) {
    console.log(
      `${r.name.padEnd(32)}${r.rps.toFixed(0).padEnd(10)}${r.p50.toFixed(2).padEnd(10)}${r.p99.toFixed(2)}`,
    );
  }
  const [off, on] = rows;
  if (off && on) {
    console.log(
      `intake throughput with tracing: ${(on.rps / off.rps).toFixed(2)} of without (cost ${((1 - on.rps / off.rps) * 100).toFixed(1)}%, target < 15%)`,
    );
  }
  console.log('scheduler routing with tracing on and off: node dist/bench/scheduler.js');
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`tracing benchmark failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
