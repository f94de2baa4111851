import { pythonJsonDumps } from '../../../services/notifier/python-json';

describe('pythonJsonDumps (Python json.dumps defaults)', () => {
  it('when given nested values, then it uses ", " and ": " and keeps key order', () => {
    expect(pythonJsonDumps({ b: 1, a: [true, null, 'x'], c: {}, d: [] })).toBe(
      '{"b": 1, "a": [true, null, "x"], "c": {}, "d": []}',
    );
  });

  it('when a string holds non-ASCII, DEL or control characters, then they are \\u escapes as ensure_ascii writes them', () => {
    expect(pythonJsonDumps('café – ✓ 🚀\u007f\u0001"\\\n\t')).toBe(
      '"caf\\u00e9 \\u2013 \\u2713 \\ud83d\\ude80\\u007f\\u0001\\"\\\\\\n\\t"',
    );
  });

  it('when numbers are integers, then they print as Python ints, never in exponent form', () => {
    expect(pythonJsonDumps([0, -3, 1e21, 1.5])).toBe('[0, -3, 1000000000000000000000, 1.5]');
  });

  it('when an object has undefined values, then they are left out as JSON.stringify does', () => {
    expect(pythonJsonDumps({ a: undefined, b: 2 })).toBe('{"b": 2}');
  });
});
