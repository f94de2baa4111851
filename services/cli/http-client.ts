import { CliError, EXIT } from './io';
import { negotiateChallenge, negotiateHeader } from './negotiate';
import type { AuthChoice } from './settings';

export interface ClientOptions {
  /** …/api/v1 */
  base: string;
  auth: AuthChoice;
  /** Per-request time limit, except for streams. */
  timeoutMs?: number;
  /** Replaceable in tests. */
  negotiate?: (url: string) => Promise<string>;
  fetchImpl?: typeof fetch;
}

export interface CallOptions {
  body?: unknown;
  query?: Record<string, string | number | boolean | undefined>;
  /** A stream (logs --follow): no time limit, the body is left to the caller. */
  stream?: boolean;
}

const NETWORK_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_SOCKET: 'connection closed',
};

/** The API's message from an error body (`{"error": ...}`), else a short excerpt of the text. */
export function apiErrorMessage(status: number, statusText: string, text: string): string {
  let message = '';
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed && typeof parsed === 'object' && 'error' in parsed) message = String(parsed.error);
  } catch {
    message = text.trim().slice(0, 300);
  }
  return `${message || statusText || 'error'} (HTTP ${status})`;
}

/**
 * The IIB REST API over fetch. Credentials are offered the way browsers and
 * curl do: a Bearer token on every call; Basic and Kerberos only after a 401
 * asks for them, so reading a build never prompts for a password and every
 * Negotiate token answers a fresh challenge.
 */
export class IibClient {
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: ClientOptions) {
    this.fetchImpl = options.fetchImpl ?? fetch;
  }

  get base(): string {
    return this.options.base;
  }

  url(path: string, query?: CallOptions['query']): string {
    const url = new URL(this.options.base + path);
    for (const [k, v] of Object.entries(query ?? {})) {
      if (v !== undefined) url.searchParams.set(k, String(v));
    }
    return url.toString();
  }

  async json<T = unknown>(method: string, path: string, call: CallOptions = {}): Promise<T> {
    const res = await this.call(method, path, call);
    const text = await res.text();
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new CliError(
        `the API answered ${method} ${path} with something that is not JSON: ${text.slice(0, 200)}`,
      );
    }
  }

  /** A successful response (2xx); any other status becomes a CliError with the API's message. */
  async call(method: string, path: string, call: CallOptions = {}): Promise<Response> {
    const url = this.url(path, call.query);
    const auth = this.options.auth;
    const first = auth.kind === 'bearer' ? `Bearer ${auth.token}` : undefined;
    let res = await this.send(method, url, call, first);
    if (res.status === 401 && (auth.kind === 'basic' || auth.kind === 'kerberos')) {
      const offered = res.headers.get('www-authenticate');
      await res.body?.cancel();
      let header: string;
      if (auth.kind === 'kerberos') {
        if (negotiateChallenge(offered) === undefined) {
          throw new CliError(
            `the server at ${this.options.base} does not offer Kerberos (WWW-Authenticate: ${offered ?? 'none'})`,
          );
        }
        header = await (this.options.negotiate ?? negotiateHeader)(url);
      } else {
        const password = await auth.password();
        header = `Basic ${Buffer.from(`${auth.user}:${password}`).toString('base64')}`;
      }
      res = await this.send(method, url, call, header);
    }
    if (!res.ok) {
      const text = await res.text().catch(() => '');
      const message = apiErrorMessage(res.status, res.statusText, text);
      if (res.status === 401) {
        throw new CliError(
          `${message}: not authenticated` +
            (auth.kind === 'none' ? ' (use --user, --token or --kerberos, or IIB_USER/IIB_TOKEN)' : ''),
        );
      }
      throw new CliError(message);
    }
    return res;
  }

  private async send(
    method: string,
    url: string,
    call: CallOptions,
    authorization: string | undefined,
  ): Promise<Response> {
    const headers: Record<string, string> = { accept: call.stream ? 'text/plain' : 'application/json' };
    if (authorization) headers.authorization = authorization;
    if (call.body !== undefined) headers['content-type'] = 'application/json';
    try {
      return await this.fetchImpl(url, {
        method,
        headers,
        body: call.body === undefined ? undefined : JSON.stringify(call.body),
        signal: call.stream ? undefined : AbortSignal.timeout(this.options.timeoutMs ?? 60_000),
      });
    } catch (err) {
      throw unreachable(err, this.options.base);
    }
  }
}

/** Explains a failed connection in words, with what to check. */
export function unreachable(err: unknown, base: string): CliError {
  const e = err as { name?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError') {
    return new CliError(`the IIB API at ${base} did not answer in time`, EXIT.unreachable);
  }
  const code = e?.cause?.code;
  const why = (code && NETWORK_CODES[code]) ?? e?.cause?.message ?? (err as Error)?.message ?? String(err);
  return new CliError(
    `cannot reach the IIB API at ${base} (${why}): is the gateway running? ` +
      'Point --server or IIB_SERVER at it.',
    EXIT.unreachable,
  );
}
