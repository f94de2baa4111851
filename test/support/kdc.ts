import { ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import * as net from 'node:net';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './system';

const run = promisify(execFile);

const INSTALL_HINT =
  'the MIT Kerberos packages are missing (krb5-kdc, krb5-admin-server, krb5-user, libkrb5-dev): run bash scripts/stack.sh up';

/** The MIT Kerberos programs the harness runs, searched in PATH and the sbin directories. */
const TOOLS = ['kdb5_util', 'kadmin.local', 'krb5kdc', 'kinit'] as const;
type Tool = (typeof TOOLS)[number];

function findTool(name: Tool): string {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/bin'];
  for (const dir of dirs.filter(Boolean)) {
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; try the next directory
    }
  }
  throw new Error(`${name} not found: ${INSTALL_HINT}`);
}

export interface Kdc {
  realm: string;
  dir: string;
  /** Environment that points libkrb5 at this realm only (own krb5.conf, no system defaults). */
  env: Record<string, string>;
  /** Adds a principal with a random key and writes its keys to a keytab of its own (for login). */
  addPrincipal(name: string): Promise<string>;
  /** A credentials cache holding a TGT of `name` (from its keytab), for `KRB5CCNAME`. */
  login(name: string): Promise<string>;
  /** An empty credentials cache: a client that has not logged in. */
  emptyCache(): string;
  /** Writes the keys of several principals into one keytab (a service's). */
  keytab(file: string, principals: string[]): Promise<string>;
  log(): string;
  stop(): Promise<void>;
}

/**
 * A real MIT Kerberos KDC for one test file: its own realm, database, config
 * and keytabs in a temporary directory, listening on a free loopback port.
 * Nothing touches the system's /etc/krb5.conf or /etc/krb5kdc.
 */
export async function startKdc(realm = 'IIB.TEST'): Promise<Kdc> {
  const tools = Object.fromEntries(TOOLS.map((t) => [t, findTool(t)])) as Record<Tool, string>;
  const dir = mkdtempSync(path.join(tmpdir(), 'iib-kdc-'));
  const port = await freePort();
  const file = (name: string): string => path.join(dir, name);
  writeFileSync(
    file('krb5.conf'),
    `[libdefaults]
  default_realm = ${realm}
  dns_lookup_kdc = false
  dns_lookup_realm = false
  # Service names stay as the client wrote them: HTTP@localhost is HTTP/localhost.
  dns_canonicalize_hostname = false
  rdns = false
  # TCP only, so the one free port checked above is the only one needed.
  udp_preference_limit = 1
  default_ccache_name = FILE:${file('default.ccache')}
[realms]
  ${realm} = {
    kdc = 127.0.0.1:${port}
  }
[domain_realm]
  localhost = ${realm}
`,
  );
  writeFileSync(
    file('kdc.conf'),
    `[kdcdefaults]
  kdc_listen = 127.0.0.1:${port}
  kdc_tcp_listen = 127.0.0.1:${port}
[realms]
  ${realm} = {
    database_name = ${file('principal')}
    key_stash_file = ${file('stash')}
    acl_file = ${file('kadm5.acl')}
    max_life = 1h
  }
[logging]
  kdc = FILE:${file('kdc.log')}
`,
  );
  writeFileSync(file('kadm5.acl'), '');
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    KRB5_CONFIG: file('krb5.conf'),
    KRB5_KDC_PROFILE: file('kdc.conf'),
    // The acceptor's replay cache, kept out of /var/tmp.
    KRB5RCACHEDIR: dir,
  };
  const tool = async (name: Tool, args: string[], extraEnv: Record<string, string> = {}): Promise<string> => {
    try {
      const { stdout } = await run(tools[name], args, { env: { ...env, ...extraEnv }, timeout: 30_000 });
      return stdout;
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(`${name} ${args.join(' ')} failed: ${e.stderr || e.message}`, { cause: err });
    }
  };
  const kadmin = (query: string): Promise<string> => tool('kadmin.local', ['-r', realm, '-q', query]);

  let kdc: ChildProcess | undefined;
  let kdcOutput = '';
  const stop = async (): Promise<void> => {
    if (kdc && kdc.exitCode === null && kdc.signalCode === null) {
      const exited = once(kdc, 'exit');
      kdc.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    // The master password only protects this throwaway database.
    await tool('kdb5_util', ['-r', realm, 'create', '-s', '-P', 'iib-test-master']);
    kdc = spawn(tools.krb5kdc, ['-n', '-r', realm], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    kdc.stdout?.on('data', (c: Buffer) => (kdcOutput += c.toString()));
    kdc.stderr?.on('data', (c: Buffer) => (kdcOutput += c.toString()));
    await waitForPort(port, () => (kdc?.exitCode !== null ? `krb5kdc exited: ${kdcOutput}` : undefined));
  } catch (err) {
    await stop();
    throw err;
  }

  const keytab = async (name: string, principals: string[]): Promise<string> => {
    const target = file(name);
    // -norandkey: writing a key to a second keytab must not change it (and so
    // invalidate the first).
    for (const p of principals) await kadmin(`ktadd -norandkey -k ${target} ${p}`);
    return target;
  };
  let caches = 0;
  return {
    realm,
    dir,
    env,
    async addPrincipal(name) {
      await kadmin(`addprinc -randkey ${name}`);
      return keytab(`${name.replace(/\W/g, '_')}.keytab`, [name]);
    },
    async login(name) {
      const cache = file(`cc-${++caches}`);
      await tool('kinit', ['-k', '-t', file(`${name.replace(/\W/g, '_')}.keytab`), name], {
        KRB5CCNAME: `FILE:${cache}`,
      });
      return `FILE:${cache}`;
    },
    emptyCache() {
      return `FILE:${file(`cc-${++caches}`)}`;
    },
    keytab,
    log() {
      try {
        return readFileSync(file('kdc.log'), 'utf8');
      } catch {
        return kdcOutput;
      }
    },
    stop,
  };
}

async function waitForPort(port: number, failed: () => string | undefined): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const why = failed();
    if (why) throw new Error(why);
    const open = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`krb5kdc does not listen on 127.0.0.1:${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
