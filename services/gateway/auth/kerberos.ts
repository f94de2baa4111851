import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { DependencyError } from '../../../shared/errors';
import { AuthenticationFailed, authorization, Authenticator } from './authenticator';
import { AcceptorUnavailable, GssAcceptor, TicketRejected } from './kerberos-gssapi';

/** Index of the `@` that starts the realm: the last one not escaped by `\` (gss_display_name escapes `@` inside components). */
function realmSeparator(principal: string): number {
  for (let i = principal.length - 1; i >= 0; i--) {
    if (principal[i] !== '@') continue;
    let backslashes = 0;
    for (let j = i - 1; j >= 0 && principal[j] === '\\'; j--) backslashes++;
    if (backslashes % 2 === 0) return i;
  }
  return -1;
}

/**
 * The IIB user name of a client principal. IIB stores what mod_auth_gssapi
 * puts in REMOTE_USER, the whole `user@REALM` (iib/web/auth.py
 * `_get_kerberos_principal`; its tests and IIB_WORKER_USERNAMES use
 * `name@DOMAIN.LOCAL`), so that is the default. A deployment whose front end
 * mapped principals to local names (GssapiLocalName) lists its realms in
 * IIB_KERBEROS_STRIP_REALMS to keep its existing user names; realms not
 * listed keep the realm, so alice@A and alice@B never become one user.
 */
export function userFromPrincipal(principal: string, stripRealms: readonly string[]): string {
  const at = realmSeparator(principal);
  if (at > 0 && stripRealms.includes(principal.slice(at + 1))) return principal.slice(0, at);
  return principal;
}

export interface KerberosOptions {
  acceptor: GssAcceptor;
  stripRealms: readonly string[];
  log: Logger;
}

/** SPNEGO (`Authorization: Negotiate <token>`) with the gateway's own keytab, as IIB's Apache front does. */
export function kerberosAuthenticator(options: KerberosOptions): Authenticator {
  const challenge = 'Negotiate';
  return {
    name: 'kerberos',
    challenge,
    check: () => options.acceptor.check(),
    async authenticate(req: Request, res?: Response) {
      const token = authorization(req, 'Negotiate');
      if (token === null) return null;
      let accepted;
      try {
        accepted = await options.acceptor.accept(token);
      } catch (err) {
        if (err instanceof TicketRejected) {
          // The GSSAPI text says why (wrong service, expired, replay, not
          // Kerberos at all); the caller only learns that it failed.
          options.log.info({ reason: err.message }, 'kerberos ticket rejected');
          throw new AuthenticationFailed([challenge]);
        }
        if (err instanceof AcceptorUnavailable) {
          options.log.error({ err }, 'kerberos acceptor unavailable');
          throw new DependencyError('Kerberos authentication is unavailable, try again later', {
            retryable: true,
          });
        }
        throw err;
      }
      // Mutual authentication: the client may check that it spoke to the
      // service it asked for (requests-kerberos does when told to).
      if (accepted.response) res?.set('WWW-Authenticate', `Negotiate ${accepted.response}`);
      const user = userFromPrincipal(accepted.principal, options.stripRealms);
      options.log.debug({ principal: accepted.principal, user }, 'kerberos user authenticated');
      return user;
    },
  };
}
