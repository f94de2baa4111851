import {
  entryParts,
  isWithin,
  nameProblem,
  safeEntryPath,
  shown,
} from '../../../services/builder/tools/layers/layer-paths';

describe('naming image layer entries', () => {
  it('when a name has leading slashes and dots, then they are normalised', () => {
    expect(safeEntryPath('./configs//a/./b')).toBe('configs/a/b');
    expect(safeEntryPath('/configs')).toBe('configs');
    expect(entryParts('./')).toEqual([]);
  });

  it('when a name has a .. component, then it is refused with the in-image name', () => {
    expect(() => entryParts('configs/../../etc/passwd')).toThrow(
      'image layer entry "configs/../../etc/passwd" escapes the image root',
    );
  });

  it('when a name is too long, has a long component or a NUL byte, then the problem is named', () => {
    expect(nameProblem(`configs/${'a'.repeat(256)}`)).toBe('has a path component longer than 255 bytes');
    expect(nameProblem(`configs/${'a/'.repeat(2100)}`)).toBe('is longer than 4096 bytes');
    expect(nameProblem('configs/a\u0000b')).toBe('contains a NUL byte');
    expect(nameProblem('configs/a')).toBeUndefined();
  });

  it('when a name is shown, then control characters are masked and long names cut', () => {
    expect(shown('a\nb')).toBe('a?b');
    expect(shown('x'.repeat(300))).toHaveLength(203);
  });

  it('when checking containment, then only whole components count', () => {
    expect(isWithin(['configs', 'a'], ['configs'])).toBe(true);
    expect(isWithin(['configsx'], ['configs'])).toBe(false);
    expect(isWithin(['anything'], [])).toBe(true);
    expect(isWithin([], ['configs'])).toBe(false);
  });
});
