import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import type { GatewayConfig } from '../../../shared/config';
import { AuthenticationFailed, Authenticator } from './authenticator';
import { basicAuthenticator, loadUsersFile } from './basic';
import { jwtAuthenticator } from './jwt';
import { kerberosAuthenticator } from './kerberos';
import { keytabAcceptor } from './kerberos-gssapi';
import { trustedProxyAuthenticator } from './trusted-proxy';

export { AuthenticationFailed, UNAUTHORIZED_MESSAGE } from './authenticator';
export type { Authenticator } from './authenticator';

export type AuthConfig = Pick<
  GatewayConfig,
  | 'loginDisabled'
  | 'authModes'
  | 'trustedProxyHeader'
  | 'trustedProxies'
  | 'usersFile'
  | 'oidcIssuer'
  | 'oidcAudience'
  | 'oidcJwksUrl'
  | 'oidcUsernameClaim'
  | 'kerberosKeytab'
  | 'kerberosServicePrincipal'
  | 'kerberosStripRealms'
>;

/** The authenticators the configuration asks for; none when login is disabled. */
export function createAuthenticators(config: AuthConfig, log: Logger): Authenticator[] {
  if (config.loginDisabled) return [];
  return config.authModes.map((mode) => {
    switch (mode) {
      case 'trusted-proxy':
        return trustedProxyAuthenticator({
          header: config.trustedProxyHeader,
          proxies: config.trustedProxies,
          log,
        });
      case 'basic':
        if (!config.usersFile) throw new Error('auth mode basic needs IIB_USERS_FILE');
        return basicAuthenticator(loadUsersFile(config.usersFile));
      case 'jwt':
        if (!config.oidcIssuer || !config.oidcAudience || !config.oidcJwksUrl) {
          throw new Error('auth mode jwt needs IIB_OIDC_ISSUER, IIB_OIDC_AUDIENCE and IIB_OIDC_JWKS_URL');
        }
        return jwtAuthenticator({
          issuer: config.oidcIssuer,
          audience: config.oidcAudience,
          jwksUrl: config.oidcJwksUrl,
          usernameClaim: config.oidcUsernameClaim,
          log,
        });
      case 'kerberos':
        if (!config.kerberosKeytab) throw new Error('auth mode kerberos needs IIB_KERBEROS_KEYTAB');
        return kerberosAuthenticator({
          acceptor: keytabAcceptor({
            keytab: config.kerberosKeytab,
            servicePrincipal: config.kerberosServicePrincipal,
          }),
          stripRealms: config.kerberosStripRealms,
          log,
        });
    }
  });
}

/** The authenticated user of a request (set by requireLogin), or null when login is disabled. */
export function currentUser(res: Response): string | null {
  return (res.locals.user as string | undefined) ?? null;
}

/**
 * IIB's @login_required: with authentication on, the first authenticator
 * that recognises credentials names the user; no credentials is a 401.
 */
export function requireLogin(authenticators: Authenticator[]) {
  const challenges = authenticators.flatMap((a) => (a.challenge ? [a.challenge] : []));
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    if (authenticators.length === 0) {
      res.locals.user = null;
      next();
      return;
    }
    for (const a of authenticators) {
      const user = await a.authenticate(req, res);
      if (user !== null) {
        res.locals.user = user;
        next();
        return;
      }
    }
    throw new AuthenticationFailed(challenges);
  };
}
