import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { Client } from 'pg';
import { deleteNamespaceQueues } from './broker-admin';
import { amqpUrl, brokerEnv, databaseUrl, registryHost, repoRoot } from './env';

export const SERVICES = ['gateway', 'scheduler', 'builder', 'notifier'] as const;
export type ServiceName = (typeof SERVICES)[number];

export interface SystemOptions {
  /** Extra environment for every service (after the defaults). */
  env?: Record<string, string>;
  /** Environment for one service only. */
  serviceEnv?: Partial<Record<ServiceName, Record<string, string>>>;
  /** OTLP/HTTP base URL: turns tracing on in every service. */
  otlpUrl?: string;
  services?: readonly ServiceName[];
}

export interface RunningSystem {
  /** http://127.0.0.1:<port>/api/v1 */
  api: string;
  namespace: string;
  databaseUrl: string;
  /** Where this run's builders push: `<registry>/<namespace>`. */
  registry: string;
  buildStateTopic: string;
  batchStateTopic: string;
  env: Record<string, string>;
  logs(service: ServiceName): string;
  start(service: ServiceName): Promise<void>;
  kill(service: ServiceName, signal?: NodeJS.Signals): Promise<void>;
  /**
   * Starts one more process of a service (say a second builder) with extra
   * environment; stop() ends it with the others.
   */
  startExtra(service: ServiceName, env?: Record<string, string>): Promise<ExtraProcess>;
  stop(): Promise<void>;
}

export interface ExtraProcess {
  child: ChildProcess;
  logs(): string;
  /** Sends the signal and waits for the exit; resolves with the exit code (null if killed). */
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function freePort(): Promise<number> {
  const srv = net.createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as net.AddressInfo).port;
  srv.close();
  await once(srv, 'close');
  return port;
}

