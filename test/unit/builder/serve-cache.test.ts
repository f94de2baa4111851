import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { manifestKind } from '../../../services/builder/tools/images';
import { indexDockerfile } from '../../../services/builder/index-image';
import { opmWords, resolveInRoot } from '../../../services/builder/index-image/serve-cache';
import {
  builderArch,
  cacheDirOf,
  IIB_CMD,
  IIB_ENTRYPOINT,
  indexCommand,
} from '../../../services/builder/index-image/serve-command';

describe('the serve command of an index image', () => {
  it("when the binary image starts `opm serve` itself, then the index keeps that command, else it gets IIB's", () => {
    const own = { Entrypoint: ['/bin/opm'], Cmd: ['serve', '/configs', '--cache-dir', '/var/cache/opm'] };
    expect(indexCommand(own)).toEqual({ entrypoint: own.Entrypoint, cmd: own.Cmd });
    const upstream = {
      Entrypoint: ['/bin/opm'],
      Cmd: ['registry', 'serve', '--database', '/database/index.db'],
    };
    expect(indexCommand(upstream)).toEqual({ entrypoint: IIB_ENTRYPOINT, cmd: IIB_CMD });
    expect(indexCommand({ Cmd: ['/bin/sh'] })).toEqual({ entrypoint: IIB_ENTRYPOINT, cmd: IIB_CMD });
    expect(indexCommand(undefined)).toEqual({ entrypoint: IIB_ENTRYPOINT, cmd: IIB_CMD });
  });

  it('when the command names a cache dir in either flag form, then that is where the cache goes', () => {
    expect(cacheDirOf(['/bin/opm', ...IIB_CMD])).toBe('/tmp/cache');
    expect(cacheDirOf(['/bin/opm', 'serve', '/configs', '--cache-dir', '/var/c/'])).toBe('/var/c');
    expect(cacheDirOf(['opm', 'serve', '/configs', '--cache-dir=cache'], '/opt')).toBe('/opt/cache');
    expect(cacheDirOf(['opm', 'serve', '/configs', '--cache-dir=/a', '--cache-dir=/b'])).toBe('/b');
    expect(cacheDirOf(['/bin/opm', 'serve', '/configs'])).toBeUndefined();
    expect(cacheDirOf(['/bin/opm', 'serve', '/configs', '--cache-dir='])).toBeUndefined();
  });

  it('when node names the arch, then it is translated to the image arch', () => {
    expect(builderArch('x64')).toBe('amd64');
    expect(builderArch('arm64')).toBe('arm64');
  });
});

describe('opm words from a failed buildah run', () => {
  it("when opm dies with a fatal log line, then that message is kept and buildah's wrapper lines dropped", () => {
    const stderr =
      'time="2026-12-03T07:54:56Z" level=fatal msg="cache requires rebuild: digest \\"a\\" is not \\"b\\""\n' +
      'subprocess exited with status 1\nError: exit status 1\n';
    expect(opmWords(stderr)).toBe('cache requires rebuild: digest "a" is not "b"');
    expect(opmWords('Error: unknown flag: --x\nUsage:\n  opm serve\nError: exit status 1\n')).toBe(
      'Error: unknown flag: --x',
    );
  });
});

describe('paths inside an image root', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'iib-root-'));
    await mkdir(path.join(root, 'usr', 'bin'), { recursive: true });
    await writeFile(path.join(root, 'usr', 'bin', 'opm'), '');
    await symlink('/usr/bin', path.join(root, 'bin'));
    await symlink('../../../../../etc', path.join(root, 'usr', 'escape'));
  });
  afterAll(async () => rm(root, { recursive: true, force: true }));

  it('when a path crosses absolute or relative links, then it resolves inside the root and never outside', async () => {
    expect(await resolveInRoot(root, '/bin/opm')).toBe(path.join(root, 'usr', 'bin', 'opm'));
    // ../ past the root stays at the root, as in a container.
    expect(await resolveInRoot(root, '/usr/escape')).toBeUndefined();
    expect(await resolveInRoot(root, '/no/such')).toBeUndefined();
  });
});

describe('manifest kinds', () => {
  it('when a manifest is Docker or OCI, a list or an image, then it is told apart, with or without mediaType', () => {
    const list = { schemaVersion: 2, manifests: [] };
    const image = { schemaVersion: 2, config: {}, layers: [] };
    expect(manifestKind('application/vnd.oci.image.index.v1+json', list)).toBe('list');
    expect(manifestKind('application/vnd.docker.distribution.manifest.list.v2+json', list)).toBe('list');
    expect(manifestKind('application/vnd.oci.image.manifest.v1+json', image)).toBe('image');
    expect(manifestKind('application/vnd.docker.distribution.manifest.v2+json', image)).toBe('image');
    expect(manifestKind(undefined, list)).toBe('list');
    expect(manifestKind(undefined, image)).toBe('image');
    expect(manifestKind('application/vnd.docker.distribution.manifest.v1+json', { schemaVersion: 1 })).toBe(
      undefined,
    );
  });
});

describe('the index Dockerfile', () => {
  const labels = { 'operators.operatorframework.io.index.configs.v1': '/configs' };

  it('when there is a cache, then it is copied after the catalog, owned by 1001:0 as IIB does', () => {
    const text = indexDockerfile(
      'reg/binary@sha256:1',
      { entrypoint: IIB_ENTRYPOINT, cmd: IIB_CMD },
      { imageDir: '/tmp/cache', localDir: '/w/context/cache' },
      labels,
    );
    expect(text.split('\n')).toEqual([
      'FROM reg/binary@sha256:1',
      'ENTRYPOINT ["/bin/opm"]',
      'CMD ["serve","/configs","--cache-dir=/tmp/cache"]',
      'ADD configs /configs',
      'COPY --chown=1001:0 cache /tmp/cache',
      'LABEL "operators.operatorframework.io.index.configs.v1"="/configs"',
      '',
    ]);
  });

  it('when the catalog is binaryless, then it is FROM scratch with no command and no cache', () => {
    expect(indexDockerfile(undefined, undefined, undefined, labels).split('\n')).toEqual([
      'FROM scratch',
      'ADD configs /configs',
      'LABEL "operators.operatorframework.io.index.configs.v1"="/configs"',
      '',
    ]);
  });
});
