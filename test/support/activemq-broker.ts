import { ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { activemqHome, repoRoot } from './env';
import { freePort } from './system';
import type { TestPki } from './test-pki';

const run = promisify(execFile);

/**
 * An ActiveMQ Classic broker of a test's own: the local stack's jars
 * (.stack/activemq/lib, installed by scripts/stack.sh), the very
 * deploy/activemq/activemq.xml of compose and the stack, free loopback ports
 * and its own data directory, so a test may kill -9 it, restart it and give
 * it the certificates of its own CA without touching the shared broker.
 */
export interface TestBroker {
  amqpPort: number;
  amqpsPort: number;
  /** amqp://guest:guest@127.0.0.1:<amqpPort> */
  url: string;
  dataDir: string;
  /** SIGKILL: no shutdown hook runs, KahaDB is left as a crash leaves it. */
  kill(): Promise<void>;
  /** Starts it again on the same ports and data. */
  start(): Promise<void>;
  stop(): Promise<void>;
  log(): string;
}

const STACK_HINT =
  'ActiveMQ is not installed: run `bash scripts/stack.sh activemq` (or `npm run stack`), which installs it from Maven Central into .stack/activemq';

async function keystores(pki: TestPki, dir: string): Promise<{ keystore: string; truststore: string }> {
  const keystore = path.join(dir, 'broker.p12');
  const truststore = path.join(dir, 'truststore.p12');
  await run('openssl', [
    'pkcs12',
    '-export',
    '-in',
    pki.serverCert,
    '-inkey',
    pki.serverKey,
    '-certfile',
    pki.ca,
    '-name',
    'broker',
    '-out',
    keystore,
    '-passout',
    'pass:test-pass',
  ]);
  await run('keytool', [
    '-importcert',
    '-noprompt',
    '-alias',
    'ca',
    '-file',
    pki.ca,
    '-keystore',
    truststore,
    '-storetype',
    'PKCS12',
    '-storepass',
    'test-pass',
  ]);
  return { keystore, truststore };
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export async function startTestBroker(options: { pki?: TestPki } = {}): Promise<TestBroker> {
  const lib = path.join(activemqHome, 'lib');
  if (!existsSync(lib) || !readdirSync(lib).some((f) => f.startsWith('activemq-broker-'))) {
    throw new Error(`${STACK_HINT} (looked in ${lib}; IIB_ACTIVEMQ_HOME moves it)`);
  }
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'iib-activemq-'));
  const [amqpPort, amqpsPort, openwirePort] = [await freePort(), await freePort(), await freePort()];
  const conf = path.join(repoRoot, 'deploy', 'activemq');
  const tls = options.pki
    ? await keystores(options.pki, dataDir)
    : {
        keystore: path.join(activemqHome, 'tls', 'broker.p12'),
        truststore: path.join(activemqHome, 'tls', 'truststore.p12'),
      };
  const password = options.pki ? 'test-pass' : 'iib-stack';
  const args = [
    '-Xms32m',
    '-Xmx256m',
    `-Dactivemq.conf=${conf}`,
    `-Dactivemq.data=${path.join(dataDir, 'data')}`,
    '-Diib.amqp.host=127.0.0.1',
    `-Diib.amqp.port=${amqpPort}`,
    '-Diib.amqps.host=127.0.0.1',
    `-Diib.amqps.port=${amqpsPort}`,
    '-Diib.openwire.host=127.0.0.1',
    `-Diib.openwire.port=${openwirePort}`,
    `-Diib.ssl.keystore=file:${tls.keystore}`,
    `-Diib.ssl.keystore.password=${password}`,
    '-Diib.ssl.keystore.type=PKCS12',
    `-Diib.ssl.truststore=file:${tls.truststore}`,
    `-Diib.ssl.truststore.password=${password}`,
    '-Diib.ssl.truststore.type=PKCS12',
    `-Diib.web.config=file:${path.join(conf, 'no-web-console.xml')}`,
    '-cp',
    `${lib}/*`,
    'org.apache.activemq.console.command.ShellCommand',
    'start',
    `xbean:file:${path.join(conf, 'activemq.xml')}`,
  ];
  let child: ChildProcess | undefined;
  let output = '';

  const start = async (): Promise<void> => {
    const proc = spawn('java', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    proc.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    proc.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const deadline = Date.now() + 60_000;
    while (!/Apache ActiveMQ [\d.]+ \(iib, [^)]*\) started/.test(output.split('=== start').pop() ?? '')) {
      if (proc.exitCode !== null)
        throw new Error(`the test broker exited (${proc.exitCode}):\n${output.slice(-3000)}`);
      if (Date.now() > deadline)
        throw new Error(`the test broker did not start within 60 s:\n${output.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    if (!(await portOpen(amqpPort))) throw new Error(`the test broker does not listen on ${amqpPort}`);
  };
  const waitExit = async (): Promise<void> => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    await new Promise<void>((r) => c.once('exit', () => r()));
  };

  output += '=== start\n';
  await start();
  return {
    amqpPort,
    amqpsPort,
    url: `amqp://guest:guest@127.0.0.1:${amqpPort}`,
    dataDir,
    log: () => output,
    kill: async () => {
      child?.kill('SIGKILL');
      await waitExit();
    },
    start: async () => {
      output += '=== start\n';
      await start();
    },
    stop: async () => {
      child?.kill('SIGKILL');
      await waitExit();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
