import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { OtlpReceiver, ReceivedSpan } from '../support/otlp-receiver';

export const ROOT = path.resolve(__dirname, '../..');
export const PRELOAD = path.join(ROOT, 'dist/shared/tracing/preload.js');
export const FIXTURES = path.join(ROOT, 'test/fixtures/tracing');

export const AMQP = { host: '127.0.0.1', port: 5672, username: 'guest', password: 'guest' };

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
      `RabbitMQ (AMQP 1.0) is not reachable on ${AMQP.host}:${AMQP.port}: run \`npm run stack\` to start the local stack`,
    );
  }
}

export function requireBuild(): void {
  if (!fs.existsSync(PRELOAD)) throw new Error(`${PRELOAD} is missing: run \`npm run build\` first`);
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `iib-${prefix}-`));
}

const createdQueues: string[] = [];

export function uniqueQueue(name: string): string {
  const queue = `iib-test-${name}-${process.pid}-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
  createdQueues.push(queue);
  return `/queue/${queue}`;
}

/** Remove the queues this test file declared (best effort, through the management API). */
export async function deleteTestQueues(): Promise<void> {
  const auth = Buffer.from(`${AMQP.username}:${AMQP.password}`).toString('base64');
  for (const queue of createdQueues.splice(0)) {
    await fetch(`http://${AMQP.host}:15672/api/queues/%2F/${encodeURIComponent(queue)}`, {
      method: 'DELETE',
      headers: { authorization: `Basic ${auth}` },
    }).catch(() => undefined);
  }
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
    IIB_MESSAGING_SYSTEM: 'rabbitmq',
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
