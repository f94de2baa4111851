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

describe('errors in log lines', () => {
  const capture = (): { log: ReturnType<typeof createLogger>; lines: Record<string, unknown>[] } => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        cb();
      },
    });
    return { log: createLogger('unit', 'info', sink), lines };
  };

  it('when an error is logged under err, then its type, message and stack are recorded', () => {
    const { log, lines } = capture();
    const cause = new Error('connect ECONNREFUSED 127.0.0.1:5432');
    log.error({ err: new TypeError('query failed', { cause }) }, 'database unavailable');
    const err = lines[0]?.err as Record<string, unknown>;
    expect(err.type).toBe('TypeError');
    expect(err.message).toContain('query failed');
    expect(err.stack).toMatch(/^TypeError: query failed\n\s+at /);
    // The cause's stack too, as pino records it.
    expect(err.stack).toContain('ECONNREFUSED');
  });

  it('when an error’s text holds credentials, then the line holds none of them', () => {
    const { log, lines } = capture();
    const err = Object.assign(
      new Error(
        'GET http://guest:hunter2@broker:15672/api failed: Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig',
      ),
      { body: '{"overwrite_from_index_token": "user:tok-77"}', password: 'pw-1' },
    );
    log.warn({ err }, 'management API unreachable');
    const text = JSON.stringify(lines[0]);
    for (const secret of ['hunter2', 'eyJhbGciOiJIUzI1NiJ9', 'tok-77', 'pw-1'])
      expect(text).not.toContain(secret);
    expect((lines[0]?.err as Record<string, unknown>).message).toContain('http://guest:***@broker:15672/api');
    expect((lines[0]?.err as Record<string, unknown>).stack).toContain('Bearer ***');
  });

  it('when something that is not an error is logged under err, then it is written as it is', () => {
    const { log, lines } = capture();
    log.warn({ err: 'plain text' }, 'odd');
    expect(lines[0]?.err).toBe('plain text');
  });
});
