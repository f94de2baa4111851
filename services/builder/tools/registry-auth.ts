import { readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { ValidationError } from '../../../shared/errors';
import { repoOf } from './image-ref';

interface DockerConfig {
  auths: Record<string, { auth?: string } & Record<string, unknown>>;
}

async function readTemplate(file: string | undefined): Promise<DockerConfig> {
  if (!file) return { auths: {} };
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as Partial<DockerConfig>;
    return { auths: { ...(parsed.auths ?? {}) } };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { auths: {} };
    throw new ValidationError(`The docker config template ${file} is not valid JSON`);
  }
}

/**
 * The auth file of one request's pulls: the builder's template with the
 * request's `registry_auths` merged over it, written into the request's own
 * directory (mode 0600, removed with it). Undefined when there is nothing to write.
 */
export async function writePullAuthFile(
  workDir: string,
  template: string | undefined,
  registryAuths: { auths?: Record<string, { auth?: string }> } | undefined,
): Promise<string | undefined> {
  const config = await readTemplate(template);
  for (const [registry, entry] of Object.entries(registryAuths?.auths ?? {})) {
    config.auths[registry] = { ...entry };
  }
  if (Object.keys(config.auths).length === 0) return undefined;
  const file = path.join(workDir, 'pull-auth.json');
  await writeFile(file, JSON.stringify(config), { mode: 0o600 });
  return file;
}

/**
 * The auth file of an overwrite: the builder's template plus the caller's
 * token (`user:password`) for exactly the repository being overwritten, as
 * IIB's set_registry_token does, but in the request's own file, so no other
 * request (or a concurrent build on this host) ever sees the token.
 */
export async function writeOverwriteAuthFile(
  workDir: string,
  template: string | undefined,
  target: string,
  token: string,
): Promise<string> {
  const config = await readTemplate(template);
  config.auths[repoOf(target)] = { auth: Buffer.from(token, 'utf8').toString('base64') };
  const file = path.join(workDir, 'overwrite-auth.json');
  await writeFile(file, JSON.stringify(config), { mode: 0o600 });
  return file;
}

/** The strings to mask in logs and spans for a token: itself and its base64 and password. */
export function tokenSecrets(token: string | undefined): string[] {
  if (!token) return [];
  const out = [token, Buffer.from(token, 'utf8').toString('base64')];
  const colon = token.indexOf(':');
  if (colon >= 0) out.push(token.slice(colon + 1));
  return out;
}
