import type { Request, Response } from 'express';
import { UnauthorizedError } from '../../../shared/errors';

/**
 * One way to learn who is calling. Returns the user name, or null when the
 * request carries no credentials of this kind; throws UnauthorizedError for
 * credentials that are present but wrong.
 */
export interface Authenticator {
  readonly name: string;
  /** The WWW-Authenticate challenge of this scheme, if it has one. */
  readonly challenge?: string;
  /** `res` lets a scheme answer on success too (SPNEGO's mutual-authentication token). */
  authenticate(req: Request, res?: Response): Promise<string | null>;
  /** Checks at start that the scheme can work (e.g. the Kerberos keytab), so a bad setup fails the start. */
  check?(): Promise<void>;
}

/** werkzeug's Unauthorized description, which IIB answers with. */
export const UNAUTHORIZED_MESSAGE =
  "The server could not verify that you are authorized to access the URL requested. You either supplied the wrong credentials (e.g. a bad password), or your browser doesn't understand how to supply the credentials required.";

export class AuthenticationFailed extends UnauthorizedError {
  constructor(
    readonly challenges: string[] = [],
    message = UNAUTHORIZED_MESSAGE,
  ) {
    super(message);
  }
}

/** The credentials of an Authorization header with the given scheme, or null. */
export function authorization(req: Request, scheme: string): string | null {
  const header = req.get('authorization');
  if (!header) return null;
  const space = header.indexOf(' ');
  if (space < 0 || header.slice(0, space).toLowerCase() !== scheme.toLowerCase()) return null;
  return header.slice(space + 1).trim();
}