/** A fresh database for one test file, on the stack's PostgreSQL server. */
export async function createDatabase(name: string): Promise<string> {
  const admin = new Client({ connectionString: databaseUrl });
  try {
    await admin.connect();
  } catch (err) {
    throw new Error(
      `PostgreSQL is not reachable at ${databaseUrl} (${(err as Error).message}): run \`npm run stack\``,
      { cause: err },
    );
  }
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const u = new URL(databaseUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

export async function dropDatabase(name: string): Promise<void> {
  const admin = new Client({ connectionString: databaseUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

/**
 * Starts the four services as processes (from dist/, so `npm run build`
 * first), isolated from the running stack and from other test files by a
 * queue namespace, a database and a registry path of their own.
 */
export async function startSystem(options: SystemOptions = {}): Promise<RunningSystem> {
  const main = path.join(repoRoot, 'dist', 'services', 'gateway', 'main.js');
  if (!existsSync(main)) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  const id = `t${randomBytes(4).toString('hex')}`;
  const dbName = `iib_${id}`;
  const dbUrl = await createDatabase(dbName);
  const port = await freePort();
  const registry = `${registryHost}/${id}`;
  const buildStateTopic = `topic://VirtualTopic.${id}.iib.build.state`;
  const batchStateTopic = `topic://VirtualTopic.${id}.iib.batch.state`;
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    IIB_DATABASE_URL: dbUrl,
    ...brokerEnv(`${id}.`),
    IIB_GATEWAY_PORT: String(port),
    IIB_REGISTRY: registry,
    LOGIN_DISABLED: 'true',
    IIB_MESSAGING_URLS: amqpUrl,
    IIB_MESSAGING_BUILD_STATE_DESTINATION: buildStateTopic,
    IIB_MESSAGING_BATCH_STATE_DESTINATION: batchStateTopic,
    IIB_SECRETS_KEY: randomBytes(32).toString('base64'),
    STORAGE_DRIVER: process.env.STORAGE_DRIVER ?? 'vfs',
    BUILDAH_ISOLATION: process.env.BUILDAH_ISOLATION ?? 'chroot',
    IIB_LOG_LEVEL: 'debug',
    ...(options.otlpUrl
      ? {
          IIB_OTEL_TRACING: 'true',
          OTEL_EXPORTER_OTLP_ENDPOINT: options.otlpUrl,
          OTEL_BSP_SCHEDULE_DELAY: '200',
          IIB_OTEL_BUFFER_DIR: path.join(repoRoot, '.stack', 'tmp', `otel-${id}`),
        }
      : {}),
    ...(options.env ?? {}),
  };
  const procs = new Map<ServiceName, ChildProcess>();
  const output = new Map<ServiceName, string>();

  const extras: ExtraProcess[] = [];

  const spawnService = async (
    service: ServiceName,
    extraEnv: Record<string, string>,
    onOutput: (text: string) => void,
    current: () => string,
    register: (child: ChildProcess) => void,
  ): Promise<ChildProcess> => {
    const child = spawn(
      process.execPath,
      [
        '--require',
        path.join(repoRoot, 'dist/shared/tracing/preload.js'),
        path.join(repoRoot, `dist/services/${service}/main.js`),
      ],
      {
        env: {
          ...env,
          OTEL_SERVICE_NAME: `iib-${service}`,
          ...(options.serviceEnv?.[service] ?? {}),
          ...extraEnv,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    register(child);
    const append = (chunk: Buffer): void => onOutput(chunk.toString());
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    const deadline = Date.now() + 30_000;
    while (!/"msg":"started"/.test(current())) {
      if (child.exitCode !== null) {
        throw new Error(`${service} exited with ${child.exitCode}:\n${current()}`);
      }
      if (Date.now() > deadline) throw new Error(`${service} did not start:\n${current()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return child;
  };

  const start = async (service: ServiceName): Promise<void> => {
    await spawnService(
      service,
      {},
      (text) => output.set(service, (output.get(service) ?? '') + text),
      () => output.get(service) ?? '',
      (c) => procs.set(service, c),
    );
  };

  const exitOf = async (child: ChildProcess, signal: NodeJS.Signals): Promise<number | null> => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    child.kill(signal);
    const [code] = await exited;
    return code;
  };

  const startExtra = async (
    service: ServiceName,
    extraEnv: Record<string, string> = {},
  ): Promise<ExtraProcess> => {
    let text = '';
    let handle: ExtraProcess | undefined;
    await spawnService(
      service,
      extraEnv,
      (t) => (text += t),
      () => text,
      (child) => {
        handle = { child, logs: () => text, kill: (signal = 'SIGTERM') => exitOf(child, signal) };
        extras.push(handle);
      },
    );
    return handle as ExtraProcess;
  };

  const kill = async (service: ServiceName, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    const child = procs.get(service);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    await exited;
  };

  const services = options.services ?? SERVICES;
  try {
    for (const s of services) await start(s);
  } catch (err) {
    for (const s of services) await kill(s, 'SIGKILL');
    throw err;
  }
  return {
    api: `http://127.0.0.1:${port}/api/v1`,
    namespace: id,
    databaseUrl: dbUrl,
    registry,
    buildStateTopic,
    batchStateTopic,
    env,
    logs: (s) => output.get(s) ?? '',
    start,
    kill,
    startExtra,
    stop: async () => {
      await Promise.all([...SERVICES.map((s) => kill(s)), ...extras.map((e) => e.kill())]);
      await dropDatabase(dbName).catch(() => undefined);
      await deleteNamespaceQueues(`${id}.`).catch(() => undefined);
    },
  };
}

/** Polls GET /builds/<id> until the request is in a final state. */
export async function waitForFinal(
  api: string,
  id: number,
  timeoutMs = 180_000,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${api}/builds/${id}`);
    const body = (await res.json()) as Record<string, unknown>;
    if (body.state === 'complete' || body.state === 'failed') return body;
    if (Date.now() > deadline)
      throw new Error(`request ${id} still ${String(body.state)}: ${String(body.state_reason)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
