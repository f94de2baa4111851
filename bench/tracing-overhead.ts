/**
 * Tracing overhead (issue 8, point 6): the gateway's intake and the
 * scheduler's routing, each run as the real service process with tracing off
 * and with tracing on in its default configuration (`IIB_OTEL_TRACING=true`,
 * every span exported to a local OTLP/HTTP collector that accepts and
 * discards), in the same run. Prints the on/off ratios.
 *
 * The machine is shared (builds and tests run beside it), so one on/off pair
 * says little: off and on are measured in alternating order, round after
 * round, and the median of the per-round ratios is reported. Every round
 * starts fresh processes (a gateway pair, or a scheduler per measurement):
 * two processes of the same build can differ by a fifth in CPU per request,
 * so one process per mode for the whole run would decide every round alike.
 *
 * Three measures per round: throughput; the service's own CPU time per
 * request; and the whole machine's CPU time per request (the service, the
 * database, the broker, the collector, the load generator), which is what
 * bounds throughput on a machine they share.
 *
 *   node dist/bench/tracing-overhead.js [--rounds 7] [--seconds 5] [--concurrency 16]
 *     [--rate 100] [--messages 5000] [--warmup 3000] [--only intake|routing]
 *
 * `BENCH_NODE=/path/to/node` runs the services on another Node.js: on Node 20
 * AsyncLocalStorage costs a promise hook per promise, from Node 24 it does not.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import knexFactory, { Knex } from 'knex';
import { loadDatabaseUrl } from '../shared/config';
import { arg, atRate, postOnce, throughput } from './load';
import { machineCheckMs } from './machine-check';
import { machineCpuMs, processCpuMs, usPerRequest } from './process-cpu';
import { freePort, serviceNode, serviceNodeVersion } from './services';
import { benchTracingEnv, cleanup, routingRate, startDiscardingCollector } from './scheduler';

const repoRoot = path.resolve(__dirname, '..', '..');

interface Gateway {
  url: string;
  pid: number | undefined;
  stop: () => Promise<void>;
}

async function startGateway(admin: Knex, tracing: boolean, otlp: string): Promise<Gateway> {
  const id = `bench_trace_${randomBytes(3).toString('hex')}`;
  await admin.raw(`CREATE DATABASE ${id}`);
  const db = new URL(loadDatabaseUrl());
  db.pathname = `/${id}`;
  const port = await freePort();
  const bufferDir = path.join(os.tmpdir(), `iib-bench-${id}`);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    IIB_DATABASE_URL: db.toString(),
    IIB_GATEWAY_PORT: String(port),
    IIB_AMQP_NAMESPACE: `${id}.`,
    LOGIN_DISABLED: 'true',
    IIB_LOG_LEVEL: 'warn',
    OTEL_SERVICE_NAME: 'iib-gateway',
    // Nothing else: tracing on is what a user gets from the switch alone.
    ...(tracing
      ? {
          IIB_OTEL_TRACING: 'true',
          OTEL_EXPORTER_OTLP_ENDPOINT: otlp,
          IIB_OTEL_BUFFER_DIR: bufferDir,
          ...benchTracingEnv(),
        }
      : {}),
  };
  const child: ChildProcess = spawn(
    serviceNode(),
    [
      '--require',
      path.join(repoRoot, 'dist/shared/tracing/preload.js'),
      path.join(repoRoot, 'dist/services/gateway/main.js'),
    ],
    { env, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
    await admin.raw(`DROP DATABASE IF EXISTS ${id} WITH (FORCE)`);
    await cleanup(`${id}.`);
    await fs.rm(bufferDir, { recursive: true, force: true });
  };
  const base = `http://127.0.0.1:${port}/api/v1`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const ok = await fetch(`${base}/healthcheck`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return { url: `${base}/builds/add`, pid: child.pid, stop };
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error('gateway did not start');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** One measurement: requests per second, and the service's and the whole machine's CPU time per request. */
interface Measurement {
  perSecond: number;
  cpuUs: number;
  machineUs: number;
}

interface Round {
  off: Measurement;
  on: Measurement;
}

/**
 * One round: off and on measured one after the other, off first in even
 * rounds and on first in odd ones, so a drift of the machine's load hits both alike.
 */
