import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { allConfigKeys } from '../support/config-keys';
import { repoRoot } from '../support/env';

/**
 * deploy/kubernetes rendered as kubectl would apply it (kustomize), checked
 * against the Kubernetes and KEDA schemas (scripts/validate-manifests.mjs,
 * kubernetes-models) and against the rules the services rely on: probes on
 * the endpoints they serve, non-root pods, one ScaledObject per lane
 * Deployment reading that lane's queue, only configuration keys that exist.
 */

type Obj = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec?: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- checked field by field below
  data?: Record<string, string>;
  stringData?: Record<string, string>;
};

const kustomizeDir = path.join(repoRoot, 'deploy', 'kubernetes');
const OVERLAYS = ['overlays/kind', 'overlays/kind-rabbitmq'] as const;

/** kustomize >= 5 (components, labels): a kustomize binary, else kubectl's built-in one. */
function render(dir: string): string {
  const target = path.join(kustomizeDir, dir);
  const candidates: [string, string[]][] = [
    ...(process.env.KUSTOMIZE ? [[process.env.KUSTOMIZE, ['build', target]] as [string, string[]]] : []),
    ['kustomize', ['build', target]],
    ['kubectl', ['kustomize', target]],
  ];
  for (const [bin, args] of candidates) {
    const r = spawnSync(bin, args, { encoding: 'utf8' });
    if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') continue;
    if (r.status !== 0) throw new Error(`${bin} ${args.join(' ')} failed:\n${r.stderr}`);
    return r.stdout;
  }
  throw new Error(
    'Neither kustomize nor kubectl is installed: install kubectl >= 1.27 (it embeds kustomize 5; ' +
      "Debian 12's kubernetes-client 1.20 is too old) or kustomize 5, or set KUSTOMIZE=/path/to/kustomize",
  );
}

function objects(yamlText: string): Obj[] {
  return parseAllDocuments(yamlText)
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => o !== null);
}

function validate(yamlText: string): { documents: number; kinds: string[]; errors: unknown[] } {
  const r = spawnSync(process.execPath, [path.join(repoRoot, 'scripts', 'validate-manifests.mjs')], {
    input: yamlText,
    encoding: 'utf8',
  });
  if (r.stdout === '') throw new Error(`validate-manifests.mjs printed nothing:\n${r.stderr}`);
  return JSON.parse(r.stdout) as { documents: number; kinds: string[]; errors: unknown[] };
}

const byKind = (objs: Obj[], kind: string): Obj[] => objs.filter((o) => o.kind === kind);

/** Environment names the manifests may set besides the services' own keys. */
const OTHER_ENV = new Set([
  'OTEL_SERVICE_NAME',
  'STORAGE_DRIVER',
  'BUILDAH_ISOLATION',
  'HOME',
  'XDG_RUNTIME_DIR',
]);

