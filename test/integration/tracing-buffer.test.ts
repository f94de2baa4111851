import * as fs from 'node:fs';
import * as path from 'node:path';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver';
import { eventually } from '../unit/tracing/memory-tracing';
import { requireBuild, startFixture, tempDir, tracingEnv } from './tracing-support';

/*
 * Issue 8 point 2: the collector goes away under load, the service restarts
 * once while it is away, the collector comes back: every span is delivered,
 * and exactly once.
 */
const key = (s: ReceivedSpan): string => JSON.stringify([s.attributes['load.run'], s.attributes['load.seq']]);

function countsByKey(spans: ReceivedSpan[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const s of spans.filter((x) => x.name === 'load.unit'))
    counts.set(key(s), (counts.get(key(s)) ?? 0) + 1);
  return counts;
}

function bufferedFiles(dir: string): string[] {
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.otlp')) : [];
}

const madeCount = (line: string): number => Number(line.split(' ')[1]);

describe('span buffer across a collector outage and a restart', () => {
  let receiver: OtlpReceiver;

  beforeAll(async () => {
    requireBuild();
    receiver = await startOtlpReceiver();
  });
  afterAll(async () => {
    await receiver.stop();
  });

  it('when the receiver is down under load and the service restarts, then every span arrives exactly once', async () => {
    const bufferRoot = tempDir('span-buffer');
    const bufferDir = path.join(bufferRoot, 'tracing-fixture');
    const env = tracingEnv(receiver, { IIB_OTEL_BUFFER_DIR: bufferRoot });

    // 1. Load with the collector up.
    const first = startFixture('span-load.js', ['first', '0', '2'], env);
    await receiver.waitFor((spans) => countsByKey(spans).size >= 50);

    // 2. The collector goes away; the load goes on and lands on disk.
    await receiver.stop();
    const atOutage = madeCount(await first.waitForLine((l) => l.startsWith('made ')));
    await first.waitForLine((l) => l.startsWith('made ') && madeCount(l) >= atOutage + 400);
    await eventually(() => bufferedFiles(bufferDir).length > 0, 'a buffered batch on disk');

    // 3. The service restarts while the collector is still away.
    first.child.kill('SIGTERM');
    expect(await first.exited).toEqual({ code: 0, signal: null });
    const firstTotal = madeCount(await first.waitForLine((l) => l.startsWith('stopping ')));
    expect(bufferedFiles(bufferDir).length).toBeGreaterThan(0);

    const second = startFixture('span-load.js', ['second', '300', '2'], env);
    await second.waitForLine((l) => l === 'finished');

    // 4. The collector is back: the old run's and the new run's spans drain.
    await receiver.start();
    const expected = firstTotal + 300;
    await receiver.waitFor((spans) => countsByKey(spans).size >= expected, 60_000);
    second.child.kill('SIGTERM');
    expect(await second.exited).toEqual({ code: 0, signal: null });

    const counts = countsByKey(receiver.spans());
    for (let i = 0; i < firstTotal; i++) expect(counts.get(JSON.stringify(['first', i]))).toBe(1);
    for (let i = 0; i < 300; i++) expect(counts.get(JSON.stringify(['second', i]))).toBe(1);
    expect(counts.size).toBe(expected);
    expect(bufferedFiles(bufferDir)).toEqual([]);
    expect(first.stderr()).toContain('collector unreachable: buffering spans on disk');
  });
});
