import { encodeBlob, goMarshal } from '../src/gojson';

describe('Go-compatible JSON', () => {
  it('when a map is marshalled, then keys come out in byte order and the value round-trips', () => {
    const value = { zeta: 1, alpha: { b: [true, null, 'x'], a: 2.5 }, Beta: 'y' };
    const text = goMarshal(value);
    expect(JSON.parse(text)).toEqual(value);
    const keys = [...text.matchAll(/"(\w+)":/g)].map((m) => m[1]);
    const topLevel = keys.filter((k) => ['zeta', 'alpha', 'Beta'].includes(k!));
    expect(topLevel).toEqual([...topLevel].sort());
  });

  it('when strings hold HTML characters, then marshal escapes them and blob encoding keeps them', () => {
    const value = { range: '<1.0.0 & >0.1.0' };
    expect(goMarshal(value)).not.toMatch(/[<>&]/);
    expect(JSON.parse(goMarshal(value))).toEqual(value);
    expect(encodeBlob(value)).toContain(value.range);
  });

  it('when strings hold U+2028, backspace or form feed, then they are written as Go writes them', () => {
    const value = { s: 'a\u2028b\bc\fd\\b' };
    const text = encodeBlob(value);
    expect(text).not.toContain('\u2028');
    expect(text).not.toMatch(/(?<!\\)\\[bf]/);
    expect(JSON.parse(text)).toEqual(value);
  });

  it('when a blob is encoded, then it uses a 4-space indent and ends with one newline', () => {
    const text = encodeBlob({ schema: 'olm.package', name: 'p' });
    expect(text.endsWith('}\n')).toBe(true);
    expect(text.split('\n')[1]).toMatch(/^ {4}"schema"/);
  });
});
