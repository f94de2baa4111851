/**
 * Benchmark of the scheduler (issue 5, point 7): requests per second routed
 * from iib.requests to a lane by one scheduler process with tracing on,
 * against a bare rhea forwarder (same broker, same queues, same credit, accept
 * after the lane accepted) in the same run. Run: node dist/bench/scheduler.js
 * (BENCH_MESSAGES, default 2000, measured after BENCH_WARMUP requests, default
 * 1000). Needs the broker of `npm run stack`.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import * as fs from 'node:fs/promises';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import pino from 'pino';
import { create_container, Delivery } from 'rhea';
import { loadAmqpConfig } from '../shared/config';
import type { BuildRequestEvent } from '../shared/contracts';
import { DEFAULT_LANE, laneQueue, Messaging, Names } from '../shared/messaging';
import { machineCpuMs, processCpuMs, usPerRequest } from './process-cpu';
import { serviceNode } from './services';

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 2000);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 1000);
const CREDIT = 16; // the scheduler's consumer concurrency
const MAX_DELIVERIES = 5;
const repoRoot = path.resolve(__dirname, '..', '..');
const log = pino({ level: 'silent' });
const lane = laneQueue(false, DEFAULT_LANE);

function env(namespace: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    IIB_AMQP_URLS: process.env.IIB_AMQP_URLS ?? 'amqp://guest:guest@127.0.0.1:5672',
    IIB_BROKER_DIALECT: process.env.IIB_BROKER_DIALECT ?? 'rabbitmq',
    IIB_RABBITMQ_MANAGEMENT_URL:
      process.env.IIB_RABBITMQ_MANAGEMENT_URL ?? 'http://guest:guest@127.0.0.1:15672',
    IIB_AMQP_NAMESPACE: namespace,
    IIB_AMQP_MAX_DELIVERIES: String(MAX_DELIVERIES),
  };
}

/** The floor: receive, send to the lane, accept the input once the lane accepted. */
function forwarder(): void {
  const e = env(process.env.IIB_AMQP_NAMESPACE ?? '');
  const url = new URL(e.IIB_AMQP_URLS!.split(',')[0]!);
  const conn = create_container().connect({
    host: url.hostname,
    port: Number(url.port || 5672),
    username: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
  });
  const ns = e.IIB_AMQP_NAMESPACE!;
  const sender = conn.open_sender({ target: { address: `/amq/queue/${ns}${lane}` } });
  const receiver = conn.open_receiver({
    source: { address: `/amq/queue/${ns}${Names.requests}` },
    autoaccept: false,
    credit_window: CREDIT,
  });
  receiver.on('message', (ctx) => {
    const input = ctx.delivery!;
    const out = sender.send({ ...ctx.message!, durable: true });
    (out as unknown as { input: Delivery }).input = input;
  });
  sender.on('accepted', (ctx) => (ctx.delivery as unknown as { input: Delivery }).input.accept());
  receiver.on('receiver_open', () => process.stdout.write('{"msg":"started"}\n'));
}

async function preload(messaging: Messaging, messages: number): Promise<void> {
  const sender = await messaging.queueSender(Names.requests);
  await messaging.ensureQueue(lane, { maxDeliveries: MAX_DELIVERIES });
  const sends: Promise<void>[] = [];
  for (let id = 1; id <= messages; id += 1) {
    const event: BuildRequestEvent = {
      id,
      request_type: 'add',
      user: `user${id % 7}`,
      batch: id,
      params: { from_index: 'registry.example/index:v4.15', bundles: ['registry.example/b:1'] },
      submitted_at: new Date().toISOString(),
    };
    sends.push(sender.send({ body: event }));
    if (sends.length >= 200) await Promise.all(sends.splice(0));
  }
  await Promise.all(sends);
}

/**
 * Drains the lane. The first `warmup` routed requests are not measured: a
 * fresh process runs its hot path unoptimized until V8 has compiled it, and
 * more code to warm up (tracing's) would otherwise be charged as a running
 * cost. The rate and the CPU time are taken over the next `messages`.
 */
