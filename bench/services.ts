import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import * as net from 'node:net';
import * as path from 'node:path';
import { Client } from 'pg';
import { loadDatabaseUrl } from '../shared/config';

/**
 * Starts the four services as processes from dist/ for a benchmark, on a
 * database, queue namespace and registry path of their own (the same shape
 * as the e2e tests' starter, which benchmarks may not import).
 */

const repoRoot = path.resolve(__dirname, '..', '..');
const SERVICES = ['gateway', 'scheduler', 'builder', 'notifier'] as const;

export interface BenchSystem {
  api: string;
  /** Where its builder pushes: `<registry host>/<namespace>`. */
  registry: string;
  logs(): string;
  stop(): Promise<void>;
}

/**
 * The Node.js binary the benchmarked services run on: `BENCH_NODE` (a path),
 * else the one running the benchmark. Lets one machine compare Node versions.
 */
export function serviceNode(): string {
  return process.env.BENCH_NODE || process.execPath;
}

/** `v24.1.0`, for the report. */
export function serviceNodeVersion(): string {
  return execFileSync(serviceNode(), ['--version'], { encoding: 'utf8' }).trim();
}

export async function freePort(): Promise<number> {
  const srv = net.createServer().listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as net.AddressInfo).port;
  srv.close();
  return port;
}

async function admin<T>(fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: loadDatabaseUrl() });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

async function deleteQueues(namespace: string): Promise<void> {
  const base = new URL(process.env.IIB_RABBITMQ_MANAGEMENT_URL ?? 'http://guest:guest@127.0.0.1:15672');
  const auth = `Basic ${Buffer.from(`${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`).toString('base64')}`;
  const origin = `${base.protocol}//${base.host}`;
  const res = await fetch(`${origin}/api/queues/%2F`, { headers: { authorization: auth } });
  if (!res.ok) return;
  for (const q of ((await res.json()) as { name: string }[]).filter((x) => x.name.startsWith(namespace))) {
    await fetch(`${origin}/api/queues/%2F/${encodeURIComponent(q.name)}`, {
      method: 'DELETE',
      headers: { authorization: auth },
    });
  }
}

export async function startBenchSystem(
  registryHost: string,
  extraEnv: Record<string, string>,
): Promise<BenchSystem> {
  const id = `bench${randomBytes(4).toString('hex')}`;
  const dbUrl = new URL(loadDatabaseUrl());
  await admin(async (c) => {
    await c.query(`CREATE DATABASE "iib_${id}"`);
  });
  dbUrl.pathname = `/iib_${id}`;
  const port = await freePort();
  const amqp = (process.env.IIB_AMQP_URLS ?? 'amqp://guest:guest@127.0.0.1:5672').split(',')[0]!.trim();
  const registry = `${registryHost}/${id}`;
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    IIB_DATABASE_URL: dbUrl.toString(),
    IIB_AMQP_URLS: amqp,
    IIB_BROKER_DIALECT: process.env.IIB_BROKER_DIALECT ?? 'rabbitmq',
    IIB_RABBITMQ_MANAGEMENT_URL:
      process.env.IIB_RABBITMQ_MANAGEMENT_URL ?? 'http://guest:guest@127.0.0.1:15672',
    IIB_AMQP_NAMESPACE: `${id}.`,
    IIB_GATEWAY_PORT: String(port),
    IIB_REGISTRY: registry,
    LOGIN_DISABLED: 'true',
    IIB_MESSAGING_URLS: amqp,
    IIB_MESSAGING_BUILD_STATE_DESTINATION: `topic://VirtualTopic.${id}.iib.build.state`,
    IIB_MESSAGING_BATCH_STATE_DESTINATION: `topic://VirtualTopic.${id}.iib.batch.state`,
    IIB_SECRETS_KEY: randomBytes(32).toString('base64'),
    IIB_MESSAGING_SYSTEM: 'rabbitmq',
    STORAGE_DRIVER: process.env.STORAGE_DRIVER ?? 'vfs',
    BUILDAH_ISOLATION: process.env.BUILDAH_ISOLATION ?? 'chroot',
    IIB_LOG_LEVEL: 'info',
    ...extraEnv,
  };
  let output = '';
  const procs: ChildProcess[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(
      procs.map(async (p) => {
        if (p.exitCode !== null || p.signalCode !== null) return;
        const exited = once(p, 'exit');
        p.kill('SIGTERM');
        await exited;
      }),
    );
    await admin((c) => c.query(`DROP DATABASE IF EXISTS "iib_${id}" WITH (FORCE)`)).catch(() => undefined);
    await deleteQueues(`${id}.`).catch(() => undefined);
  };
  try {
    for (const service of SERVICES) {
      let mine = '';
      const child = spawn(
        serviceNode(),
        [
          '--require',
          path.join(repoRoot, 'dist/shared/tracing/preload.js'),
          path.join(repoRoot, `dist/services/${service}/main.js`),
        ],
        { env: { ...env, OTEL_SERVICE_NAME: `iib-${service}` }, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      procs.push(child);
      const append = (chunk: Buffer): void => {
        mine += chunk.toString();
        output += chunk.toString();
      };
      child.stdout?.on('data', append);
      child.stderr?.on('data', append);
      const deadline = Date.now() + 30_000;
      while (!/"msg":"started"/.test(mine)) {
        if (child.exitCode !== null) throw new Error(`${service} exited with ${child.exitCode}:\n${mine}`);
        if (Date.now() > deadline) throw new Error(`${service} did not start:\n${mine}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { api: `http://127.0.0.1:${port}/api/v1`, registry, logs: () => output, stop };
}
