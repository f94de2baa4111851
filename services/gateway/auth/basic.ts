import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import bcrypt from 'bcryptjs';
import type { Request } from 'express';
import { ValidationError } from '../../../shared/errors';
import { AuthenticationFailed, authorization, Authenticator } from './authenticator';

/** Reads a users file: `name:bcrypt-hash` per line (htpasswd -B format), `#` comments. */
export function parseUsersFile(text: string): Map<string, string> {
  const users = new Map<string, string>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const colon = line.indexOf(':');
    const name = line.slice(0, colon);
    const hash = line.slice(colon + 1);
    if (colon <= 0 || !/^\$2[aby]\$\d\d\$.{53}$/.test(hash)) {
      throw new ValidationError(`users file line ${i + 1} is not "name:bcrypt-hash"`);
    }
    users.set(name, hash);
  });
  return users;
}

export function loadUsersFile(path: string): Map<string, string> {
  return parseUsersFile(readFileSync(path, 'utf8'));
}

const CACHE_MS = 5 * 60_000;

/**
 * HTTP Basic against the users file. bcrypt is slow on purpose, so a
 * verified (user, password, hash) triple is remembered for a few minutes,
 * keyed by its SHA-256, never by the password itself.
 */
export function basicAuthenticator(users: Map<string, string>): Authenticator {
  const verified = new Map<string, number>();
  const challenge = 'Basic realm="IIB"';
  return {
    name: 'basic',
    challenge,
    async authenticate(req: Request) {
      const credentials = authorization(req, 'Basic');
      if (credentials === null) return null;
      const decoded = Buffer.from(credentials, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon <= 0) throw new AuthenticationFailed([challenge]);
      const name = decoded.slice(0, colon);
      const password = decoded.slice(colon + 1);
      const hash = users.get(name);
      if (!hash) throw new AuthenticationFailed([challenge]);
      const key = createHash('sha256').update(`${name}\0${password}\0${hash}`).digest('hex');
      const until = verified.get(key);
      if (until !== undefined && until > Date.now()) return name;
      if (!(await bcrypt.compare(password, hash))) throw new AuthenticationFailed([challenge]);
      if (verified.size > 10_000) verified.clear();
      verified.set(key, Date.now() + CACHE_MS);
      return name;
    },
  };
}