async function oneRound(round: number, measure: (tracing: boolean) => Promise<Measurement>): Promise<Round> {
  const r: Partial<Round> = {};
  for (const tracing of round % 2 === 0 ? [false, true] : [true, false]) {
    r[tracing ? 'on' : 'off'] = await measure(tracing);
  }
  return r as Round;
}

type Ratios = { throughput: number; cpu: number; machine: number };

const MEASURES: (keyof Measurement)[] = ['perSecond', 'cpuUs', 'machineUs'];

/** Prints the rounds; returns the medians of the on/off ratios of each measure. */
function report(title: string, rounds: Round[]): Ratios {
  const ratios = MEASURES.map((k) => rounds.map((r) => r.on[k] / r.off[k]));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => c.padEnd(i === 0 ? 8 : 11))
      .join('')
      .trimEnd();
  const row = (first: string, off: number[], on: number[], ratio: number[]): string =>
    line([
      first,
      ...MEASURES.flatMap((_, j) => [off[j]!.toFixed(0), on[j]!.toFixed(0), ratio[j]!.toFixed(2)]),
    ]);
  console.log(title);
  console.log(
    line([
      'round',
      'off req/s',
      'on req/s',
      'on/off',
      'off cpu µs',
      'on cpu µs',
      'on/off',
      'off all µs',
      'on all µs',
      'on/off',
    ]),
  );
  rounds.forEach((r, i) => {
    console.log(
      row(
        String(i + 1),
        MEASURES.map((k) => r.off[k]),
        MEASURES.map((k) => r.on[k]),
        ratios.map((x) => x[i]!),
      ),
    );
  });
  const medians = ratios.map(median);
  console.log(
    row(
      'median',
      MEASURES.map((k) => median(rounds.map((r) => r.off[k]))),
      MEASURES.map((k) => median(rounds.map((r) => r.on[k]))),
      medians,
    ),
  );
  return { throughput: medians[0]!, cpu: medians[1]!, machine: medians[2]! };
}

/** Closed-loop throughput against one gateway, with the gateway's and the machine's CPU time per request. */
async function measureIntake(g: Gateway, seconds: number, concurrency: number): Promise<Measurement> {
  const cpu0 = processCpuMs(g.pid);
  const machine0 = machineCpuMs();
  const perSecond = await throughput(g.url, seconds, concurrency);
  const cpu1 = processCpuMs(g.pid);
  const machine1 = machineCpuMs();
  const requests = perSecond * seconds;
  return {
    perSecond,
    cpuUs: usPerRequest(cpu0, cpu1, requests),
    machineUs: usPerRequest(machine0, machine1, requests),
  };
}

/** Loads a fresh gateway for as long as one measurement, so JIT, pools and caches are warm. */
async function warmUp(g: Gateway, seconds: number, concurrency: number): Promise<void> {
  for (let i = 0; i < 50; i += 1) await postOnce(g.url);
  await throughput(g.url, seconds, concurrency);
}

