import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import { loadAmqpConfig } from '../../shared/config';
import { laneQueue, Messaging } from '../../shared/messaging';
import { deleteNamespaceQueues } from '../support/broker-admin';
import { brokerDialect, brokerEnv, repoRoot } from '../support/env';

jest.setTimeout(120_000);

const run = promisify(execFile);

describe('the scheduler process and the lanes command', () => {
  const namespace = `l${randomBytes(4).toString('hex')}.`;
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    ...brokerEnv(namespace),
    IIB_AMQP_MAX_DELIVERIES: '3',
  };
  const script = (name: string): string => path.join(repoRoot, 'dist', 'services', 'scheduler', name);

  it('when IIB_USER_TO_QUEUE has a per-index map without "all", then the scheduler refuses to start naming the key', async () => {
    const bad = { ...env, IIB_USER_TO_QUEUE: JSON.stringify({ 'SERIAL:bob': { 'quay.io/x:1': 'q' } }) };
    const err = (await run(process.execPath, [script('main.js')], { env: bad }).catch((e: unknown) => e)) as {
      code?: number;
      stderr?: string;
    };
    expect(err.code).toBe(2);
    expect(err.stderr).toContain('IIB_USER_TO_QUEUE["SERIAL:bob"] must have an "all" key');
  });

  it("when npm run lanes runs beside the local stack, then it reads the broker the stack's services use, unless the environment names another", async () => {
    const stackEnv = path.join(repoRoot, '.stack', 'env');
    if (!fs.existsSync(stackEnv)) throw new Error(`${stackEnv} is missing: run \`npm run stack\``);
    const dialect = /^IIB_BROKER_DIALECT=(.*)$/m.exec(fs.readFileSync(stackEnv, 'utf8'))?.[1]?.trim();
    const lanesSh = path.join(repoRoot, 'scripts', 'lanes.sh');
    const bare = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
    const { stdout } = await run('bash', [lanesSh], { env: bare });
    // The stack's builder consumes both default lanes; the TYPE column tells the broker.
    const type = dialect === 'rabbitmq' ? 'quorum' : 'queue';
    expect(stdout).toMatch(new RegExp(`^iib\\.build\\.parallel\\.iib\\s+${type}\\s`, 'm'));
    expect(stdout).toMatch(new RegExp(`^iib\\.build\\.serial\\.iib\\s+${type}\\s`, 'm'));
    const err = (await run('bash', [lanesSh], { env: { ...bare, IIB_BROKER_DIALECT: 'artemis' } }).catch(
      (e: unknown) => e,
    )) as { code?: number; stderr?: string };
    expect(err.code).toBe(2);
    expect(err.stderr).toContain('on Artemis read the lane queues in its console');
  });

  it('when the broker is Artemis, then the lanes command says it cannot read it and exits 2', async () => {
    const artemisEnv = { ...env, IIB_BROKER_DIALECT: 'artemis' };
    const err = (await run(process.execPath, [script('lanes.js')], { env: artemisEnv }).catch(
      (e: unknown) => e,
    )) as { code?: number; stderr?: string };
    expect(err.code).toBe(2);
    expect(err.stderr).toContain('on Artemis read the lane queues in its console');
  });

  it('when a lane holds messages, then the lanes command prints its depth', async () => {
    if (brokerDialect === 'artemis') {
      // No lane statistics on Artemis (see the test above); the lane itself still takes the messages.
      const messaging = new Messaging(loadAmqpConfig(env), pino({ level: 'silent' }));
      try {
        const sender = await messaging.queueSender(laneQueue(true, 'ops'), { exclusive: true });
        await expect(sender.send({ body: { id: 1 } })).resolves.toBeUndefined();
      } finally {
        await messaging.close(1000);
      }
      return;
    }
    const messaging = new Messaging(loadAmqpConfig(env), pino({ level: 'silent' }));
    try {
      const sender = await messaging.queueSender(laneQueue(true, 'ops'), {
        exclusive: true,
        maxDeliveries: 3,
      });
      await sender.send({ body: { id: 1 } });
      await sender.send({ body: { id: 2 } });
      const lanesEnv = { ...env, IIB_USER_TO_QUEUE: JSON.stringify({ 'SERIAL:ops-user': 'ops' }) };
      // RabbitMQ: a quorum queue, whose head timestamp the management API does
      // not give; ActiveMQ (Jolokia): a queue, the age from its oldest message.
      const expected =
        brokerDialect === 'activemq'
          ? /iib\.build\.serial\.ops\s+queue\s+2\s+0\s+0\s+\d+\n/
          : /iib\.build\.serial\.ops\s+quorum\s+2\s+0\s+0\s+-/;
      // The management API refreshes queue statistics (depth, consumers) every few seconds.
      let out = '';
      for (let i = 0; i < 120 && !expected.test(out); i += 1) {
        if (i > 0) await new Promise((r) => setTimeout(r, 500));
        out = (await run(process.execPath, [script('lanes.js')], { env: lanesEnv })).stdout;
      }
      expect(out).toMatch(/^LANE\s+TYPE\s+READY\s+IN_PROGRESS\s+CONSUMERS\s+OLDEST_AGE_S/);
      expect(out).toMatch(expected);
      // Lane names are shown without the namespace prefix.
      expect(out).not.toContain(namespace);
    } finally {
      await messaging.close(1000);
      await deleteNamespaceQueues(namespace);
    }
  });
});
