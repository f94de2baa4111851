import { execFile } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import { Client } from 'pg';
import {
  activemqJolokiaUrl,
  amqpUrl,
  brokerDialect,
  databaseUrl,
  fixturesDir,
  rabbitmqManagementUrl,
  registryBaseUrl,
  registryHost,
  repoRoot,
} from './env';

const START_HINT =
  'Start the local stack with: npm run stack   (bash scripts/stack.sh up; status: bash scripts/stack.sh status)';

/** How to start what this run's broker (IIB_BROKER_DIALECT) needs. */
function startHint(): string {
  if (brokerDialect === 'activemq') {
    return `${START_HINT}\nActiveMQ Classic alone: bash scripts/stack.sh activemq   (AMQP 1.0 on 127.0.0.1:5673, Jolokia on :8161)`;
  }
  if (brokerDialect === 'artemis') {
    return 'Artemis is not part of the local stack: start one and set IIB_AMQP_URLS (docs/stack.md, "Brokers")';
  }
  return START_HINT;
}
const CHECK_TIMEOUT_MS = 3000;

/** Jest passes more; this is the part we read. */
interface GlobalConfigLike {
  testPathPattern?: string;
}

/**
 * Unit tests do no I/O: `jest test/unit` must not need the stack, nor do the
 * workspace packages' own tests (`jest packages/catalog`). Any other
 * selection (including the full run) may hold integration or e2e tests.
 */
export function selectsOnlyUnitTests(testPathPattern: string | undefined): boolean {
  if (!testPathPattern) return false;
  return testPathPattern
    .split('|')
    .every((part) =>
      /(^|[\\/])(test[\\/]unit|packages([\\/][^\\/]+)?)([\\/]|$)/.test(part.replace(/^\.[\\/]/, '')),
    );
}

function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:***@');
}

async function checkPostgres(): Promise<void> {
  const client = new Client({ connectionString: databaseUrl, connectionTimeoutMillis: CHECK_TIMEOUT_MS });
  try {
    await client.connect();
    await client.query('select 1');
  } catch (err) {
    throw new Error(`PostgreSQL does not answer at ${redact(databaseUrl)}: ${(err as Error).message}`, {
      cause: err,
    });
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Opens a TCP connection and sends the AMQP 1.0 SASL protocol header: a 1.0
 * broker answers with an AMQP 1.0 header (RabbitMQ without its
 * rabbitmq_amqp1_0 plugin answers with 0-9-1 and closes).
 */
async function checkAmqp(): Promise<void> {
  const url = new URL(amqpUrl);
  const host = url.hostname;
  const port = Number(url.port || (url.protocol === 'amqps:' ? 5671 : 5672));
  if (url.protocol === 'amqps:') {
    await tcpConnect(host, port);
    return;
  }
  const header = await new Promise<Buffer>((resolve, reject) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`));
    }, CHECK_TIMEOUT_MS);
    let received = Buffer.alloc(0);
    socket.on('connect', () => socket.write(Buffer.from([0x41, 0x4d, 0x51, 0x50, 3, 1, 0, 0])));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 8) {
        clearTimeout(timer);
        socket.destroy();
        resolve(received.subarray(0, 8));
      }
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      reject(new Error('connection closed before the protocol header'));
    });
  }).catch((err: Error) => {
    throw new Error(`the AMQP broker does not answer at ${host}:${port}: ${err.message}`);
  });
  const isAmqp10 = header.toString('latin1', 0, 4) === 'AMQP' && header[5] === 1 && header[6] === 0;
  if (!isAmqp10) {
    throw new Error(
      `the broker at ${host}:${port} does not speak AMQP 1.0 (answered ${header.toString('hex')}); ` +
        'for RabbitMQ: rabbitmq-plugins enable rabbitmq_amqp1_0',
    );
  }
}

async function tcpConnect(host: string, port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const socket = net.connect({ host, port, timeout: CHECK_TIMEOUT_MS });
    socket.on('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.on('timeout', () => {
      socket.destroy();
      reject(new Error(`no connection to ${host}:${port} within ${CHECK_TIMEOUT_MS} ms`));
    });
    socket.on('error', reject);
  });
}

async function httpGet(url: string, what: string): Promise<void> {
  // fetch() refuses credentials in the URL: move them to a header.
  const parsed = new URL(url);
  const headers: Record<string, string> = {};
  if (parsed.username) {
    const user = decodeURIComponent(parsed.username);
    const pass = decodeURIComponent(parsed.password);
    headers.authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
    parsed.username = '';
    parsed.password = '';
  }
  let status: number;
  try {
    const res = await fetch(parsed, { headers, signal: AbortSignal.timeout(CHECK_TIMEOUT_MS) });
    status = res.status;
    await res.arrayBuffer();
  } catch (err) {
    const cause = (err as { cause?: { message?: string } }).cause?.message;
    throw new Error(`${what} does not answer at ${parsed.href}: ${cause ?? (err as Error).message}`, {
      cause: err,
    });
  }
  if (status !== 200) throw new Error(`${what} at ${parsed.href} answered HTTP ${status}`);
}

async function runTestImages(): Promise<void> {
  const script = path.join(repoRoot, 'scripts', 'test-images.sh');
  await new Promise<void>((resolve, reject) => {
    execFile(
      'bash',
      [script, '--quiet'],
      {
        cwd: repoRoot,
        env: { ...process.env, IIB_TEST_REGISTRY: registryHost, IIB_FIXTURES_DIR: fixturesDir },
        timeout: 15 * 60_000,
        maxBuffer: 16 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        if (stdout.trim()) process.stdout.write(`\n${stdout}`);
        if (err) {
          reject(new Error(`scripts/test-images.sh failed (${err.message.split('\n')[0]}):\n${stderr}`));
        } else {
          if (stderr.trim()) process.stderr.write(stderr);
          resolve();
        }
      },
    );
  });
}

export default async function globalSetup(globalConfig: GlobalConfigLike): Promise<void> {
  if (selectsOnlyUnitTests(globalConfig.testPathPattern)) return;

  const checks: Array<Promise<void>> = [
    checkPostgres(),
    checkAmqp(),
    httpGet(`${registryBaseUrl()}/v2/`, `the registry ${registryHost}`),
  ];
  if (brokerDialect === 'rabbitmq') {
    checks.push(
      httpGet(`${rabbitmqManagementUrl.replace(/\/$/, '')}/api/overview`, 'the RabbitMQ management API'),
    );
  }
  if (brokerDialect === 'activemq') {
    checks.push(
      httpGet(
        `${activemqJolokiaUrl.replace(/\/$/, '')}/read/org.apache.activemq:type=Broker,brokerName=iib/BrokerVersion`,
        'the ActiveMQ Jolokia API (IIB_ACTIVEMQ_JOLOKIA_URL)',
      ),
    );
  }
  const failures = (await Promise.allSettled(checks))
    .filter((r): r is PromiseRejectedResult => r.status === 'rejected')
    .map((r) => `  - ${(r.reason as Error).message}`);
  if (failures.length > 0) {
    throw new Error(
      `Integration and e2e tests need the local stack, and part of it is not reachable:\n${failures.join('\n')}\n${startHint()}`,
    );
  }

  await runTestImages();
}
