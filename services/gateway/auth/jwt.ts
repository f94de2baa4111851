import type { Request } from 'express';
import { createRemoteJWKSet, errors, jwtVerify } from 'jose';
import type { Logger } from 'pino';
import { DependencyError } from '../../../shared/errors';
import { AuthenticationFailed, authorization, Authenticator } from './authenticator';

export interface JwtOptions {
  issuer: string;
  audience: string;
  jwksUrl: string;
  usernameClaim: string;
  log: Logger;
}

/** Bearer tokens of an OIDC provider: signature by its JWKS, issuer, audience, expiry. */
export function jwtAuthenticator(options: JwtOptions): Authenticator {
  const jwks = createRemoteJWKSet(new URL(options.jwksUrl), {
    timeoutDuration: 5000,
    cooldownDuration: 30_000,
  });
  const challenge = 'Bearer realm="IIB"';
  return {
    name: 'jwt',
    challenge,
    async authenticate(req: Request) {
      const token = authorization(req, 'Bearer');
      if (token === null) return null;
      try {
        const { payload } = await jwtVerify(token, jwks, {
          issuer: options.issuer,
          audience: options.audience,
          clockTolerance: 30,
        });
        const user = payload[options.usernameClaim];
        if (typeof user !== 'string' || user === '') throw new AuthenticationFailed([challenge]);
        return user;
      } catch (err) {
        if (err instanceof AuthenticationFailed) throw err;
        if (err instanceof errors.JWKSTimeout || !(err instanceof errors.JOSEError)) {
          options.log.warn({ err }, 'JWKS unavailable');
          throw new DependencyError('The identity provider cannot be reached, try again later', {
            retryable: true,
          });
        }
        options.log.info({ code: err.code }, 'bearer token rejected');
        throw new AuthenticationFailed([`${challenge}, error="invalid_token"`]);
      }
    },
  };
}
