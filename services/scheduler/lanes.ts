import { loadOrExit, loadSchedulerConfig, type SchedulerConfig } from '../../shared/config';
import { laneQueue } from '../../shared/messaging';
import { ActiveMqJolokia, type ActiveMqQueue } from '../../shared/messaging/activemq-jolokia';
import { allLanes, parseUserToQueue } from './lane-router';

/**
 * `node dist/services/scheduler/lanes.js`: the depth and oldest message age
 * of every lane, asked of the broker (RabbitMQ's management API, ActiveMQ
 * Classic's Jolokia API), for an operator deciding how many builders a lane
 * needs. Reads the same configuration as the scheduler (namespace,
 * IIB_USER_TO_QUEUE).
 */

export interface LaneRow {
  queue: string;
  type: string;
  ready: number | undefined;
  inProgress: number | undefined;
  consumers: number | undefined;
  /** Seconds since the head message was published, when the broker says. */
  oldestAgeS: number | undefined;
}

interface RabbitQueue {
  name: string;
  type?: string;
  messages_ready?: number;
  messages_unacknowledged?: number;
  consumers?: number;
  head_message_timestamp?: number | null;
}

export function toRow(q: RabbitQueue, namespace: string, nowMs: number): LaneRow {
  // AMQP 1.0 creation_time arrives in milliseconds, AMQP 0-9-1 timestamps in seconds.
  const ts = q.head_message_timestamp ?? undefined;
  const tsMs = ts === undefined ? undefined : ts > 1e11 ? ts : ts * 1000;
  return {
    queue: q.name.slice(namespace.length),
    type: q.type ?? '?',
    ready: q.messages_ready,
    inProgress: q.messages_unacknowledged,
    consumers: q.consumers,
    oldestAgeS: tsMs === undefined ? undefined : Math.max(0, Math.round((nowMs - tsMs) / 1000)),
  };
}

/** An ActiveMQ queue as a lane row: READY excludes what consumers hold (QueueSize counts both). */
export function activemqRow(
  q: ActiveMqQueue,
  namespace: string,
  oldestMs: number | undefined,
  nowMs: number,
): LaneRow {
  return {
    queue: q.name.slice(namespace.length),
    type: 'queue',
    ready: Math.max(0, q.queueSize - q.inFlight),
    inProgress: q.inFlight,
    consumers: q.consumers,
    oldestAgeS: oldestMs === undefined ? undefined : Math.max(0, Math.round((nowMs - oldestMs) / 1000)),
  };
}

export function formatTable(rows: LaneRow[]): string {
  const cell = (v: number | string | undefined): string => (v === undefined ? '-' : String(v));
  const table = [
    ['LANE', 'TYPE', 'READY', 'IN_PROGRESS', 'CONSUMERS', 'OLDEST_AGE_S'],
    ...rows.map((r) => [
      r.queue,
      r.type,
      cell(r.ready),
      cell(r.inProgress),
      cell(r.consumers),
      cell(r.oldestAgeS),
    ]),
  ];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  return table
    .map((row) =>
      row
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

async function rabbitmqRows(config: SchedulerConfig, wanted: Set<string>): Promise<LaneRow[]> {
  const ns = config.amqp.namespace;
  const base = new URL(config.amqp.rabbitmqManagementUrl);
  const auth = Buffer.from(
    `${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`,
  ).toString('base64');
  base.username = '';
  base.password = '';
  const url = new URL('api/queues/%2F', base.toString().replace(/\/?$/, '/'));
  const res = await fetch(url, {
    headers: { authorization: `Basic ${auth}` },
    signal: AbortSignal.timeout(10_000),
  });
  if (!res.ok) throw new Error(`RabbitMQ management API answered HTTP ${res.status}`);
  const queues = (await res.json()) as RabbitQueue[];
  const now = Date.now();
  return queues
    .filter((q) => q.name.startsWith(ns))
    .filter((q) => q.name.startsWith(`${ns}iib.build.`) || wanted.has(q.name.slice(ns.length)))
    .map((q) => toRow(q, ns, now));
}

async function activemqRows(config: SchedulerConfig, wanted: Set<string>): Promise<LaneRow[]> {
  const ns = config.amqp.namespace;
  const jolokia = new ActiveMqJolokia(config.amqp.activemqJolokiaUrl);
  const queues = (await jolokia.queues(ns)).filter(
    (q) => q.name.startsWith(`${ns}iib.build.`) || wanted.has(q.name.slice(ns.length)),
  );
  const now = Date.now();
  return Promise.all(
    queues.map(async (q) =>
      activemqRow(q, ns, q.queueSize > 0 ? await jolokia.oldestMessageTime(q.name) : undefined, now),
    ),
  );
}

async function main(): Promise<void> {
  const config = loadOrExit(() => loadSchedulerConfig());
  const map = loadOrExit(() => parseUserToQueue(config.userToQueue));
  if (config.amqp.dialect === 'artemis') {
    process.stderr.write(
      'lanes: RabbitMQ and ActiveMQ Classic are supported; on Artemis read the lane queues in its console\n',
    );
    process.exit(2);
  }
  // Configured lanes are listed even before first use; any other lane a builder declared is listed too.
  const wanted = new Set(
    allLanes(map, config.defaultLane).flatMap((l) => [laneQueue(true, l), laneQueue(false, l)]),
  );
  const rows =
    config.amqp.dialect === 'activemq'
      ? await activemqRows(config, wanted)
      : await rabbitmqRows(config, wanted);
  rows.sort((a, b) => a.queue.localeCompare(b.queue));
  process.stdout.write(`${formatTable(rows)}\n`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`lanes: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
