import { SecretBox } from '../../../shared/crypto';
import { ValidationError } from '../../../shared/errors';

describe('SecretBox', () => {
  const box = new SecretBox(SecretBox.generateKey());

  it('when a secret is sealed, then only the same key opens it and the ciphertext does not contain it', () => {
    const sealed = box.seal({ token: 'user:hunter2' }, 'request-1');
    expect(sealed).not.toContain('hunter2');
    expect(box.open(sealed, 'request-1')).toEqual({ token: 'user:hunter2' });
    expect(() => new SecretBox(SecretBox.generateKey()).open(sealed, 'request-1')).toThrow(ValidationError);
  });

  it('when the ciphertext or its context is changed, then opening fails', () => {
    const sealed = box.seal('x', 'request-1');
    expect(() => box.open(sealed, 'request-2')).toThrow(/failed authentication/);
    const parts = sealed.split('.');
    parts[3] = Buffer.from('tampered').toString('base64url');
    expect(() => box.open(parts.join('.'), 'request-1')).toThrow(/failed authentication/);
  });

  it('when the key is not 32 bytes, then it is refused', () => {
    expect(() => new SecretBox(Buffer.alloc(16).toString('base64'))).toThrow(/32 bytes/);
  });
});