async function drain(
  messaging: Messaging,
  start: () => Promise<ChildProcess>,
  messages: number,
  warmup: number,
): Promise<RoutingResult> {
  let first = 0;
  let count = 0;
  let cpu0: number | undefined;
  let machine0: number | undefined;
  const child: { pid?: number } = {}; // known once started; the consumer reads it
  let done: () => void = () => undefined;
  const finished = new Promise<void>((r) => (done = r));
  const consumer = messaging.consumeQueue(
    lane,
    () => {
      count += 1;
      if (count === warmup + 1) {
        first = performance.now();
        cpu0 = processCpuMs(child.pid);
        machine0 = machineCpuMs();
      }
      if (count === warmup + messages) done();
      return Promise.resolve();
    },
    { concurrency: 500 },
    { maxDeliveries: MAX_DELIVERIES },
  );
  await consumer.ready();
  const proc = await start();
  child.pid = proc.pid;
  if (warmup === 0) {
    cpu0 = processCpuMs(proc.pid); // the child's start-up is behind it
    machine0 = machineCpuMs();
  }
  await finished;
  const seconds = (performance.now() - first) / 1000;
  const cpu1 = processCpuMs(proc.pid);
  const machine1 = machineCpuMs();
  proc.kill('SIGTERM');
  await once(proc, 'exit');
  const cpuUsPerRequest = usPerRequest(cpu0, cpu1, messages - 1);
  const machineCpuUsPerRequest = usPerRequest(machine0, machine1, messages - 1);
  return { perSecond: (messages - 1) / seconds, cpuUsPerRequest, machineCpuUsPerRequest };
}

async function spawnUntilStarted(args: string[], childEnv: Record<string, string>): Promise<ChildProcess> {
  // The log goes to a file, as in the stack (.stack/logs): a pipe to this
  // process would make the child's log writes wait whenever this process,
  // busy draining the lane and collecting spans, is slow to read.
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'iib-bench-log-'));
  const logFile = path.join(dir, 'stdout.log');
  const out = await fs.open(logFile, 'w');
  const child = spawn(serviceNode(), args, {
    env: childEnv, // rhea warns on every over-delivery (RabbitMQ 3.x ignores credit); BENCH_VERBOSE shows it.
    stdio: ['ignore', out.fd, process.env.BENCH_VERBOSE ? 'inherit' : 'ignore'],
  });
  await out.close();
  child.once('exit', () => void fs.rm(dir, { recursive: true, force: true }));
  for (;;) {
    const head = await readHead(logFile, 10_000);
    if (/"msg":"started"/.test(head)) return child;
    if (child.exitCode !== null) throw new Error(`benchmark child exited:\n${head}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function readHead(file: string, bytes: number): Promise<string> {
  const fh = await fs.open(file, 'r');
  try {
    const { buffer, bytesRead } = await fh.read(Buffer.alloc(bytes), 0, bytes, 0);
    return buffer.subarray(0, bytesRead).toString();
  } finally {
    await fh.close();
  }
}

/**
 * `BENCH_TRACING_ENV` (JSON object): extra variables for the traced process
 * only, to compare a setting against the default (e.g.
 * `{"IIB_OTEL_EXPRESS_LAYERS":"middleware,router,request_handler"}`). Unset,
 * tracing on is exactly the default configuration.
 */
export function benchTracingEnv(): Record<string, string> {
  const raw = process.env.BENCH_TRACING_ENV;
  return raw ? (JSON.parse(raw) as Record<string, string>) : {};
}

/** A local OTLP/HTTP collector that accepts and discards, so tracing does its full work. */
export async function startDiscardingCollector(): Promise<{ url: string; close: () => void }> {
  const collector = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
  });
  collector.listen(0, '127.0.0.1');
  await once(collector, 'listening');
  return {
    url: `http://127.0.0.1:${(collector.address() as { port: number }).port}`,
    close: () => collector.close(),
  };
}

