import { negotiateChallenge } from '../../../services/cli/negotiate';
import { createProgress, fitLine, formatElapsed } from '../../../services/cli/progress';
import { apiBase, authOf } from '../../../services/cli/settings';
import { finalLine, RequestJson, statusLine } from '../../../services/cli/wait';
import { captureIo } from './capture';

const req = (over: Partial<RequestJson>): RequestJson => ({
  id: 1,
  request_type: 'add',
  state: 'in_progress',
  state_reason: 'The request was initiated',
  ...over,
});

describe('iib connection settings', () => {
  it('when the server is a host or already the API base, then the API base is …/api/v1 once', () => {
    expect(apiBase('http://127.0.0.1:8080')).toBe('http://127.0.0.1:8080/api/v1');
    expect(apiBase('https://iib.example.com/')).toBe('https://iib.example.com/api/v1');
    expect(apiBase('https://iib.example.com/api/v1/')).toBe('https://iib.example.com/api/v1');
    expect(() => apiBase('iib.example.com')).toThrow('invalid server URL');
  });

  it('when two ways to authenticate are given as flags, then it is a usage error', () => {
    expect(() => authOf({ token: 't', kerberos: true }, { env: {} })).toThrow('choose one way');
  });

  it('when only the environment names a user, then Basic is used with IIB_PASSWORD, and a token wins over it', async () => {
    const basic = authOf({}, { env: { IIB_USER: 'alice', IIB_PASSWORD: 'pw' } });
    expect(basic.kind).toBe('basic');
    if (basic.kind === 'basic') await expect(basic.password()).resolves.toBe('pw');
    expect(authOf({}, { env: { IIB_USER: 'alice', IIB_TOKEN: 't' } })).toEqual({
      kind: 'bearer',
      token: 't',
    });
    expect(authOf({}, { env: {} })).toEqual({ kind: 'none' });
  });

  it('when there is no password and no terminal, then asking for it fails with what to set', async () => {
    const basic = authOf({ user: 'alice' }, { env: {} });
    if (basic.kind !== 'basic') throw new Error('expected basic');
    await expect(basic.password()).rejects.toThrow('set IIB_PASSWORD');
  });

  it('when the password is prompted, then it is asked once for all the calls of a command', async () => {
    const prompt = jest.fn().mockResolvedValue('typed');
    const basic = authOf({ user: 'alice' }, { env: {}, promptSecret: prompt });
    if (basic.kind !== 'basic') throw new Error('expected basic');
    await basic.password();
    await basic.password();
    expect(prompt).toHaveBeenCalledTimes(1);
  });

  it('when WWW-Authenticate offers Negotiate, with or without a token or among other schemes, then it is found', () => {
    expect(negotiateChallenge('Negotiate')).toBe('');
    expect(negotiateChallenge('Basic realm="iib", Negotiate')).toBe('');
    expect(negotiateChallenge('Negotiate YWJj')).toBe('YWJj');
    expect(negotiateChallenge('Basic realm="iib"')).toBeUndefined();
    expect(negotiateChallenge(null)).toBeUndefined();
  });
});

describe('iib --wait progress', () => {
  it('when formatting elapsed time and long lines, then minutes:seconds and lines cut to the width', () => {
    expect(formatElapsed(75_000)).toBe('1:15');
    expect(formatElapsed(3_725_000)).toBe('1:02:05');
    expect(fitLine('x'.repeat(50), 30)).toHaveLength(29);
    expect(fitLine('short', 30)).toBe('short');
  });

  it('when output is not a terminal, then each change is one plain line with the elapsed time, repeats dropped', () => {
    const c = captureIo();
    let t = 0;
    const p = createProgress(c.io.stderr, { now: () => t });
    p.update('request 1 add in_progress (step 1): a');
    t = 5_000;
    p.update('request 1 add in_progress (step 1): a');
    p.update('request 1 add in_progress (step 2): b');
    t = 65_000;
    p.stop('done');
    expect(c.err()).toBe(
      '[0:00] request 1 add in_progress (step 1): a\n[0:05] request 1 add in_progress (step 2): b\n[1:05] done\n',
    );
  });

  it('when output is a terminal, then one line is rewritten in place, the cursor hidden and restored', () => {
    const c = captureIo({}, true);
    const p = createProgress(c.io.stderr, { now: () => 0, intervalMs: 10_000 });
    p.update('working');
    p.stop('✔ finished');
    const err = c.err();
    expect(err.startsWith('\x1b[?25l')).toBe(true);
    expect(err).toContain('\r\x1b[2K⠋ working · 0:00');
    expect(err.endsWith('\r\x1b[2K✔ finished · 0:00\n\x1b[?25h')).toBe(true);
    expect(err.split('\n')).toHaveLength(2);
  });

  it('when requests progress, then the status shows state, step and reason, and the final line the failures', () => {
    const one = req({
      state_reason: 'Building',
      state_history: [
        { state: 'in_progress', state_reason: 'Building', updated: '' },
        { state: 'in_progress', state_reason: 'The request was initiated', updated: '' },
      ],
    });
    expect(statusLine([one])).toBe('request 1 add in_progress (step 2): Building');
    expect(statusLine([req({ id: 1, state: 'complete' }), req({ id: 2, state_reason: 'Resolving' })])).toBe(
      '2 requests: 1 complete, 1 in_progress; request 2: Resolving',
    );
    expect(finalLine([req({ state: 'failed', state_reason: 'no such image' })])).toBe(
      '✖ request 1 add failed: no such image',
    );
    expect(
      finalLine([req({ id: 1, state: 'complete' }), req({ id: 2, state: 'failed', state_reason: 'x' })]),
    ).toBe('✖ 1 of 2 requests failed\n  request 2 add failed: x');
  });
});
