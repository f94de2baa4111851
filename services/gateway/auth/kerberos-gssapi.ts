import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';

/**
 * The part of the `kerberos` package (mongodb's GSSAPI binding) the gateway
 * uses. Declared here rather than imported: the package is an optional,
 * native dependency, and the gateway must build and run without it when the
 * kerberos auth mode is off.
 */
export interface KerberosServerContext {
  username: string;
  response: string;
  contextComplete: boolean;
  step(token: string): Promise<string>;
}

export interface KerberosBinding {
  initializeServer(service: string): Promise<KerberosServerContext>;
}

/** What a verified SPNEGO token told us. */
export interface AcceptedContext {
  /** The client principal as GSSAPI displays it, `user@REALM`. */
  principal: string;
  /** The mutual-authentication token for `WWW-Authenticate: Negotiate <token>`, if GSSAPI made one. */
  response: string | undefined;
}

/** Accepts SPNEGO tokens with the gateway's service key. */
export interface GssAcceptor {
  /** Throws TicketRejected for a token that does not authenticate anyone, AcceptorUnavailable when the service key cannot be used. */
  accept(token: string): Promise<AcceptedContext>;
  /** Proves at start that the service key can be loaded, so a wrong keytab or principal fails the start and not every request. */
  check(): Promise<void>;
}

export class TicketRejected extends Error {}
export class AcceptorUnavailable extends Error {}

/**
 * GSSAPI's host-based name (`HTTP@host`) for a configured principal. The realm
 * is dropped on purpose: MIT Kerberos matches a host-based acceptor name
 * against keytab entries of any realm. `*` (or empty) means no name at all:
 * any key in the keytab may accept, as mod_auth_gssapi does by default.
 */
export function acceptorName(principal: string): string {
  const p = principal.trim();
  if (p === '' || p === '*') return '';
  if (!p.includes('/')) return p;
  const slash = p.indexOf('/');
  const service = p.slice(0, slash);
  const host = p.slice(slash + 1).replace(/@[^@]*$/, '');
  if (!service || !host || host.includes('/'))
    throw new Error(`service principal "${principal}" is not SERVICE/host[@REALM]`);
  return `${service}@${host}`;
}

// Standard base64 of a GSSAPI token; anything else is refused before it
// reaches native code.
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const MAX_TOKEN_CHARS = 64 * 1024;

function loadBinding(): KerberosBinding {
  try {
    return createRequire(__filename)('kerberos') as KerberosBinding;
  } catch (err) {
    throw new Error(
      'auth mode kerberos needs the optional "kerberos" package, a native addon built against MIT Kerberos: ' +
        'install libkrb5-dev (bash scripts/stack.sh up does) and run npm ci again ' +
        `(${err instanceof Error ? err.message : String(err)})`,
      { cause: err },
    );
  }
}

/**
 * The acceptor of a keytab. libkrb5 reads the keytab location from
 * KRB5_KTNAME in the process environment (there is no per-call keytab in
 * this binding), so the keytab is exported there; the gateway holds one
 * service identity, so one process-wide setting is enough.
 */
export function keytabAcceptor(options: {
  keytab: string;
  servicePrincipal: string;
  env?: NodeJS.ProcessEnv;
  binding?: KerberosBinding;
}): GssAcceptor {
  try {
    accessSync(options.keytab, constants.R_OK);
  } catch (err) {
    throw new Error(`IIB_KERBEROS_KEYTAB ${options.keytab} cannot be read`, { cause: err });
  }
  const name = acceptorName(options.servicePrincipal);
  const binding = options.binding ?? loadBinding();
  (options.env ?? process.env).KRB5_KTNAME = `FILE:${options.keytab}`;

  const context = async (): Promise<KerberosServerContext> => {
    try {
      return await binding.initializeServer(name);
    } catch (err) {
      throw new AcceptorUnavailable(
        `the service key of "${options.servicePrincipal}" cannot be used from ${options.keytab}: ${
          err instanceof Error ? err.message : String(err)
        }`,
      );
    }
  };

  return {
    async check() {
      await context();
    },
    async accept(token) {
      if (token.length > MAX_TOKEN_CHARS || !BASE64.test(token)) {
        throw new TicketRejected('the Negotiate token is not base64');
      }
      // One context per request: SPNEGO with Kerberos completes in one
      // round trip, and a context must never carry over to another caller.
      const server = await context();
      try {
        await server.step(token);
      } catch (err) {
        throw new TicketRejected(err instanceof Error ? err.message : String(err));
      }
      if (!server.contextComplete || !server.username) {
        throw new TicketRejected('the security context is not complete');
      }
      return { principal: server.username, response: server.response || undefined };
    },
  };
}
