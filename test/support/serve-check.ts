import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { buildah, pushManifestList } from './scratch-images';
import { freePort } from './system';

/**
 * Starts a built index image the way a container runtime would: its own
 * ENTRYPOINT + CMD (plus `-p <port>`), chrooted into the image's root. With
 * the test binary image this runs the opm stand-in (scripts/lib/opm-stand-in.sh),
 * which refuses to serve without a cache bound to /configs, as opm does.
 */

export interface MountedImage {
  /** The image's root filesystem, a private copy (vfs): tests may change it. */
  root: string;
  entrypoint: string[];
  cmd: string[];
  labels: Record<string, string>;
  remove(): Promise<void>;
}

/** `buildah from` + `buildah mount` of one arch of an image (whiteouts applied by buildah). */
export async function mountImage(ref: string, arch = 'amd64'): Promise<MountedImage> {
  const name = `iib-serve-check-${randomBytes(4).toString('hex')}`;
  // The builder removes its local copy of what it pushed (same image ID)
  // right after reporting: a pull that meets that removal in the shared
  // storage fails ("image not known", "layer not known"), and a second one does not.
  for (let attempt = 1; ; attempt += 1) {
    try {
      await buildah([
        'from',
        '--quiet',
        '--pull-always',
        '--tls-verify=false',
        '--platform',
        `linux/${arch}`,
        '--name',
        name,
        `docker://${ref}`,
      ]);
      break;
    } catch (err) {
      if (
        attempt >= 3 ||
        !/image not known|layer not known|identifier is not an image/.test((err as Error).message)
      )
        throw err;
      await buildah(['rm', name]).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  const remove = async (): Promise<void> => {
    await buildah(['rm', name]).catch(() => undefined);
  };
  try {
    const root = (await buildah(['mount', name])).trim();
    const info = JSON.parse(await buildah(['inspect', '--type', 'container', name])) as {
      OCIv1?: { config?: { Entrypoint?: string[]; Cmd?: string[]; Labels?: Record<string, string> } };
    };
    const cfg = info.OCIv1?.config ?? {};
    return { root, entrypoint: cfg.Entrypoint ?? [], cmd: cfg.Cmd ?? [], labels: cfg.Labels ?? {}, remove };
  } catch (err) {
    await remove();
    throw err;
  }
}

export interface ServeResult {
  /** Still running after `aliveMs`. */
  alive: boolean;
  /** Something accepted a TCP connection on the port while it ran. */
  listening: boolean;
  exitCode: number | null;
  output: string;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port }, () => {
      sock.destroy();
      resolve(true);
    });
    sock.on('error', () => resolve(false));
    sock.setTimeout(1000, () => {
      sock.destroy();
      resolve(false);
    });
  });
}

/**
 * Runs `chroot <root> <entrypoint> <cmd> -p <port>`, waits `aliveMs`, checks
 * that it still runs and listens, then stops it.
 */
export async function serveImage(image: MountedImage, aliveMs = 2000): Promise<ServeResult> {
  const command = [...image.entrypoint, ...image.cmd];
  if (command.length === 0) throw new Error('the image has no ENTRYPOINT or CMD to start');
  const port = await freePort();
  const child = spawn('chroot', [image.root, ...command, '-p', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  let exitCode: number | null = null;
  const exited = new Promise<void>((resolve) =>
    child.on('exit', (code) => {
      exitCode = code;
      resolve();
    }),
  );
  await Promise.race([exited, new Promise((r) => setTimeout(r, aliveMs))]);
  const alive = exitCode === null && child.exitCode === null;
  const listening = alive && (await canConnect(port));
  if (child.exitCode === null) {
    child.kill('SIGKILL');
    await exited;
  }
  return { alive, listening, exitCode: alive ? null : exitCode, output };
}

/**
 * Pushes `from` (every arch in `arches`) with another CMD, as a manifest list:
 * a binary image started differently, with no emulation (nothing runs).
 */
export async function pushWithCmd(from: string, ref: string, arches: string[], cmd: string[]): Promise<void> {
  const list = `localhost/iib-serve-check-${randomBytes(4).toString('hex')}`;
  await buildah(['manifest', 'create', list]);
  try {
    for (const arch of arches) {
      const name = `${list.slice('localhost/'.length)}-${arch}`;
      await buildah([
        'from',
        '--quiet',
        '--tls-verify=false',
        '--platform',
        `linux/${arch}`,
        '--name',
        name,
        `docker://${from}`,
      ]);
      try {
        await buildah(['config', '--cmd', JSON.stringify(cmd), name]);
        await buildah(['commit', '--quiet', '--format', 'docker', '--manifest', list, name]);
      } finally {
        await buildah(['rm', name]).catch(() => undefined);
      }
    }
    await pushManifestList(list, ref);
  } finally {
    await buildah(['manifest', 'rm', list]).catch(() => undefined);
  }
}
