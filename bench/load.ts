/** Load generation shared by the HTTP benchmarks: a closed loop for throughput, an open loop for latency. */

export function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : dflt;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`);
  return v;
}

const BODY = JSON.stringify({
  bundles: ['quay.io/ns/bundle:v1.0.0', 'quay.io/ns/bundle:v1.1.0'],
  from_index: 'quay.io/ns/index:v4.18',
  binary_image: 'quay.io/ns/binary:v4.18',
  add_arches: ['amd64'],
});

export async function postOnce(url: string): Promise<number> {
  const started = performance.now();
  const res = await fetch(url, {
    method: 'POST',
    body: BODY,
    headers: { 'content-type': 'application/json' },
  });
  await res.arrayBuffer();
  if (res.status !== 201) throw new Error(`HTTP ${res.status}`);
  return performance.now() - started;
}

/** Closed loop: `concurrency` clients post back to back for `seconds`. */
export async function throughput(url: string, seconds: number, concurrency: number): Promise<number> {
  const until = performance.now() + seconds * 1000;
  let done = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        await postOnce(url);
        done += 1;
      }
    }),
  );
  return done / seconds;
}

/** Open loop: one request every 1/rate s whatever the answers do; latencies of all. */
export async function atRate(
  url: string,
  rate: number,
  seconds: number,
): Promise<{ p50: number; p99: number; errors: number }> {
  const total = Math.round(rate * seconds);
  const latencies: number[] = [];
  let errors = 0;
  const t0 = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < total; i += 1) {
    const wait = t0 + (i * 1000) / rate - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    pending.push(
      postOnce(url).then(
        (ms) => void latencies.push(ms),
        () => void (errors += 1),
      ),
    );
  }
  await Promise.all(pending);
  latencies.sort((a, b) => a - b);
  const q = (p: number): number =>
    latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  return { p50: q(0.5), p99: q(0.99), errors };
}
