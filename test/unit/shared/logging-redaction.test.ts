import { Writable } from 'node:stream';
import { createLogger, REDACTED, redactSecrets } from '../../../shared/logging';

describe('redactSecrets', () => {
  it('when an object holds no secret key, then the very same object is returned', () => {
    const obj = { request: 7, params: { bundles: ['a'], nested: { deep: [1, { x: 2 }] } } };
    expect(redactSecrets(obj)).toBe(obj);
  });

  it('when secrets sit at any depth, in arrays or under mixed-case keys, then a copy has them censored and the original is untouched', () => {
    const obj = {
      token: 't0',
      params: { overwrite_from_index_token: 'user:t1', bundles: ['a'] },
      items: [{ auth: { Password: 'p2' } }, { ok: true }],
      headers: { Authorization: 'Bearer t3', cookie: 'session=t4' },
      a: { b: { c: { d: { registry_auths: { auths: { 'quay.io': { auth: 't5' } } } } } } },
    };
    const snapshot = JSON.stringify(obj);
    const out = redactSecrets(obj);
    const text = JSON.stringify(out);
    for (const secret of ['t0', 't1', 'p2', 't3', 't4', 't5']) expect(text).not.toContain(`${secret}"`);
    expect(out.params).toEqual({ overwrite_from_index_token: REDACTED, bundles: ['a'] });
    expect(out.items[1]).toBe(obj.items[1]);
    expect(out.params.bundles).toBe(obj.params.bundles);
    expect(JSON.stringify(obj)).toBe(snapshot);
  });

  it('when an Error carries a secret property, then the copy is still an Error with its message and stack', () => {
    const err = Object.assign(new Error('copy failed'), { password: 'hunter2' });
    const out = redactSecrets({ err }).err;
    expect(out).toBeInstanceOf(Error);
    expect(out.message).toBe('copy failed');
    expect(out.stack).toBe(err.stack);
    expect(out.password).toBe(REDACTED);
    expect(err.password).toBe('hunter2');
  });
});

describe('createLogger', () => {
  it('when a line logs secrets, then the written line holds none of them, and keeps everything else', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const real = createLogger('unit', 'info', sink);
    real.info(
      {
        request: 3,
        params: { overwrite_target_index_token: 'u:secret-1' },
        err: Object.assign(new Error('boom'), { token: 'secret-2' }),
      },
      'submitted',
    );
    real
      .child({ builder: 'b-1' })
      .warn({ registry_auths: { auths: {} }, auth: { token: 'secret-3' } }, 'pull');
    const written = lines.join('');
    for (const s of ['secret-1', 'secret-2', 'secret-3']) expect(written).not.toContain(s);
    const [first, second] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(first).toMatchObject({
      service: 'unit',
      request: 3,
      msg: 'submitted',
      err: { message: 'boom', token: REDACTED },
    });
    expect(second).toMatchObject({ builder: 'b-1', registry_auths: REDACTED, auth: { token: REDACTED } });
  });
});
