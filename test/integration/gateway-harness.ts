/* eslint-disable @typescript-eslint/no-explicit-any -- JSON answers are checked by value */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { loadGatewayConfig } from '../../shared/config';
import { SecretBox } from '../../shared/crypto';
import { createApp } from '../../services/gateway/http/app';
import { createAuthenticators } from '../../services/gateway/auth';
import { KnexRequestStore } from '../../services/gateway/db/knex-store';
import { secretsAssociatedData } from '../../services/gateway/requests/submit';
import { createTestDatabase, TestDatabase } from '../support/db';

export interface Gateway {
  base: string;
  store: KnexRequestStore;
  tdb: TestDatabase;
  box: SecretBox;
  logs: string[];
  stop(): Promise<void>;
}

/** Starts the gateway's HTTP app in-process on port 0, against its own test database, without AMQP. */
export async function startGateway(label: string, env: Record<string, string> = {}): Promise<Gateway> {
  const tdb = await createTestDatabase(label);
  const key = SecretBox.generateKey();
  const config = loadGatewayConfig({
    IIB_DATABASE_URL: tdb.url,
    LOGIN_DISABLED: 'true',
    IIB_SECRETS_KEY: key,
    ...env,
  });
  const box = new SecretBox(key);
  const logs: string[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void logs.push(line) });
  const store = new KnexRequestStore(tdb.db);
  const app = createApp({
    config,
    store,
    sealer: (secrets, id) => box.seal(secrets, secretsAssociatedData(id)),
    log,
    authenticators: createAuthenticators(config, log),
    onCommitted: () => {},
  });
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}/api/v1`,
    store,
    tdb,
    box,
    logs,
    stop: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await tdb.drop();
    },
  };
}

export interface Answer {
  status: number;
  body: any;
  text: string;
  headers: Headers;
}

export async function call(
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] = 'application/json';
  }
  const res = await fetch(url, init);
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, body: parsed, text, headers: res.headers };
}
