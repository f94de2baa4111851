import pino from 'pino';
import { resolveTlsFiles } from '../../../services/notifier/external-broker';

const log = pino({ level: 'silent' });

describe('resolveTlsFiles (IIB _get_ssl_domain)', () => {
  const present = (): boolean => true;

  it('when cert, key and CA exist, then all three are used', () => {
    expect(resolveTlsFiles({ cert: '/c', key: '/k', ca: '/a' }, log, present)).toEqual({
      cert: '/c',
      key: '/k',
      ca: '/a',
    });
  });

  it('when the key file is missing, then no client certificate is used (IIB skips authentication) but the CA still is', () => {
    expect(resolveTlsFiles({ cert: '/c', key: '/k', ca: '/a' }, log, (p) => p !== '/k')).toEqual({
      ca: '/a',
    });
  });

  it('when nothing is configured, then no TLS files are used', () => {
    expect(resolveTlsFiles({}, log, present)).toEqual({});
  });
});
