import type { ReceivedSpan } from '../support/otlp-receiver';
import { OtlpReceiver, startOtlpReceiver } from '../support/otlp-receiver';
import { testImages } from '../support/env';
import { RunningSystem, startSystem, waitForFinal } from '../support/system';
import { subscribe, TopicSubscriber } from '../support/topic-subscriber';

jest.setTimeout(300_000);

describe('one create-empty-index request through the four services', () => {
  let receiver: OtlpReceiver;
  let system: RunningSystem;
  let buildTopic: TopicSubscriber;
  let batchTopic: TopicSubscriber;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    system = await startSystem({ otlpUrl: receiver.url });
    buildTopic = await subscribe(system.buildStateTopic);
    batchTopic = await subscribe(system.batchStateTopic);
  });

  afterAll(async () => {
    await buildTopic?.close();
    await batchTopic?.close();
    await system?.stop();
    await receiver?.stop();
  });

  const submit = async (
    body: Record<string, unknown>,
  ): Promise<{ status: number; json: Record<string, unknown> }> => {
    const res = await fetch(`${system.api}/builds/create-empty-index`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };

  it('when a valid request is submitted, then it completes with a pushed empty index, history and state messages in one trace', async () => {
    const { status, json } = await submit({
      from_index: testImages.index,
      binary_image: testImages.binary,
      labels: { 'com.example.team': 'release-engineering' },
    });
    expect(status).toBe(201);
    expect(json.state).toBe('in_progress');
    expect(json.state_reason).toBe('The request was initiated');
    const id = json.id as number;

    const done = await waitForFinal(system.api, id);
    expect(done.state_reason).toBe('The empty index image was successfully created');
    expect(done.state).toBe('complete');
    expect(done.index_image).toBe(`${system.registry}/iib-build:${id}`);
    expect(done.index_image_resolved).toMatch(
      new RegExp(`^${system.registry}/iib-build@sha256:[0-9a-f]{64}$`),
    );
    expect(done.from_index_resolved).toMatch(/@sha256:[0-9a-f]{64}$/);
    expect(done.binary_image_resolved).toMatch(/@sha256:[0-9a-f]{64}$/);
    expect(done.arches).toEqual(['amd64', 'arm64']);
    expect(done.labels).toEqual({ 'com.example.team': 'release-engineering' });
    const history = done.state_history as { state: string; state_reason: string }[];
    expect(history[0]).toMatchObject({ state: 'complete' });
    expect(history[history.length - 1]).toMatchObject({
      state: 'in_progress',
      state_reason: 'The request was initiated',
    });
    expect(history.map((h) => h.state_reason)).toContain(
      'Building the index image for the following arches: amd64, arm64',
    );

    // The build state topic saw every state change, with IIB's properties.
    const msgs = await buildTopic.waitFor((m) =>
      m.some((x) => x.applicationProperties.id === id && x.applicationProperties.state === 'complete'),
    );
    const mine = msgs.filter((m) => m.applicationProperties.id === id);
    expect(mine.length).toBe(history.length);
    for (const m of mine) {
      expect(
        Object.keys(m.applicationProperties)
          .filter((k) => !['traceparent', 'tracestate'].includes(k))
          .sort(),
      ).toEqual(['batch', 'id', 'state', 'user']);
      expect(m.contentType).toBe('application/json');
      expect(m.durable).toBe(true);
      expect(m.correlationId).toBeTruthy();
      const body = JSON.parse(m.body as string) as Record<string, unknown>;
      expect(body.id).toBe(id);
      expect(body).not.toHaveProperty('state_history');
    }
    expect(mine.map((m) => m.applicationProperties.state).pop()).toBe('complete');
    const batch = await batchTopic.waitFor(
      (m) => m.filter((x) => x.applicationProperties.batch === done.batch).length >= 2,
    );
    const batchStates = batch
      .filter((x) => x.applicationProperties.batch === done.batch)
      .map((x) => x.applicationProperties.state);
    expect(batchStates).toEqual(['in_progress', 'complete']);

    // One trace across the four services, each span's parent in the trace.
    const traceId = done.trace_id as string;
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    const inTrace = (spans: ReceivedSpan[]): ReceivedSpan[] => spans.filter((s) => s.traceId === traceId);
    const spans = await receiver.waitFor((all) => {
      const t = inTrace(all);
      const services = new Set(t.map((s) => s.serviceName));
      const notifierSends = t.filter((s) => s.serviceName === 'iib-notifier' && s.kind === 'PRODUCER');
      const ids = new Set(t.map((s) => s.spanId));
      const complete = t.every((s) => !s.parentSpanId || ids.has(s.parentSpanId));
      return complete && services.size === 4 && notifierSends.length >= history.length;
    }, 60_000);
    const trace = inTrace(spans);
    expect(new Set(trace.map((s) => s.serviceName))).toEqual(
      new Set(['iib-gateway', 'iib-scheduler', 'iib-builder', 'iib-notifier']),
    );
    const byId = new Map(trace.map((s) => [s.spanId, s]));
    const roots = trace.filter((s) => !s.parentSpanId);
    expect(roots).toHaveLength(1);
    expect(roots[0]!.serviceName).toBe('iib-gateway');
    expect(roots[0]!.kind).toBe('SERVER');
    const orphans = trace.filter((s) => s.parentSpanId && !byId.has(s.parentSpanId));
    expect(orphans.map((s) => `${s.serviceName ?? ''} ${s.kind} ${s.name}`)).toEqual([]);
    const parentService = (s: ReceivedSpan): string | undefined =>
      byId.get(s.parentSpanId ?? '')?.serviceName;
    const consumers = (svc: string): ReceivedSpan[] =>
      trace.filter((s) => s.serviceName === svc && s.kind === 'CONSUMER');
    expect(consumers('iib-scheduler').every((s) => parentService(s) === 'iib-gateway')).toBe(true);
    // The request's three messages (event, build state, batch state) leave in one send span.
    const intakeSends = trace.filter(
      (s) => s.serviceName === 'iib-gateway' && s.kind === 'PRODUCER' && s.parentSpanId === roots[0]!.spanId,
    );
    expect(intakeSends.map((s) => [s.name, s.attributes['messaging.batch.message_count']])).toEqual([
      ['send', 3],
    ]);
    expect(consumers('iib-scheduler').map((s) => s.parentSpanId)).toContain(intakeSends[0]!.spanId);
    expect(consumers('iib-builder').map(parentService)).toContain('iib-scheduler');
    expect(consumers('iib-gateway').every((s) => parentService(s) === 'iib-builder')).toBe(true);
    expect(consumers('iib-notifier').every((s) => parentService(s) === 'iib-gateway')).toBe(true);
    const toolSpans = trace.filter((s) => s.serviceName === 'iib-builder' && s.name.startsWith('exec '));
    expect(toolSpans.map((s) => s.name)).toEqual(
      expect.arrayContaining(['exec skopeo inspect', 'exec buildah bud']),
    );
    // The outbox relay's own polls and locks belong to no request's trace.
    // (after a few of its poll periods, so a leak would have shown by now)
    await new Promise((r) => setTimeout(r, 2500));
    const later = inTrace(await receiver.waitFor(() => true));
    const relayQueries = later.filter((s) =>
      /pg_try_advisory/.test(JSON.stringify([s.attributes['db.query.text'], s.attributes['db.statement']])),
    );
    expect(relayQueries.map((s) => s.name)).toEqual([]);
    for (const s of trace.filter((x) => x.kind === 'PRODUCER' || x.kind === 'CONSUMER')) {
      expect(s.attributes['messaging.system']).toBeDefined();
    }
  });

  it('when the from_index does not exist, then the request fails with the tool error as the reason', async () => {
    const { status, json } = await submit({
      from_index: `${system.registry}/does-not-exist:v1`,
      binary_image: testImages.binary,
    });
    expect(status).toBe(201);
    const done = await waitForFinal(system.api, json.id as number);
    expect(done.state).toBe('failed');
    expect(done.state_reason).toMatch(/^skopeo failed: .*(manifest unknown|name unknown|not found)/i);
    const logs = await (await fetch(`${system.api}/builds/${json.id as number}/logs`)).text();
    expect(logs).toMatch(/skopeo .* inspect --raw docker:\/\/.*does-not-exist:v1 -> exit \d+/);
  });

  it("when the body is invalid, then the gateway answers 400 with IIB's message and nothing is queued", async () => {
    const { status, json } = await submit({ binary_image: testImages.binary });
    expect(status).toBe(400);
    expect(Object.keys(json)).toEqual(['error']);
    expect(json.error).toMatch(/from_index/);
    const bad = await submit({
      from_index: testImages.index,
      binary_image: testImages.binary,
      build_tags: ['x'],
    });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toBe('The "build_tags" arg is invalid for the create-empty-index endpoint.');
  });
});
