import { CliError } from './io';

/** The part of the `kerberos` package the CLI uses. */
export interface KerberosModule {
  initializeClient(
    service: string,
    options?: { mechOID?: number },
  ): Promise<{ step(challenge: string): Promise<string> }>;
  GSS_MECH_OID_SPNEGO?: number;
}

/**
 * Loads `kerberos` (a native addon, an optional dependency) only when
 * --kerberos is used, so the CLI works where it could not be built.
 */
export function loadKerberos(): KerberosModule {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('kerberos') as KerberosModule;
  } catch (err) {
    throw new CliError(
      `--kerberos needs the "kerberos" npm package, which is not installed or not built here ` +
        `(${(err as Error).message.split('\n')[0]}). Install the system's Kerberos headers ` +
        `(Debian: libkrb5-dev), then run \`npm install kerberos\`.`,
    );
  }
}

/** The challenge of a `WWW-Authenticate: Negotiate [token]` header, or undefined if the server does not offer it. */
export function negotiateChallenge(header: string | null): string | undefined {
  if (!header) return undefined;
  // Several schemes may share one header: "Negotiate, Basic realm=x" or "Negotiate abc==".
  for (const part of header.split(',')) {
    const m = /^\s*Negotiate(?:\s+([A-Za-z0-9+/=]+))?\s*$/i.exec(part);
    if (m) return m[1] ?? '';
  }
  return undefined;
}

/**
 * The `Authorization: Negotiate <token>` value for a server (RFC 4559):
 * a SPNEGO token for the service principal HTTP@<host>, from the user's
 * ticket cache (`kinit`). A fresh context per request: servers keep a replay
 * cache, so a token is never sent twice.
 */
export async function negotiateHeader(
  url: string,
  load: () => KerberosModule = loadKerberos,
): Promise<string> {
  const krb = load();
  const host = new URL(url).hostname;
  const service = `HTTP@${host}`;
  try {
    const client = await krb.initializeClient(service, { mechOID: krb.GSS_MECH_OID_SPNEGO });
    const token = await client.step('');
    return `Negotiate ${token}`;
  } catch (err) {
    throw new CliError(
      `Kerberos authentication to ${service} failed: ${(err as Error).message}. ` +
        'Get a ticket with `kinit` first (`klist` shows it).',
    );
  }
}