async function main(): Promise<void> {
  const rounds = arg('rounds', 7);
  const seconds = arg('seconds', 5);
  const rate = arg('rate', 100);
  const concurrency = arg('concurrency', 16);
  const messages = arg('messages', 5000);
  const warmup = arg('warmup', 3000);
  const only = onlyArg();
  const checkBefore = machineCheckMs();
  const collector = await startDiscardingCollector();
  const admin = knexFactory({ client: 'pg', connection: loadDatabaseUrl(), pool: { min: 0, max: 1 } });
  const gateways: Gateway[] = [];
  const intake: Round[] = [];
  const latency: Record<'off' | 'on', { p50: number; p99: number; errors: number }> = {
    off: { p50: NaN, p99: NaN, errors: 0 },
    on: { p50: NaN, p99: NaN, errors: 0 },
  };
  const routing: Round[] = [];
  try {
    for (let i = 0; i < (only === 'routing' ? 0 : rounds); i += 1) {
      const start = async (tracing: boolean): Promise<Gateway> => {
        const g = await startGateway(admin, tracing, collector.url);
        gateways.push(g); // stopped by the finally below if anything after this fails
        return g;
      };
      const pair = { off: await start(false), on: await start(true) };
      // Warm-up as long as a measurement: with one second of it, the first
      // round (JIT, connection pools, PostgreSQL's caches) was the slowest of
      // every run, a third to a half below the others.
      for (const g of [pair.off, pair.on]) await warmUp(g, seconds, concurrency);
      intake.push(
        await oneRound(i, (tracing) => measureIntake(pair[tracing ? 'on' : 'off'], seconds, concurrency)),
      );
      if (i === rounds - 1) {
        latency.off = await atRate(pair.off.url, rate, seconds);
        latency.on = await atRate(pair.on.url, rate, seconds);
      }
      // Stopping also removes the round's queues, which nothing consumes:
      // the broker does not fill up over the run.
      for (const g of gateways.splice(0)) await g.stop();
    }
    for (let i = 0; i < (only === 'intake' ? 0 : rounds); i += 1) {
      routing.push(
        await oneRound(i, async (tracing) => {
          const r = await routingRate(
            tracing ? 'scheduler' : 'scheduler-untraced',
            collector.url,
            messages,
            warmup,
          );
          return { perSecond: r.perSecond, cpuUs: r.cpuUsPerRequest, machineUs: r.machineCpuUsPerRequest };
        }),
      );
    }
  } finally {
    for (const g of gateways) await g.stop().catch(() => undefined);
    collector.close();
    await admin.destroy();
  }

  const checkAfter = machineCheckMs();
  const extra = Object.keys(benchTracingEnv());
  console.log(
    `tracing overhead: ${rounds} rounds, off and on in alternating order; on = IIB_OTEL_TRACING=true, every span exported over OTLP/HTTP` +
      (extra.length > 0 ? ` (with BENCH_TRACING_ENV: ${extra.join(', ')})` : ' (default configuration)'),
  );
  console.log(`services on Node.js ${serviceNodeVersion()} (BENCH_NODE picks another binary)`);
  console.log(
    `machine check (fixed allocation-heavy loop, CPU ms, best of 3): ${checkBefore.toFixed(0)} before the run, ${checkAfter.toFixed(0)} after` +
      (checkAfter > checkBefore * 1.2 || checkBefore > checkAfter * 1.2
        ? ' -- the machine changed during the run: compare only rounds, not runs'
        : ''),
  );
  console.log('cpu µs = CPU time (user + system) of the service process per request');
  console.log(
    'all µs = CPU time of the whole machine per request (service, PostgreSQL, broker, collector, load generator)',
  );
  console.log('');
  const intakeRatio =
    intake.length > 0
      ? report(
          `gateway intake (POST /builds/add, ${seconds}s closed loop x${concurrency} per measurement)`,
          intake,
        )
      : undefined;
  if (intakeRatio) {
    console.log(
      `latency at ${rate} req/s (${seconds}s open loop): off p50 ${latency.off.p50.toFixed(1)} ms p99 ${latency.off.p99.toFixed(1)} ms; on p50 ${latency.on.p50.toFixed(1)} ms p99 ${latency.on.p99.toFixed(1)} ms`,
    );
    console.log('');
  }
  const routingRatio =
    routing.length > 0
      ? report(
          `scheduler routing (${messages} queued requests per measurement, after ${warmup} not measured)`,
          routing,
        )
      : undefined;
  console.log('');
  const more = (ratio: number): string => `${ratio >= 1 ? '+' : ''}${((ratio - 1) * 100).toFixed(1)}%`;
  const line = (what: string, r: Ratios): string =>
    `${what}: throughput with tracing ${r.throughput.toFixed(2)} of without (cost ${((1 - r.throughput) * 100).toFixed(1)}%, target < 15%); ` +
    `CPU per request: service x${r.cpu.toFixed(2)} (${more(r.cpu)}), machine x${r.machine.toFixed(2)} (${more(r.machine)})`;
  if (intakeRatio) console.log(line('intake ', intakeRatio));
  if (routingRatio) console.log(line('routing', routingRatio));
}

/** `--only intake` or `--only routing` runs one of the two; both by default. */
function onlyArg(): 'intake' | 'routing' | undefined {
  const i = process.argv.indexOf('--only');
  if (i < 0) return undefined;
  const v = process.argv[i + 1];
  if (v !== 'intake' && v !== 'routing') throw new Error('--only must be intake or routing');
  return v;
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`tracing benchmark failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
