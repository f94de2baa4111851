import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { hashSync } from 'bcryptjs';
import { freePort } from './system';

/** Fixed: scripts/stack.sh lists localhost:5056 as a plain-HTTP registry for skopeo and buildah. */
export const AUTH_REGISTRY_PORT = 5056;
const REGISTRIES_CONF_DIR = '/etc/containers/registries.conf.d';

export interface Credentials {
  user: string;
  password: string;
  /** `user:password`, the form of overwrite_from_index_token. */
  token: string;
}

export interface AuthRegistry {
  /** localhost:5056 */
  host: string;
  /** May push (and pull). */
  owner: Credentials;
  stop(): Promise<void>;
}

function credentials(user: string): Credentials {
  const password = randomBytes(12).toString('hex');
  return { user, password, token: `${user}:${password}` };
}

function isEmptyBasic(header: string | undefined): boolean {
  if (!header) return true;
  const m = /^Basic\s+(.*)$/i.exec(header);
  if (!m) return false;
  const decoded = Buffer.from(m[1] ?? '', 'base64').toString('utf8');
  return decoded === '' || decoded === ':';
}

function assertTrusted(host: string): void {
  let listed = false;
  try {
    for (const f of readdirSync(REGISTRIES_CONF_DIR)) {
      if (readFileSync(path.join(REGISTRIES_CONF_DIR, f), 'utf8').includes(`"${host}"`)) listed = true;
    }
  } catch {
    // no drop-in directory: not listed
  }
  if (!listed) {
    throw new Error(
      `${host} is not listed as an insecure registry in ${REGISTRIES_CONF_DIR}: run \`bash scripts/stack.sh up\``,
    );
  }
}

/**
 * A real registry (Debian's docker-registry) that requires htpasswd auth,
 * behind a small proxy that makes it readable anonymously (it adds a
 * reader's credentials to anonymous GET/HEAD requests other than the /v2/
 * ping) while every write still needs the caller's own credentials: the
 * shape of a public quay.io repository. So a build can read the from index
 * without any token, and only an overwrite with the right token can push.
 */
export async function startAuthRegistry(): Promise<AuthRegistry> {
  const host = `localhost:${AUTH_REGISTRY_PORT}`;
  assertTrusted(host);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'iib-auth-registry-'));
  const owner = credentials('owner');
  const reader = credentials('reader');
  await writeFile(
    path.join(dir, 'htpasswd'),
    [owner, reader].map((c) => `${c.user}:${hashSync(c.password, 10)}`).join('\n') + '\n',
  );
  const internal = await freePort();
  await writeFile(
    path.join(dir, 'config.yml'),
    [
      'version: 0.1',
      'log:',
      '  level: warn',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${dir}/data`,
      'http:',
      `  addr: 127.0.0.1:${internal}`,
      'auth:',
      '  htpasswd:',
      '    realm: iib-test',
      `    path: ${dir}/htpasswd`,
      '',
    ].join('\n'),
  );
  let output = '';
  const child: ChildProcess = spawn('docker-registry', ['serve', path.join(dir, 'config.yml')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  const spawned = await Promise.race([
    once(child, 'spawn').then(() => true),
    once(child, 'error').then(() => false),
  ]);
  if (!spawned) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(
      'docker-registry could not be started: apt-get install docker-registry (or npm run stack)',
    );
  }
  const readerAuth = `Basic ${Buffer.from(reader.token).toString('base64')}`;
  const proxy = http.createServer((req, res) => {
    const headers = { ...req.headers };
    const read = req.method === 'GET' || req.method === 'HEAD';
    if (read && req.url !== '/v2/' && isEmptyBasic(headers.authorization)) headers.authorization = readerAuth;
    const upstream = http.request(
      { host: '127.0.0.1', port: internal, method: req.method, path: req.url, headers },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  const stop = async (): Promise<void> => {
    await new Promise<void>((resolve) => proxy.close(() => resolve()));
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const status = await fetch(`http://127.0.0.1:${internal}/v2/`)
        .then((r) => r.status)
        .catch(() => 0);
      if (status === 401) break;
      if (child.exitCode !== null || Date.now() > deadline) {
        throw new Error(`the auth registry did not come up on 127.0.0.1:${internal}:\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    proxy.listen(AUTH_REGISTRY_PORT, '127.0.0.1');
    await Promise.race([
      once(proxy, 'listening'),
      once(proxy, 'error').then(([err]) => {
        throw new Error(
          `port ${AUTH_REGISTRY_PORT} is taken (${(err as Error).message}); is another builder-overwrite test running?`,
        );
      }),
    ]);
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
  return { host, owner, stop };
}
