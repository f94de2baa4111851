import { buildIdCompare, goFormatVersion, parseVersion } from '../src/versions';

describe('versions as opm parses them', () => {
  it.each(['0.2', 'v1.0.0', '01.0.0', '1.0.0-01', '1.0.0+', ''])(
    'when "%s" is parsed, then it is rejected',
    (v) => {
      const r = parseVersion(v);
      expect(r.ok).toBe(false);
    },
  );

  it.each(['0.1.0', '1.0.0-alpha.1', '1.0.0+build.7', '10.20.30'])(
    'when "%s" is parsed, then it is accepted',
    (v) => {
      const r = parseVersion(v);
      expect(r.ok && r.version.raw).toBe(v);
    },
  );

  it('when versions differ only in build metadata, then the one without build sorts first', () => {
    const a = parseVersion('1.0.0');
    const b = parseVersion('1.0.0+1');
    if (!a.ok || !b.ok) throw new Error('parse failed');
    expect(buildIdCompare(a.version, b.version)).toBeLessThan(0);
    expect(buildIdCompare(b.version, a.version)).toBeGreaterThan(0);
  });

  it('when a version is printed Go-style, then every component appears', () => {
    const v = parseVersion('1.2.3-rc.4');
    if (!v.ok) throw new Error('parse failed');
    const text = goFormatVersion(v.version);
    for (const part of ['Major:1', 'Minor:2', 'Patch:3', 'VersionStr:rc', 'VersionNum:4'])
      expect(text).toContain(part);
  });
});
