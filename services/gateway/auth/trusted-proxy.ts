import type { Request } from 'express';
import type { Logger } from 'pino';
import type { Authenticator } from './authenticator';

function normalize(address: string): string {
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

/**
 * The user name set by an authenticating reverse proxy (as IIB's Apache
 * mod_auth_gssapi sets REMOTE_USER), believed only from the proxy's own
 * addresses: anyone else could set the header themselves.
 */
export function trustedProxyAuthenticator(options: {
  header: string;
  proxies: string[];
  log: Logger;
}): Authenticator {
  const proxies = new Set(options.proxies.map(normalize));
  return {
    name: 'trusted-proxy',
    async authenticate(req: Request) {
      const user = req.get(options.header);
      if (!user) return null;
      const peer = normalize(req.socket.remoteAddress ?? '');
      if (!proxies.has(peer)) {
        options.log.warn({ peer, header: options.header }, 'user header from an untrusted address ignored');
        return null;
      }
      return user.trim() || null;
    },
  };
}
