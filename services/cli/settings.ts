import { CliError, CliIo, EXIT } from './io';

export const DEFAULT_SERVER = 'http://127.0.0.1:8080';

export type AuthChoice =
  | { kind: 'none' }
  | { kind: 'basic'; user: string; password: () => Promise<string> }
  | { kind: 'bearer'; token: string }
  | { kind: 'kerberos' };

export interface GlobalFlags {
  server?: string;
  user?: string;
  token?: string;
  kerberos?: boolean;
}

/**
 * The API base (…/api/v1) from a server URL: users give the host
 * (`https://iib.example.com`), as iiblib does, or the full API base.
 */
export function apiBase(server: string): string {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new CliError(`invalid server URL "${server}" (expected e.g. ${DEFAULT_SERVER})`, EXIT.usage);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CliError(`invalid server URL "${server}": only http and https are supported`, EXIT.usage);
  }
  const path = url.pathname.replace(/\/+$/, '');
  url.pathname = path.endsWith('/api/v1') ? path : `${path}/api/v1`;
  url.search = '';
  url.hash = '';
  return url.toString().replace(/\/+$/, '');
}

export function serverOf(flags: GlobalFlags, env: CliIo['env']): string {
  return flags.server ?? (env.IIB_SERVER || DEFAULT_SERVER);
}

/**
 * One way to authenticate. Flags win over the environment; two flags at once
 * are refused rather than silently preferring one. The password is asked
 * only when a request needs it, and never accepted as a flag (it would show
 * in `ps` and in shell history).
 */
export function authOf(flags: GlobalFlags, io: Pick<CliIo, 'env' | 'promptSecret'>): AuthChoice {
  const given = [flags.kerberos && '--kerberos', flags.token && '--token', flags.user && '--user'].filter(
    (x): x is string => typeof x === 'string',
  );
  if (given.length > 1) {
    throw new CliError(`choose one way to authenticate, not ${given.join(' and ')}`, EXIT.usage);
  }
  if (flags.kerberos) return { kind: 'kerberos' };
  const token = flags.token ?? (given.length === 0 ? io.env.IIB_TOKEN : undefined);
  if (token) return { kind: 'bearer', token };
  const user = flags.user ?? io.env.IIB_USER;
  if (user) {
    let asked: Promise<string> | undefined;
    const password = (): Promise<string> => {
      if (io.env.IIB_PASSWORD !== undefined) return Promise.resolve(io.env.IIB_PASSWORD);
      if (!io.promptSecret) {
        return Promise.reject(
          new CliError(
            `no password for ${user}: set IIB_PASSWORD (there is no terminal to ask on)`,
            EXIT.usage,
          ),
        );
      }
      asked ??= io.promptSecret(`Password for ${user}: `);
      return asked;
    };
    return { kind: 'basic', user, password };
  }
  return { kind: 'none' };
}
