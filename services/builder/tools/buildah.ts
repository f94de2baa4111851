import type { CommandRunner } from './command-runner';

export interface BuildahSettings {
  authFile?: string;
  attempts: number;
}

/** buildah operations: one image per arch, then a manifest list. */
export class Buildah {
  constructor(
    private readonly run: CommandRunner,
    private readonly settings: BuildahSettings,
  ) {}

  private auth(): string[] {
    return this.settings.authFile ? ['--authfile', this.settings.authFile] : [];
  }

  async buildArch(opts: {
    contextDir: string;
    dockerfile: string;
    tag: string;
    arch: string;
    /**
     * Seconds since the epoch for the image's creation time and every file of
     * its new layer. The arches of one build share it, so their catalog
     * layers are the same bytes (ADD stamps the directory it creates with the
     * current time, which differs between arches built a second apart).
     */
    timestamp?: number;
  }): Promise<void> {
    await this.run.run(
      'buildah',
      [
        'bud',
        '--no-cache',
        ...(opts.timestamp === undefined ? [] : ['--timestamp', String(opts.timestamp)]),
        '--format',
        'docker',
        '--platform',
        `linux/${opts.arch}`,
        ...this.auth(),
        '-f',
        opts.dockerfile,
        '-t',
        opts.tag,
        opts.contextDir,
      ],
      { attempts: this.settings.attempts },
    );
  }

  async push(local: string, dest: string): Promise<void> {
    await this.run.run('buildah', ['push', '--format', 'v2s2', ...this.auth(), local, `docker://${dest}`], {
      attempts: this.settings.attempts,
    });
  }

  /** Creates a manifest list of the pushed per-arch images and pushes it to each destination. */
  async pushManifestList(name: string, images: string[], dests: string[]): Promise<void> {
    // A list left by an interrupted earlier attempt of the same request.
    const left = await this.run.run('buildah', ['manifest', 'exists', name]).then(
      () => true,
      () => false,
    );
    if (left) await this.run.run('buildah', ['manifest', 'rm', name]);
    await this.run.run('buildah', ['manifest', 'create', name]);
    try {
      for (const image of images) {
        await this.run.run('buildah', ['manifest', 'add', ...this.auth(), name, `docker://${image}`], {
          attempts: this.settings.attempts,
        });
      }
      for (const dest of dests) {
        await this.run.run(
          'buildah',
          ['manifest', 'push', '--all', '--format', 'v2s2', ...this.auth(), name, `docker://${dest}`],
          { attempts: this.settings.attempts },
        );
      }
    } finally {
      await this.run.run('buildah', ['manifest', 'rm', name]).catch(() => undefined);
    }
  }

  /** A working container of one arch of `image` (pulled if this machine lacks it). */
  async from(image: string, arch: string, name: string): Promise<void> {
    await this.run.run(
      'buildah',
      ['from', '--quiet', '--platform', `linux/${arch}`, ...this.auth(), '--name', name, `docker://${image}`],
      { attempts: this.settings.attempts },
    );
  }

  /** Where the container's root lies on this machine (buildah needs root for this). */
  async mount(container: string): Promise<string> {
    const { stdout } = await this.run.run('buildah', ['mount', container]);
    return stdout.trim();
  }

  /** `buildah copy`: the same copier a Dockerfile's ADD uses, so modes come out alike. */
  async copy(container: string, src: string, dest: string): Promise<void> {
    await this.run.run('buildah', ['copy', '--quiet', container, src, dest]);
  }

  /** Runs a command in the container, chroot-isolated: no daemon or emulation needed. */
  /**
   * Runs a command of the image in its working container. The image is the
   * requester's (a binary image's opm), and chroot isolation runs it as root
   * on this host, so the capabilities that lead out of a chroot or to the
   * host's devices and processes are dropped: SYS_CHROOT (the double-chroot
   * escape), MKNOD, SYS_ADMIN, SYS_PTRACE, SYS_MODULE, NET_RAW.
   */
  async runIn(container: string, command: string[]): Promise<void> {
    await this.run.run('buildah', [
      'run',
      '--isolation',
      'chroot',
      '--cap-drop',
      RUN_DROPPED_CAPS.join(','),
      container,
      '--',
      ...command,
    ]);
  }

  async removeContainer(container: string): Promise<void> {
    await this.run.run('buildah', ['rm', container]).catch(() => undefined);
  }

  async removeImages(tags: string[]): Promise<void> {
    if (tags.length === 0) return;
    await this.run.run('buildah', ['rmi', '-f', ...tags]).catch(() => undefined);
  }
}

const RUN_DROPPED_CAPS = [
  'CAP_SYS_CHROOT',
  'CAP_MKNOD',
  'CAP_SYS_ADMIN',
  'CAP_SYS_PTRACE',
  'CAP_SYS_MODULE',
  'CAP_NET_RAW',
];
