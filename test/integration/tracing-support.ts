import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { deleteNamespaceQueues } from '../support/broker-admin';
import { amqpHost, amqpPort, amqpUrl, brokerDialect } from '../support/env';
import type { OtlpReceiver, ReceivedSpan } from '../support/otlp-receiver';
import { getDialect } from '../../shared/messaging/dialect';
import type { DialectName } from '../../shared/config';

export const ROOT = path.resolve(__dirname, '../..');
export const PRELOAD = path.join(ROOT, 'dist/shared/tracing/preload.js');
export const FIXTURES = path.join(ROOT, 'test/fixtures/tracing');

/** The tests' broker (test/support/env.ts: the stack's, ActiveMQ Classic unless moved). */
export const AMQP = {
  host: amqpHost,
  port: amqpPort,
  username: decodeURIComponent(new URL(amqpUrl).username) || 'guest',
  password: decodeURIComponent(new URL(amqpUrl).password) || 'guest',
};

/** `messaging.system` of the tests' broker, as the services' spans say it. */
export const MESSAGING_SYSTEM = getDialect(brokerDialect as DialectName).system;

/** Fails (never skips) when the broker is down, saying how to start it. */
export async function requireBroker(): Promise<void> {
  const reachable = await new Promise<boolean>((resolve) => {
    const socket = net.connect({ host: AMQP.host, port: AMQP.port });
    socket.setTimeout(2000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
  if (!reachable) {
    throw new Error(
      `The AMQP 1.0 broker (${brokerDialect}) is not reachable on ${AMQP.host}:${AMQP.port}: run \`npm run stack\` to start the local stack`,
    );
  }
}

export function requireBuild(): void {
  if (!fs.existsSync(PRELOAD)) throw new Error(`${PRELOAD} is missing: run \`npm run build\` first`);
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `iib-${prefix}-`));
}

/** Every queue of this process's tests starts with it, so they are removed together. */
const QUEUE_PREFIX = `iib-test-${process.pid}-`;

/**
 * A queue of its own for one test, as an address the broker creates on first
 * use: RabbitMQ's `/queue/X`, ActiveMQ's `queue://X`, Artemis' `X`.
 */
export function uniqueQueue(name: string): string {
  const queue = `${QUEUE_PREFIX}${name}-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
  if (brokerDialect === 'rabbitmq') return `/queue/${queue}`;
  return getDialect(brokerDialect as DialectName).destination(`queue://${queue}`).address;
}

/** Remove the queues this test file declared (best effort, through the broker's management API). */
export async function deleteTestQueues(): Promise<void> {
  await deleteNamespaceQueues(QUEUE_PREFIX).catch(() => undefined);
}

/** Environment for a traced child process exporting to `receiver`. */
export function tracingEnv(
  receiver: OtlpReceiver | undefined,
  extra: Record<string, string> = {},
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env))
    if (key.startsWith('OTEL_') || key.startsWith('IIB_OTEL')) delete env[key];
  return {
    ...env,
    IIB_OTEL_TRACING: 'true',
    OTEL_SERVICE_NAME: 'tracing-fixture',
    IIB_MESSAGING_SYSTEM: MESSAGING_SYSTEM,
    AMQP_HOST: AMQP.host,
    AMQP_PORT: String(AMQP.port),
    AMQP_USERNAME: AMQP.username,
    AMQP_PASSWORD: AMQP.password,
    OTEL_BSP_SCHEDULE_DELAY: '100',
    OTEL_EXPORTER_OTLP_TIMEOUT: '2000',
    IIB_OTEL_BUFFER_RETRY_MS: '200',
    ...(receiver ? { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url } : {}),
    ...extra,
  };
}

export interface FixtureRun {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves when stdout has a line satisfying the predicate. */
  waitForLine: (predicate: (line: string) => boolean, timeoutMs?: number) => Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startFixture(script: string, args: string[], env: NodeJS.ProcessEnv, cwd = ROOT): FixtureRun {
  const child = spawn(process.execPath, ['--require', PRELOAD, path.join(FIXTURES, script), ...args], {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const listeners = new Set<() => void>();
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    for (const l of [...listeners]) l();
  });
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const waitForLine = (predicate: (line: string) => boolean, timeoutMs = 20_000): Promise<string> =>
    new Promise((resolve, reject) => {
      const check = (): boolean => {
        const line = out.split('\n').find(predicate);
        if (line === undefined) return false;
        done();
        resolve(line);
        return true;
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new Error(
            `fixture ${script}: expected line not printed within ${timeoutMs} ms\nstdout:\n${out}\nstderr:\n${err}`,
          ),
        );
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        listeners.delete(listener);
      };
      const listener = (): void => {
        check();
      };
      if (!check()) listeners.add(listener);
    });
  return { child, stdout: () => out, stderr: () => err, waitForLine, exited };
}

export function byName(spans: ReceivedSpan[], name: string): ReceivedSpan {
  const found = spans.filter((s) => s.name === name);
  if (found.length !== 1)
    throw new Error(
      `expected one span "${name}", got ${found.length}: ${spans.map((s) => s.name).join(', ')}`,
    );
  return found[0]!;
}