describe('Kubernetes manifests', () => {
  const rendered = new Map<string, Obj[]>();
  const texts = new Map<string, string>();

  beforeAll(() => {
    for (const dir of ['base', ...OVERLAYS]) {
      const text = render(dir);
      texts.set(dir, text);
      rendered.set(dir, objects(text));
    }
  });

  it.each(['base', ...OVERLAYS])(
    'when %s is rendered, then every object is valid against its schema',
    (dir) => {
      const report = validate(texts.get(dir)!);
      expect(report.errors).toEqual([]);
      expect(report.documents).toBe(rendered.get(dir)!.length);
      if (dir !== 'base') {
        expect(report.kinds).toEqual(
          expect.arrayContaining(['keda.sh/v1alpha1 ScaledObject', 'keda.sh/v1alpha1 TriggerAuthentication']),
        );
      }
    },
  );

  it('when an object is invalid, then the validator says so (it can fail)', () => {
    const report = validate(
      'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {template: {}}\n',
    );
    expect(report.errors).toEqual([
      { kind: 'Deployment', name: 'x', message: 'data/spec must have required property selector' },
    ]);
    const unknown = validate('apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n');
    expect(unknown.errors).toHaveLength(1);
  });

  it.each(OVERLAYS)('when %s is rendered, then every pod runs non-root with least privilege', (dir) => {
    const objs = rendered.get(dir)!;
    const pods = [...byKind(objs, 'Deployment'), ...byKind(objs, 'Job')];
    expect(pods.length).toBeGreaterThanOrEqual(6);
    for (const o of pods) {
      const pod = o.spec.template.spec;
      expect({ name: o.metadata.name, ...pod.securityContext }).toMatchObject({
        name: o.metadata.name,
        runAsNonRoot: true,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(pod.automountServiceAccountToken ?? false).toBe(false);
      for (const c of pod.containers) {
        const sc = c.securityContext;
        expect(sc.privileged ?? false).toBe(false);
        expect(sc.readOnlyRootFilesystem).toBe(true);
        expect(sc.capabilities.drop).toEqual(['ALL']);
        expect(c.resources.requests).toHaveProperty('memory');
        expect(c.resources.limits).toHaveProperty('memory');
        if (String(c.image).startsWith('iib-ts-builder')) {
          // Rootless buildah: newuidmap/newgidmap only, nothing that would mount.
          expect(sc.capabilities.add).toEqual(['SETUID', 'SETGID']);
        } else {
          expect(sc.allowPrivilegeEscalation).toBe(false);
          expect(sc.capabilities.add).toBeUndefined();
        }
      }
    }
  });

  it.each(OVERLAYS)('when %s is rendered, then every Deployment is probed on /healthz and /readyz', (dir) => {
    for (const d of byKind(rendered.get(dir)!, 'Deployment')) {
      for (const c of d.spec.template.spec.containers) {
        const ports = new Set((c.ports as { name: string }[]).map((p) => p.name));
        expect(c.livenessProbe.httpGet.path).toBe('/healthz');
        expect(c.readinessProbe.httpGet.path).toBe('/readyz');
        expect(ports).toContain(c.livenessProbe.httpGet.port);
        expect(ports).toContain(c.readinessProbe.httpGet.port);
      }
    }
  });

  it.each(OVERLAYS)(
    "when %s is rendered, then each lane's builders are scaled by KEDA on that lane",
    (dir) => {
      const objs = rendered.get(dir)!;
      const builders = byKind(objs, 'Deployment').filter((d) =>
        (d.spec.template.spec.containers as { image: string }[]).some((c) =>
          c.image.startsWith('iib-ts-builder'),
        ),
      );
      const scaled = byKind(objs, 'ScaledObject');
      expect(builders.map((b) => b.metadata.name).sort()).toEqual(
        scaled.map((s) => s.spec.scaleTargetRef.name as string).sort(),
      );
      const auths = new Set(byKind(objs, 'TriggerAuthentication').map((t) => t.metadata.name));
      const secrets = new Map(byKind(objs, 'Secret').map((s) => [s.metadata.name, s]));
      for (const b of builders) {
        const env = b.spec.template.spec.containers[0].env as { name: string; value: string }[];
        const lanes = env.find((e) => e.name === 'IIB_BUILDER_LANES')!.value;
        const [mode, lane] = lanes.split(':');
        const so = scaled.find((s) => s.spec.scaleTargetRef.name === b.metadata.name)!;
        const trigger = so.spec.triggers[0] as {
          type: string;
          metadata: Record<string, string>;
          authenticationRef: { name: string };
        };
        const queue = trigger.metadata.destinationName ?? trigger.metadata.queueName;
        expect(queue).toBe(`iib.build.${mode}.${lane}`);
        expect(auths).toContain(trigger.authenticationRef.name);
        if (trigger.type === 'activemq') {
          expect(trigger.metadata).toMatchObject({ brokerName: 'iib', targetQueueSize: '1' });
        } else {
          expect(trigger).toMatchObject({
            type: 'rabbitmq',
            metadata: { mode: 'QueueLength', protocol: 'http' },
          });
        }
        // A serial lane has one active consumer: more than a standby is waste.
        if (mode === 'serial') expect(so.spec.maxReplicaCount).toBeLessThanOrEqual(2);
      }
      for (const t of byKind(objs, 'TriggerAuthentication')) {
        for (const ref of t.spec.secretTargetRef as { name: string; key: string }[]) {
          const secret = secrets.get(ref.name);
          expect(secret).toBeDefined();
          expect(Object.keys({ ...secret!.data, ...secret!.stringData })).toContain(ref.key);
        }
      }
    },
  );

  it.each(OVERLAYS)('when %s is rendered, then every setting it passes is one a service reads', (dir) => {
    const objs = rendered.get(dir)!;
    const known = allConfigKeys();
    const config = byKind(objs, 'ConfigMap').find((c) => c.metadata.name.startsWith('iib-config'))!;
    const secret = byKind(objs, 'Secret').find((s) => s.metadata.name === 'iib-secrets')!;
    const names = [
      ...Object.keys(config.data ?? {}),
      ...Object.keys({ ...secret.data, ...secret.stringData }),
      ...byKind(objs, 'Deployment').flatMap((d) =>
        (d.spec.template.spec.containers as { env?: { name: string }[] }[]).flatMap((c) =>
          (c.env ?? []).map((e) => e.name),
        ),
      ),
    ];
    expect(names.filter((n) => !known.has(n) && !OTHER_ENV.has(n))).toEqual([]);
    // Secrets are not in the ConfigMap.
    for (const k of ['IIB_DATABASE_URL', 'IIB_SECRETS_KEY', 'IIB_AMQP_URLS', 'IIB_MESSAGING_URLS']) {
      expect(Object.keys(config.data ?? {})).not.toContain(k);
      expect(Object.keys({ ...secret.data, ...secret.stringData })).toContain(k);
    }
  });

  it('when compared with docker-compose.yml, then both use the same images and setting names', () => {
    const compose = parse(readFileSync(path.join(repoRoot, 'docker-compose.yml'), 'utf8'), {
      merge: true,
    }) as {
      services: Record<string, { image?: string; environment?: Record<string, string> }>;
    };
    const known = allConfigKeys();
    const composeImages = new Set(
      ['gateway', 'scheduler', 'builder', 'notifier', 'migrate'].map(
        (s) => compose.services[s]!.image!.split(':')[0],
      ),
    );
    const k8sImages = new Set(
      [
        ...byKind(rendered.get('overlays/kind')!, 'Deployment'),
        ...byKind(rendered.get('overlays/kind')!, 'Job'),
      ].map((d) => (d.spec.template.spec.containers[0].image as string).split(':')[0]),
    );
    expect([...k8sImages].sort()).toEqual([...composeImages].sort());
    for (const s of ['gateway', 'scheduler', 'builder', 'notifier', 'migrate']) {
      const env = Object.keys(compose.services[s]!.environment ?? {});
      expect({
        service: s,
        unknown: env.filter((n) => !known.has(n) && !OTHER_ENV.has(n) && !n.startsWith('OTEL_')),
      }).toEqual({ service: s, unknown: [] });
    }
  });

  it('when the images are built, then they run non-root, carry OCI labels and only production dependencies', () => {
    const dockerfile = readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8');
    const stage = (name: string): string => {
      const start = dockerfile.search(new RegExp(`^FROM\\s+\\S+\\s+AS\\s+${name}\\b`, 'm'));
      const rest = dockerfile.slice(start + 1);
      const next = rest.search(/^FROM\s/m);
      return next < 0 ? rest : rest.slice(0, next);
    };
    expect(stage('deps')).toMatch(/npm ci --omit=dev/);
    // Every stage starts from NODE_IMAGE, pinned by digest (the tag stays for readers).
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:24-bookworm-slim@sha256:[0-9a-f]{64}$/m);
    expect([...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1])).toEqual(
      expect.not.arrayContaining([expect.not.stringMatching(/^(\$\{NODE_IMAGE\}|runtime)$/)]),
    );
    expect(stage('runtime')).toMatch(/COPY --from=deps \/app\/node_modules/);
    expect(stage('runtime')).toMatch(/org\.opencontainers\.image\.revision/);
    for (const name of ['runtime', 'builder']) {
      const users = [...stage(name).matchAll(/^USER\s+(\S+)/gm)].map((m) => m[1]);
      expect({ name, last: users.at(-1) }).toEqual({ name, last: '1000:1000' });
    }
    expect(stage('builder')).toMatch(/builder:100000:65536' > \/etc\/subuid/);
    // The storage path the manifests mount is the one the image prepares.
    const builder = byKind(rendered.get('overlays/kind')!, 'Deployment').find(
      (d) => d.metadata.name === 'iib-builder-parallel-iib',
    )!;
    const mounts = (builder.spec.template.spec.containers[0].volumeMounts as { mountPath: string }[]).map(
      (m) => m.mountPath,
    );
    expect(mounts).toEqual(expect.arrayContaining(['/home/builder/.local/share/containers', '/var/tmp/iib']));
    expect(stage('builder')).toMatch(
      /VOLUME \["\/home\/builder\/\.local\/share\/containers", "\/var\/tmp\/iib"\]/,
    );
    const compose = parse(readFileSync(path.join(repoRoot, 'docker-compose.yml'), 'utf8'), {
      merge: true,
    }) as {
      services: Record<string, Record<string, unknown>>;
    };
    expect(compose.services.builder).not.toHaveProperty('privileged');
    expect(compose.services.builder!.cap_add).toEqual(['SETUID', 'SETGID']);
  });
});
