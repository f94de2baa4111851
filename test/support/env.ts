import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DialectName } from '../../shared/config';
import { getDialect } from '../../shared/messaging/dialect';

/**
 * Test defaults: where the local stack (`npm run stack`) listens and which
 * test images `scripts/test-images.sh` pushes. Each can be overridden by the
 * environment variable the services use for the same thing.
 */

export const repoRoot = path.resolve(__dirname, '..', '..');

export const fixturesDir =
  process.env.IIB_FIXTURES_DIR ?? path.resolve(repoRoot, '..', 'shared', 'fixtures', 'olm');

export const databaseUrl = process.env.IIB_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/iib';

/**
 * The broker keys of the local stack's `.stack/env` (scripts/stack.sh), so the
 * tests talk to the broker the stack's services use: ActiveMQ Classic unless
 * the stack was moved (`IIB_STACK_BROKER=rabbitmq npm run stack`).
 */
const STACK_ENV: ReadonlyMap<string, string> = (() => {
  let text = '';
  try {
    text = fs.readFileSync(path.join(repoRoot, '.stack', 'env'), 'utf8');
  } catch {
    // No local stack yet: the defaults below apply.
  }
  const keys = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (m?.[2]?.trim()) keys.set(m[1]!, m[2].trim());
  }
  return keys;
})();

function stackEnv(key: string): string | undefined {
  return STACK_ENV.get(key);
}

/** First of the failover list: tests talk to one broker. */
export const amqpUrl = (
  process.env.IIB_AMQP_URLS ??
  stackEnv('IIB_AMQP_URLS') ??
  'amqp://guest:guest@127.0.0.1:5673'
)
  .split(',')[0]!
  .trim();

export const brokerDialect = process.env.IIB_BROKER_DIALECT ?? stackEnv('IIB_BROKER_DIALECT') ?? 'activemq';

/** Host and port of the test broker (the first URL). */
export const amqpHost = new URL(amqpUrl).hostname;
export const amqpPort = Number(new URL(amqpUrl).port || (amqpUrl.startsWith('amqps:') ? 5671 : 5672));

/** The test broker's address of an IIB-style destination (`topic://X`, `queue://X`), as its dialect writes it. */
export function brokerAddress(iibStyle: string): string {
  return getDialect(brokerDialect as DialectName).destination(iibStyle).address;
}

export const rabbitmqManagementUrl =
  process.env.IIB_RABBITMQ_MANAGEMENT_URL ?? 'http://guest:guest@127.0.0.1:15672';

/** The local stack's ActiveMQ Classic (scripts/stack.sh): its Jolokia API. */
export const activemqJolokiaUrl = process.env.IIB_ACTIVEMQ_JOLOKIA_URL ?? 'http://127.0.0.1:8161/api/jolokia';

/** The Artemis of `bash scripts/stack.sh artemis`: its console's Jolokia API (guest/guest). */
export const artemisJolokiaUrl =
  process.env.IIB_ARTEMIS_JOLOKIA_URL ?? 'http://guest:guest@127.0.0.1:8164/console/jolokia';

/** The jars of the local stack's ActiveMQ, for tests that start a broker of their own. */
export const activemqHome = process.env.IIB_ACTIVEMQ_HOME ?? path.join(repoRoot, '.stack', 'activemq');

/** The broker settings of a service or a Messaging under test, its queues named `<namespace>...`. */
export function brokerEnv(namespace: string): Record<string, string> {
  return {
    IIB_AMQP_URLS: amqpUrl,
    IIB_BROKER_DIALECT: brokerDialect,
    IIB_RABBITMQ_MANAGEMENT_URL: rabbitmqManagementUrl,
    IIB_ACTIVEMQ_JOLOKIA_URL: activemqJolokiaUrl,
    IIB_AMQP_NAMESPACE: namespace,
  };
}

/** Registry the test images live in (plain HTTP). */
export const registryHost = process.env.IIB_TEST_REGISTRY ?? 'localhost:5000';

/**
 * Second listener on the same registry storage: the opm goldens name bundle
 * images `localhost:5055/fixtures/<op>-bundle:v<ver>`, so rendering that exact
 * reference reproduces their `image` fields byte for byte.
 */
export const goldenRegistryHost = 'localhost:5055';

/** Registry the builder pushes `iib-build:<id>` to (the stack's IIB_REGISTRY). */
export const buildRegistryHost = process.env.IIB_REGISTRY ?? 'localhost:5000';

export const testImageArches = ['amd64', 'arm64'] as const;

export const testImages = {
  /** Manifest list linux/amd64 + linux/arm64; FROM scratch, static busybox, label io.iib-test=binary. */
  binary: `${registryHost}/iib-test/binary:v1`,
  /**
   * The binary image plus /bin/opm, a stand-in for opm serve that enforces a
   * serve cache bound to the catalog (scripts/lib/opm-stand-in.sh);
   * ENTRYPOINT ["/bin/opm"], CMD ["serve", "/configs", "--cache-dir=/tmp/cache"].
   */
  binaryOpm: `${registryHost}/iib-test/binary-opm:v1`,
  /**
   * Manifest list linux/amd64 + linux/arm64, FROM the binary image, /configs =
   * the fixture catalog (six packages), labels
   * operators.operatorframework.io.index.configs.v1=/configs,
   * com.redhat.index.delivery.version=v4.18,
   * com.redhat.index.delivery.distribution_scope=prod.
   */
  index: `${registryHost}/iib-test/index:v4.18`,
  /** Package directories under /configs of the index image. */
  indexPackages: [
    'dotvirt-operator',
    'ecr-secret-operator',
    'kube-green',
    'kubevirt-wol',
    'odf-node-recovery-operator',
    'shipwright-operator',
  ],
  /** A fixture bundle (`fixtures/olm/bundles/<op>/<version>`): single layer, labels = annotations.yaml. */
  bundle: (operator: string, version: string): string =>
    `${registryHost}/fixtures/${operator}-bundle:v${version}`,
  /** The same bundle under the reference the opm goldens use. */
  goldenBundle: (operator: string, version: string): string =>
    `${goldenRegistryHost}/fixtures/${operator}-bundle:v${version}`,
} as const;

/** `http://host:port` for a registry host, IPv4 loopback for `localhost` (the registry binds 127.0.0.1). */
export function registryBaseUrl(host: string = registryHost): string {
  return `http://${host.replace(/^localhost(?=:|$)/, '127.0.0.1')}`;
}