export type RoutingTarget = 'scheduler' | 'scheduler-untraced' | 'forwarder';

export interface RoutingResult {
  /** Requests routed per second, first to last arrival at the lane. */
  perSecond: number;
  /** CPU time of the routing process per request routed after it started (NaN without /proc). */
  cpuUsPerRequest: number;
  /** CPU time of the whole machine per request over the same span (broker, benchmark and collector included). */
  machineCpuUsPerRequest: number;
}

/**
 * Requests per second routed by one fresh process of `kind` (the scheduler
 * with tracing on exports to `otlp` with the default configuration), over
 * `messages` requests waiting in iib.requests when it starts.
 */
export async function routingRate(
  kind: RoutingTarget,
  otlp: string,
  messages = MESSAGES,
  warmup = WARMUP,
): Promise<RoutingResult> {
  const ns = `bench${randomBytes(3).toString('hex')}.`;
  const bufferDir = path.join(os.tmpdir(), `iib-bench-otel-${ns}`);
  const messaging = new Messaging(loadAmqpConfig(env(ns)), log);
  try {
    await preload(messaging, warmup + messages);
    return await drain(
      messaging,
      () =>
        kind === 'forwarder'
          ? spawnUntilStarted([__filename, 'forwarder'], { ...env(ns) })
          : spawnUntilStarted(
              [
                '--require',
                path.join(repoRoot, 'dist/shared/tracing/preload.js'),
                path.join(repoRoot, 'dist/services/scheduler/main.js'),
              ],
              {
                ...env(ns),
                IIB_USER_TO_QUEUE: JSON.stringify({ 'SERIAL:user1': 'one' }),
                IIB_OTEL_TRACING: kind === 'scheduler' ? 'true' : 'false',
                OTEL_SERVICE_NAME: 'iib-scheduler',
                OTEL_EXPORTER_OTLP_ENDPOINT: otlp,
                IIB_OTEL_BUFFER_DIR: bufferDir,
                ...(kind === 'scheduler' ? benchTracingEnv() : {}),
              },
            ),
      messages,
      warmup,
    );
  } finally {
    await messaging.close(1000);
    await cleanup(ns);
    await fs.rm(bufferDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const collector = await startDiscardingCollector();
  const run = async (kind: RoutingTarget): Promise<number> =>
    (await routingRate(kind, collector.url)).perSecond;
  const bare = await run('forwarder');
  const untraced = await run('scheduler-untraced');
  const scheduler = await run('scheduler');
  collector.close();
  process.stdout.write(
    `messages: ${MESSAGES}\n` +
      `bare rhea forwarder:       ${bare.toFixed(0)} requests/s\n` +
      `scheduler (tracing off):   ${untraced.toFixed(0)} requests/s\n` +
      `scheduler (tracing on):    ${scheduler.toFixed(0)} requests/s\n` +
      `ratio scheduler/forwarder: ${(scheduler / bare).toFixed(2)}\n` +
      `ratio tracing on/off:      ${(scheduler / untraced).toFixed(2)} (target >= 0.85)\n`,
  );
}

/** Removes the run's queues so benchmark runs leave nothing behind on the broker. */
export async function cleanup(ns: string): Promise<void> {
  const base = new URL(env(ns).IIB_RABBITMQ_MANAGEMENT_URL!);
  const auth = Buffer.from(
    `${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`,
  ).toString('base64');
  const res = await fetch(`${base.origin}/api/queues/%2F?columns=name`, {
    headers: { authorization: `Basic ${auth}` },
  });
  const queues = (await res.json()) as { name: string }[];
  for (const q of queues.filter((x) => x.name.startsWith(ns))) {
    await fetch(`${base.origin}/api/queues/%2F/${encodeURIComponent(q.name)}`, {
      method: 'DELETE',
      headers: { authorization: `Basic ${auth}` },
    });
  }
}

if (process.argv[2] === 'forwarder') {
  forwarder();
} else if (require.main === module) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
