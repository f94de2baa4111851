import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { create_container, Connection, ConnectionDetails, ConnectionOptions, EventContext } from 'rhea';
import type { Logger } from 'pino';
import { safeUrl } from '../logging';
import { brokerConnections, brokerReconnects } from '../metrics';

export interface ConnectionSettings {
  /** Failover list: each (re)connect attempt takes the next URL. */
  urls: string[];
  ca?: string;
  cert?: string;
  key?: string;
  /** Container id: ActiveMQ makes it the JMS clientID, so it must be unique per connection. */
  containerId?: string;
  idleTimeoutMs?: number;
  maxReconnectDelayMs?: number;
  /** Metrics label: `internal` (default) or `external` (the notifier's destination broker). */
  broker?: string;
}

interface Endpoint {
  host: string;
  port: number;
  tls: boolean;
  username?: string;
  password?: string;
}

export function parseAmqpUrl(url: string): Endpoint {
  const u = new URL(url);
  if (u.protocol !== 'amqp:' && u.protocol !== 'amqps:') {
    throw new Error(`unsupported AMQP URL scheme in ${safeUrl(url)} (use amqp:// or amqps://)`);
  }
  const isTls = u.protocol === 'amqps:';
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port ? Number(u.port) : isTls ? 5671 : 5672,
    tls: isTls,
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
  };
}

/**
 * One AMQP 1.0 connection with reconnect over a failover list. rhea restores
 * sessions and links after a reconnect; `epoch` counts connections so that
 * deliveries received on an earlier one are never settled on a later one.
 */
export class AmqpConnection extends EventEmitter {
  readonly connection: Connection;
  readonly containerId: string;
  private epochCount = 0;
  private isUp = false;
  private closed = false;

  constructor(
    settings: ConnectionSettings,
    private readonly log: Logger,
  ) {
    super();
    if (settings.urls.length === 0) throw new Error('no AMQP URL configured');
    const endpoints = settings.urls.map(parseAmqpUrl);
    const tlsFiles = {
      ca: settings.ca ? readFileSync(settings.ca) : undefined,
      cert: settings.cert ? readFileSync(settings.cert) : undefined,
      key: settings.key ? readFileSync(settings.key) : undefined,
    };
    this.containerId = settings.containerId ?? `iib-${randomUUID()}`;
    let attempt = 0;
    const details = (): ConnectionDetails => {
      const ep = endpoints[attempt % endpoints.length] as Endpoint;
      attempt += 1;
      const options: Record<string, unknown> = {
        host: ep.host,
        port: ep.port,
        username: ep.username,
        password: ep.password,
        servername: ep.host,
        ...(ep.tls ? tlsFiles : {}),
      };
      return {
        host: ep.host,
        port: ep.port,
        connect: ep.tls ? tls.connect : net.connect,
        options,
      };
    };
    const container = create_container({ id: this.containerId });
    const first = endpoints[0] as Endpoint;
    const options: ConnectionOptions = {
      host: first.host,
      port: first.port,
      username: first.username,
      password: first.password,
      container_id: this.containerId,
      reconnect: true,
      initial_reconnect_delay: 100,
      max_reconnect_delay: settings.maxReconnectDelayMs ?? 5000,
      idle_time_out: settings.idleTimeoutMs ?? 30_000,
      connection_details: details,
    };
    this.connection = container.connect(options);
    const broker = { broker: settings.broker ?? 'internal' };
    this.connection.on('connection_open', () => {
      this.epochCount += 1;
      this.isUp = true;
      brokerConnections.inc(broker);
      if (this.epochCount > 1) brokerReconnects.inc(broker);
      this.log.info({ epoch: this.epochCount }, 'broker connected');
      this.emit('up');
    });
    this.connection.on('disconnected', (ctx: EventContext) => {
      const wasUp = this.isUp;
      this.isUp = false;
      if (wasUp) brokerConnections.dec(broker);
      if (this.closed) return;
      const err = ctx.error;
      if (wasUp) this.log.warn({ err }, 'broker disconnected, reconnecting');
      else this.log.debug({ err }, 'broker unreachable, retrying');
      this.emit('down');
    });
    this.connection.on('connection_error', (ctx: EventContext) => {
      this.log.error({ err: ctx.connection.error }, 'broker closed the connection with an error');
    });
    // Link errors are reported by the sender/receiver wrappers; without a
    // listener rhea would print them to the console.
    this.connection.on('error', (ctx: EventContext) => this.log.error({ err: ctx.error }, 'AMQP error'));
  }

  get up(): boolean {
    return this.isUp;
  }

  get epoch(): number {
    return this.epochCount;
  }

  /** Resolves when connected, or rejects after timeoutMs. */
  waitUp(timeoutMs: number): Promise<void> {
    if (this.isUp) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('up', onUp);
        reject(new Error(`broker not reachable within ${timeoutMs} ms`));
      }, timeoutMs);
      const onUp = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.once('up', onUp);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const internals = this.connection as unknown as {
      scheduled_reconnect?: NodeJS.Timeout;
      set_reconnect(on: boolean): void;
    };
    internals.set_reconnect(false);
    if (internals.scheduled_reconnect) clearTimeout(internals.scheduled_reconnect);
    if (!this.isUp) {
      this.connection.close();
      return;
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 5000);
      this.connection.once('connection_close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.connection.close();
    });
    this.clearIdleTimers();
  }

  /**
   * rhea re-arms its idle timer (twice idle_time_out, 60 s) when it flushes
   * frames after the socket has gone, e.g. a link detach queued just before
   * close(); that timer alone keeps the process alive. A closed connection
   * needs none of its timers, so they are cleared now and once the socket is
   * gone.
   */
  private clearIdleTimers(): void {
    const internals = this.connection as unknown as {
      heartbeat_in?: NodeJS.Timeout;
      heartbeat_out?: NodeJS.Timeout;
      socket?: net.Socket;
    };
    const clear = (): void => {
      clearTimeout(internals.heartbeat_in);
      clearTimeout(internals.heartbeat_out);
    };
    clear();
    internals.socket?.once('close', () => setImmediate(clear));
  }
}
