import { ChildProcess, execFile, ExecFileException, ExecFileOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import { DependencyError } from '../../../shared/errors';
import { reachFaultPoint } from './fault-points';
import { registryRetries, toolRuns } from '../../../shared/metrics';

/**
 * Tools must not outlive their builder: a builder killed mid-build would
 * leave a buildah or skopeo running alone, holding storage locks and
 * pushing half a result. Each tool runs in its own process group (so a
 * timeout or a shutdown kills its children too) under `setpriv
 * --pdeathsig KILL` (so the kernel kills it when the builder dies, even by
 * SIGKILL). setpriv is util-linux's, on every Debian-based image.
 */
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));

const running = new Set<ChildProcess>();

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}

/** Kills every tool still running (the builder's last step on shutdown). */
export function killRunningTools(): void {
  for (const child of running) killGroup(child);
}

export interface CommandResult {
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  timeoutMs?: number;
  /** Attempts for errors that look like registry flakes (5xx, 403 flakes, timeouts). */
  attempts?: number;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

export interface RetryPolicy {
  attempts: number;
  delayMs: number;
  jitterMs: number;
  multiplier: number;
}

/** Receives one line per command: what ran (secrets masked), how long, how it ended. */
export type CommandLog = (line: string) => void;

const FLAKY = [
  /\b5\d\d\b.*(Internal Server Error|Bad Gateway|Service Unavailable|Gateway Timeout)/i,
  /(received unexpected HTTP status|status code|StatusCode):? 5\d\d/i,
  /\b(503|502|504) /,
  // Go's net errors as skopeo/buildah print them (often inside a quoted URL error).
  /i\/o timeout|TLS handshake timeout|connection reset by peer|\bEOF\b|context deadline exceeded|connection refused/i,
  /unexpected HTTP status: 403|denied: requested access to the resource is denied/i,
];

export function isFlaky(stderr: string): boolean {
  return FLAKY.some((re) => re.test(stderr));
}

/** The tool's own error line: the last non-empty line of stderr that says something. */
export function toolError(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  const err = [...lines].reverse().find((l) => /error|fatal|failed|denied|not found|unknown/i.test(l));
  return (err ?? lines[lines.length - 1] ?? 'no error output')
    .replace(/^time="[^"]*" level=\w+ msg="?/, '')
    .replace(/"$/, '');
}

/**
 * Runs container tools with an argument array (never a shell), a timeout, and
 * retries with exponential backoff and jitter for registry flakes. Secrets
 * given to the runner are masked in every log line, span and error.
 */
export class CommandRunner {
  constructor(
    private readonly policy: RetryPolicy,
    private readonly defaultTimeoutMs: number,
    private readonly log: CommandLog,
    private readonly secrets: string[] = [],
    private readonly baseEnv: NodeJS.ProcessEnv = process.env,
  ) {}

  mask(text: string): string {
    let out = text;
    for (const s of this.secrets) if (s.length >= 4) out = out.split(s).join('***');
    return out;
  }

  withSecrets(secrets: string[]): CommandRunner {
    return new CommandRunner(
      this.policy,
      this.defaultTimeoutMs,
      this.log,
      [...this.secrets, ...secrets],
      this.baseEnv,
    );
  }

  async run(cmd: string, args: string[], options: RunOptions = {}): Promise<CommandResult> {
    const attempts = options.attempts ?? 1;
    let delay = this.policy.delayMs;
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.once(cmd, args, options, attempt);
      } catch (err) {
        const retry = err instanceof CommandError && err.flaky && attempt < attempts;
        if (!retry) throw err;
        registryRetries.inc({ tool: cmd });
        const wait = delay + Math.random() * this.policy.jitterMs;
        this.log(`retrying ${cmd} in ${Math.round(wait)} ms (attempt ${attempt + 1} of ${attempts})`);
        await new Promise((r) => setTimeout(r, wait));
        delay *= this.policy.multiplier;
      }
    }
  }

  private once(cmd: string, args: string[], options: RunOptions, attempt: number): Promise<CommandResult> {
    const shown = this.mask([cmd, ...args].join(' '));
    const tracer = trace.getTracer('iib-builder');
    const verb = args.find((a) => /^[a-z][a-z-]*$/.test(a)) ?? '';
    return tracer.startActiveSpan(`exec ${cmd} ${verb}`.trim(), (span) => {
      span.setAttributes({
        'process.executable.name': cmd,
        'process.command_args': this.mask(args.join(' ')),
        'iib.command.attempt': attempt,
      });
      const started = Date.now();
      return new Promise<CommandResult>((resolve, reject) => {
        const timeoutMs = options.timeoutMs ?? this.defaultTimeoutMs;
        let timedOut = false;
        const [file, argv] = SETPRIV ? [SETPRIV, ['--pdeathsig', 'KILL', '--', cmd, ...args]] : [cmd, args];
        // execFile passes `detached` on to spawn; its type leaves it out.
        const execOptions: ExecFileOptions & { detached: boolean; encoding: 'utf8' } = {
          maxBuffer: 256 * 1024 * 1024,
          cwd: options.cwd,
          env: { ...this.baseEnv, ...options.env },
          detached: true,
          encoding: 'utf8',
        };
        const child = execFile(
          file,
          argv,
          execOptions,
          (error: ExecFileException | null, stdout: string, stderr: string) => {
            clearTimeout(timer);
            running.delete(child);
            const ms = Date.now() - started;
            const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
            span.setAttribute('process.exit.code', code);
            toolRuns.inc({ tool: cmd, exit_code: timedOut ? 'timeout' : String(code) });
            const errText = this.mask(stderr);
            if (!error) {
              this.log(`$ ${shown} -> exit 0 in ${ms} ms`);
              span.end();
              resolve({ stdout, stderr });
              return;
            }
            this.log(`$ ${shown} -> ${timedOut ? 'timed out' : `exit ${code}`} in ${ms} ms`);
            if (errText.trim()) this.log(errText.trimEnd());
            const reason = timedOut
              ? `${cmd} timed out after ${timeoutMs} ms`
              : `${cmd} failed: ${toolError(errText)}`;
            span.setStatus({ code: SpanStatusCode.ERROR, message: reason });
            span.end();
            reject(new CommandError(reason, code, errText, timedOut || isFlaky(errText)));
          },
        );
        running.add(child);
        const timer = setTimeout(() => {
          timedOut = true;
          killGroup(child);
        }, timeoutMs);
        if (cmd === 'buildah') reachFaultPoint('mid-tool');
      });
    });
  }
}

export class CommandError extends DependencyError {
  constructor(
    message: string,
    readonly exitCode: number,
    readonly stderr: string,
    readonly flaky: boolean,
  ) {
    super(message, { retryable: false });
  }
}
