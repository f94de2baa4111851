import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as YAML from 'yaml';
import { fixturesDir, registryBaseUrl, repoRoot, testImageArches, testImages } from '../support/env';

const run = promisify(execFile);

const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

interface ManifestList {
  mediaType?: string;
  manifests: Array<{ digest: string; platform?: { os?: string; architecture?: string } }>;
}

interface ImageConfig {
  architecture: string;
  os: string;
  config?: { Labels?: Record<string, string> };
}

async function skopeo(...args: string[]): Promise<string> {
  const { stdout } = await run('skopeo', args, { maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

async function rawManifest(ref: string): Promise<{ text: string; json: Record<string, unknown> }> {
  const text = await skopeo('inspect', '--raw', '--tls-verify=false', `docker://${ref}`);
  return { text, json: JSON.parse(text) as Record<string, unknown> };
}

async function imageConfig(ref: string, arch?: string): Promise<ImageConfig> {
  const archArgs = arch ? ['--override-arch', arch, '--override-os', 'linux'] : [];
  const text = await skopeo('inspect', '--config', '--tls-verify=false', ...archArgs, `docker://${ref}`);
  return JSON.parse(text) as ImageConfig;
}

function platformsOf(list: ManifestList): string[] {
  return list.manifests.map((m) => `${m.platform?.os}/${m.platform?.architecture}`).sort();
}

function fixtureBundles(): Array<{ operator: string; version: string; dir: string }> {
  const root = path.join(fixturesDir, 'bundles');
  return fs
    .readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((op) =>
      fs
        .readdirSync(path.join(root, op.name), { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((ver) => ({ operator: op.name, version: ver.name, dir: path.join(root, op.name, ver.name) })),
    )
    .sort((a, b) => `${a.operator}/${a.version}`.localeCompare(`${b.operator}/${b.version}`));
}

function annotationsOf(bundleDir: string): Record<string, string> {
  const doc = YAML.parse(fs.readFileSync(path.join(bundleDir, 'metadata', 'annotations.yaml'), 'utf8')) as {
    annotations: Record<string, unknown>;
  };
  return Object.fromEntries(Object.entries(doc.annotations).map(([k, v]) => [k, String(v)]));
}

/** Lists the files of an image (one arch) by copying it to a dir: transport and reading its layers. */
async function imageFiles(ref: string, arch: string): Promise<string[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iib-stack-test-'));
  try {
    await skopeo(
      'copy',
      '--quiet',
      '--src-tls-verify=false',
      '--override-arch',
      arch,
      `docker://${ref}`,
      `dir:${dir}`,
    );
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as {
      layers: Array<{ digest: string }>;
    };
    const files: string[] = [];
    for (const layer of manifest.layers) {
      const { stdout } = await run('tar', ['-tzf', path.join(dir, layer.digest.replace(/^sha256:/, ''))], {
        maxBuffer: 16 * 1024 * 1024,
      });
      files.push(...stdout.split('\n').filter(Boolean));
    }
    return files;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('local registry', () => {
  it('when the stack runs, then the registry answers the v2 API on localhost:5000 and localhost:5055', async () => {
    for (const host of ['localhost:5000', 'localhost:5055']) {
      const res = await fetch(`${registryBaseUrl(host)}/v2/`);
      expect(res.status).toBe(200);
    }
  });
});

describe('test images', () => {
  it.each([
    ['binary', testImages.binary],
    ['index', testImages.index],
  ])(
    'when the %s image is inspected, then it is a manifest list for linux/amd64 and linux/arm64',
    async (_, ref) => {
      const { json } = await rawManifest(ref);
      expect([DOCKER_LIST, OCI_INDEX]).toContain(json.mediaType);
      expect(platformsOf(json as unknown as ManifestList)).toEqual(
        testImageArches.map((a) => `linux/${a}`).sort(),
      );
    },
  );

  it.each(testImageArches)(
    'when the binary image is read for %s, then its config says that arch',
    async (arch) => {
      const config = await imageConfig(testImages.binary, arch);
      expect(config.architecture).toBe(arch);
      expect(config.os).toBe('linux');
      expect(config.config?.Labels).toMatchObject({ 'io.iib-test': 'binary' });
    },
  );

  it.each(testImageArches)(
    'when the index image is read for %s, then it has the index labels and the fixture packages under /configs',
    async (arch) => {
      const config = await imageConfig(testImages.index, arch);
      expect(config.architecture).toBe(arch);
      expect(config.config?.Labels).toMatchObject({
        'operators.operatorframework.io.index.configs.v1': '/configs',
        'com.redhat.index.delivery.version': 'v4.18',
      });

      const files = await imageFiles(testImages.index, arch);
      const packages = files
        .map((f) => /^\.?\/?configs\/([^/]+)\/catalog\.yaml$/.exec(f)?.[1])
        .filter((p): p is string => p !== undefined)
        .sort();
      expect(packages).toEqual([...testImages.indexPackages].sort());
      expect(files).toEqual(expect.arrayContaining(['etc/iib-test/arch']));
    },
  );

  it('when the fixture catalog is listed, then the index image holds exactly its packages', () => {
    const catalogs = fs
      .readdirSync(path.join(fixturesDir, 'catalogs'), { withFileTypes: true })
      .filter((d) => d.isDirectory());
    expect(catalogs).toHaveLength(1);
    const packages = fs
      .readdirSync(path.join(fixturesDir, 'catalogs', catalogs[0]!.name), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
    expect(packages).toEqual([...testImages.indexPackages].sort());
  });

  it('when every fixture bundle is inspected, then its image labels are its annotations.yaml', async () => {
    const bundles = fixtureBundles();
    expect(bundles.length).toBeGreaterThan(20);
    for (const bundle of bundles) {
      const config = await imageConfig(testImages.bundle(bundle.operator, bundle.version));
      expect({ ref: bundle, labels: config.config?.Labels ?? {} }).toEqual({
        ref: bundle,
        labels: annotationsOf(bundle.dir),
      });
    }
  });

  it('when a bundle image is listed, then it is one layer with /manifests and /metadata only', async () => {
    const ref = testImages.bundle('foo', '0.1.0');
    const { json } = await rawManifest(ref);
    expect((json.layers as unknown[]).length).toBe(1);
    const files = await imageFiles(ref, 'amd64');
    const top = new Set(files.map((f) => f.replace(/^\.?\//, '').split('/')[0]));
    expect([...top].sort()).toEqual(['manifests', 'metadata']);
    expect(files).toEqual(
      expect.arrayContaining(['metadata/annotations.yaml', 'manifests/foo.v0.1.0.csv.yaml']),
    );
  });

  it('when the goldens refer to localhost:5055 or to a second tag, then the same image answers', async () => {
    const base = await rawManifest(testImages.bundle('foo', '0.3.1'));
    const golden = await rawManifest(testImages.goldenBundle('foo', '0.3.1'));
    const rebuild = await rawManifest(testImages.bundle('foo', '0.3.1-rebuild'));
    expect(golden.text).toBe(base.text);
    expect(rebuild.text).toBe(base.text);
  });
});

describe('docker-compose.yml', () => {
  type Service = Record<string, unknown> & {
    build?: { context?: string; target?: string } | string;
    environment?: Record<string, string>;
    depends_on?: Record<string, { condition: string }>;
    healthcheck?: { test: unknown };
    volumes?: string[];
  };
  const file = path.join(repoRoot, 'docker-compose.yml');
  // Compose resolves YAML merge keys (<<); the yaml package does with merge: true.
  const compose = YAML.parse(fs.readFileSync(file, 'utf8'), { merge: true }) as {
    services: Record<string, Service>;
    volumes?: Record<string, unknown>;
  };
  const services = compose.services;
  const appServices = ['gateway', 'scheduler', 'builder', 'notifier'];
  const dockerfile = fs.readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8');
  const stages = [...dockerfile.matchAll(/^FROM\s+\S+\s+AS\s+(\S+)/gim)].map((m) => m[1]);

  it('when parsed, then it has the broker, database, registry, tracing and the four services', () => {
    expect(Object.keys(services)).toEqual(
      expect.arrayContaining(['activemq', 'postgres', 'registry', 'jaeger', ...appServices]),
    );
    const pom = fs.readFileSync(path.join(repoRoot, 'deploy', 'activemq', 'pom.xml'), 'utf8');
    const version = /<activemq\.version>([^<]+)</.exec(pom)?.[1];
    // Compose runs the version the local stack installs and the tests run against.
    expect(services.activemq!.image).toBe(`apache/activemq-classic:${version}`);
    expect(services.postgres!.image).toMatch(/^postgres:15/);
    expect(services.registry!.image).toMatch(/^registry:2/);
    expect(services.jaeger!.image).toMatch(/^jaegertracing\/all-in-one:/);
  });

  it('when the builder is scaled, then nothing pins it to one container', () => {
    const builder = services.builder!;
    expect(builder).not.toHaveProperty('container_name');
    expect(builder).not.toHaveProperty('ports');
    expect(builder.privileged === true || Array.isArray(builder.cap_add)).toBe(true);
    expect(typeof builder.build === 'object' && builder.build.target).toBe('builder');
  });

  it.each(appServices)(
    'when %s starts, then it speaks the activemq dialect and exports traces to jaeger',
    (name) => {
      const env = services[name]!.environment!;
      expect(env).toMatchObject({
        IIB_BROKER_DIALECT: 'activemq',
        IIB_AMQP_URLS: 'amqp://activemq:5672',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://jaeger:4318',
        IIB_OTEL_TRACING: 'true',
      });
      expect(services[name]!.command).toEqual(
        expect.arrayContaining([
          '--require',
          './dist/shared/tracing/preload.js',
          `dist/services/${name}/main.js`,
        ]),
      );
      const build = services[name]!.build;
      expect(typeof build === 'object' && stages.includes(build.target)).toBe(true);
    },
  );

  it('when a service waits on another, then the condition is valid and a healthy wait has a healthcheck', () => {
    const conditions = ['service_started', 'service_healthy', 'service_completed_successfully'];
    for (const [name, service] of Object.entries(services)) {
      for (const [dep, { condition }] of Object.entries(service.depends_on ?? {})) {
        expect({ name, dep, known: dep in services }).toEqual({ name, dep, known: true });
        expect(conditions).toContain(condition);
        if (condition === 'service_healthy') {
          expect({ dep, healthcheck: services[dep]!.healthcheck !== undefined }).toEqual({
            dep,
            healthcheck: true,
          });
        }
      }
    }
    expect(services.gateway!.depends_on).toMatchObject({
      migrate: { condition: 'service_completed_successfully' },
      postgres: { condition: 'service_healthy' },
      activemq: { condition: 'service_healthy' },
    });
  });

  it('when a service mounts a file of the repository, then that file exists', () => {
    for (const service of Object.values(services)) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0]!;
        if (source.startsWith('.')) expect(fs.existsSync(path.join(repoRoot, source))).toBe(true);
        else expect(Object.keys(compose.volumes ?? {})).toContain(source);
      }
    }
  });

  it('when ActiveMQ loads deploy/activemq/activemq.xml, then it has AMQP, persistence, DLQs and virtual topics', () => {
    const xml = fs.readFileSync(path.join(repoRoot, 'deploy', 'activemq', 'activemq.xml'), 'utf8');
    expect(services.activemq!.command).toEqual(expect.arrayContaining(['xbean:file:/opt/iib/activemq.xml']));
    // Compose keeps the defaults; the local stack and test brokers set the placeholders.
    expect(xml).toMatch(
      /<transportConnector\s+name="amqp"\s+uri="amqp:\/\/\$\{iib\.amqp\.host:0\.0\.0\.0\}:\$\{iib\.amqp\.port:5672\}/,
    );
    expect(xml).toMatch(
      /<transportConnector\s+name="amqps"\s+uri="amqp\+ssl:\/\/[^"]*transport\.needClientAuth=true/,
    );
    expect(xml).toMatch(/persistent="true"/);
    expect(xml).toMatch(/<kahaDB /);
    expect(xml).toMatch(/<individualDeadLetterStrategy queuePrefix="DLQ\."/);
    expect(xml).toMatch(/<virtualTopic name="VirtualTopic\.>" prefix="Consumer\.\*\."/);
  });

  it('when the images are built, then the Dockerfile has the runtime and builder targets and the builder carries the tools', () => {
    expect(stages).toEqual(expect.arrayContaining(['build', 'runtime', 'builder']));
    const builderStage = dockerfile.slice(dockerfile.search(/^FROM\s+\S+\s+AS\s+builder/im));
    for (const tool of ['buildah', 'skopeo', 'podman']) expect(builderStage).toContain(tool);
  });
});
