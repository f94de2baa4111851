import { withoutWorkDir } from '../../../services/builder/build-handler';

describe('a failure reason', () => {
  it('when it names a path in the request directory, then only the part inside the directory is left', () => {
    const work = '/var/lib/iib/request-7-abc';
    expect(
      withoutWorkDir(`ENOENT: no such file or directory, open '${work}/bundles/0/manifests/x.yaml'`, work),
    ).toBe("ENOENT: no such file or directory, open 'bundles/0/manifests/x.yaml'");
    expect(withoutWorkDir(`cannot list ${work}`, work)).toBe('cannot list .');
  });

  it('when it names no such path, then it is unchanged', () => {
    expect(withoutWorkDir('IIB cannot access the following related images', '/w')).toBe(
      'IIB cannot access the following related images',
    );
  });
});
