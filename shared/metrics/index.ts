import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The process's Prometheus registry and every metric the services expose, by
 * name. Domain code increments them at a few boundary points (the HTTP
 * middleware, the outbox, the lane router, the build handler, the command
 * runner, the republisher, the broker connection); nothing else knows about
 * Prometheus. Labels are bounded: request types, lanes, tools, exit codes and
 * user names (as IIB counts per user), never request ids.
 */
export const registry = new Registry();

let processMetrics = false;

/** Node's default process metrics (CPU, memory, event loop lag, GC), once per process. */
export function enableProcessMetrics(): void {
  if (processMetrics) return;
  processMetrics = true;
  collectDefaultMetrics({ register: registry });
}

export const METRICS_CONTENT_TYPE = registry.contentType;

/** The exposition text of every metric in the registry. */
export function renderMetrics(): Promise<string> {
  return registry.metrics();
}

// gateway ---------------------------------------------------------------

export const requestsAccepted = new Counter({
  name: 'iib_requests_accepted_total',
  help: 'Build requests accepted by the API, by request type and user',
  labelNames: ['request_type', 'user'] as const,
  registers: [registry],
});

/** The user label of a request submitted without authentication (LOGIN_DISABLED). */
export const ANONYMOUS_USER = 'unauthenticated';

export const httpRequestDuration = new Histogram({
  name: 'iib_http_request_duration_seconds',
  help: 'HTTP API latency, by method, route template and status code',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});

export interface OutboxBacklog {
  rows: number;
  /** Age of the oldest row in seconds, 0 when the outbox is empty. */
  oldestAgeSeconds: number;
}

let outboxSource: (() => Promise<OutboxBacklog>) | undefined;
let outboxRead: Promise<OutboxBacklog | undefined> | undefined;

/**
 * Both outbox gauges come from one query per scrape: the first gauge's
 * collect starts it, the second one awaits the same promise.
 */
function readOutbox(): Promise<OutboxBacklog | undefined> {
  if (!outboxSource) return Promise.resolve(undefined);
  outboxRead ??= outboxSource()
    .catch(() => undefined)
    .finally(() => {
      // Cleared after this scrape's collectors ran, so the next scrape reads afresh.
      setImmediate(() => (outboxRead = undefined));
    });
  return outboxRead;
}

/** The gateway names how to read its outbox; the gauges read it when scraped. */
export function setOutboxSource(source: (() => Promise<OutboxBacklog>) | undefined): void {
  outboxSource = source;
}

export const outboxBacklogRows = new Gauge({
  name: 'iib_outbox_backlog_rows',
  help: 'Messages written to the outbox and not yet accepted by the broker (read at scrape time)',
  registers: [registry],
  async collect() {
    const b = await readOutbox();
    if (b) this.set(b.rows);
  },
});

export const outboxOldestAge = new Gauge({
  name: 'iib_outbox_oldest_age_seconds',
  help: 'Age of the oldest outbox row; grows while the broker is away (read at scrape time)',
  registers: [registry],
  async collect() {
    const b = await readOutbox();
    if (b) this.set(b.oldestAgeSeconds);
  },
});

// scheduler -------------------------------------------------------------

export const lanesRouted = new Counter({
  name: 'iib_lane_routed_total',
  help: 'Requests forwarded to a lane by the scheduler, by lane and mode (serial or parallel)',
  labelNames: ['lane', 'mode'] as const,
  registers: [registry],
});

// builder ---------------------------------------------------------------

export const buildsRunning = new Gauge({
  name: 'iib_builds_running',
  help: 'Builds in progress in this builder, by request type',
  labelNames: ['request_type'] as const,
  registers: [registry],
});

export const BUILD_OUTCOMES = ['complete', 'failed', 'released'] as const;
export type BuildOutcome = (typeof BUILD_OUTCOMES)[number];

export const buildDuration = new Histogram({
  name: 'iib_build_duration_seconds',
  help: 'Build duration, by request type and outcome (complete, failed, released back to the lane)',
  labelNames: ['request_type', 'outcome'] as const,
  buckets: [1, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600],
  registers: [registry],
});

/** Counts a build as running until the returned function is called with its outcome. */
export function startBuild(requestType: string): (outcome: BuildOutcome) => void {
  const started = process.hrtime.bigint();
  buildsRunning.inc({ request_type: requestType });
  let ended = false;
  return (outcome) => {
    if (ended) return;
    ended = true;
    buildsRunning.dec({ request_type: requestType });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    buildDuration.observe({ request_type: requestType, outcome }, seconds);
  };
}

export const toolRuns = new Counter({
  name: 'iib_tool_runs_total',
  help: 'Container tool runs (skopeo, buildah, podman), by tool and exit code ("timeout" when killed)',
  labelNames: ['tool', 'exit_code'] as const,
  registers: [registry],
});

export const registryRetries = new Counter({
  name: 'iib_registry_retries_total',
  help: 'Tool runs retried after a registry flake, by tool',
  labelNames: ['tool'] as const,
  registers: [registry],
});

// notifier --------------------------------------------------------------

export const stateMessagesPublished = new Counter({
  name: 'iib_state_messages_published_total',
  help: 'State messages accepted by the external broker, by kind (build state, batch state)',
  labelNames: ['kind'] as const,
  registers: [registry],
});

export const stateMessagesPending = new Gauge({
  name: 'iib_state_messages_pending',
  help: 'State messages in hand and not yet accepted by the external broker, by kind',
  labelNames: ['kind'] as const,
  registers: [registry],
});

// every service ---------------------------------------------------------

export const brokerReconnects = new Counter({
  name: 'iib_broker_reconnects_total',
  help: 'AMQP connections opened again after the first, by broker (internal, external)',
  labelNames: ['broker'] as const,
  registers: [registry],
});

export const brokerConnections = new Gauge({
  name: 'iib_broker_connections_open',
  help: 'AMQP connections of this process that are open, by broker (internal, external)',
  labelNames: ['broker'] as const,
  registers: [registry],
});
