import type { StateUpdate } from '../../../shared/contracts';
import type { RequestRecord } from '../../../services/gateway/requests/record';
import {
  builderUpdate,
  isRefusal,
  patchUpdate,
  PatchBody,
  Transition,
} from '../../../services/gateway/requests/transitions';

const T0 = new Date('2026-01-01T00:00:00Z');
const NOW = new Date('2026-01-01T00:05:00Z');

const request = (state: string, reason: string, results: Record<string, unknown> = {}): RequestRecord => ({
  id: 7,
  type: 'add',
  user_name: 'alice',
  batch_id: 3,
  state,
  state_reason: reason,
  updated: T0,
  params: {},
  results,
  trace_id: null,
});

const update = (u: Partial<StateUpdate>): StateUpdate => ({ key: 'k', request_id: 7, at: '', ...u });

/** What a transition amounts to, for the tables. */
function outcome(t: Transition) {
  return {
    state: `${t.record.state}: ${t.record.state_reason}`,
    history: t.history !== undefined,
    publish: t.publish,
    batch: t.batchMayChange,
    columns: Object.keys(t.changes).sort().join(','),
  };
}

describe('the builder rules', () => {
  const cases: [string, RequestRecord, Partial<StateUpdate>, ReturnType<typeof outcome>][] = [
    [
      'a new reason is recorded and published',
      request('in_progress', 'a'),
      { state: 'in_progress', state_reason: 'b' },
      {
        state: 'in_progress: b',
        history: true,
        publish: true,
        batch: false,
        columns: 'state,state_reason,updated',
      },
    ],
    [
      'the same state and reason change nothing',
      request('in_progress', 'a'),
      { state: 'in_progress', state_reason: 'a' },
      { state: 'in_progress: a', history: false, publish: false, batch: false, columns: '' },
    ],
    [
      'a final state is recorded, published, and the batch looked at',
      request('in_progress', 'a'),
      { state: 'complete', state_reason: 'done' },
      {
        state: 'complete: done',
        history: true,
        publish: true,
        batch: true,
        columns: 'state,state_reason,updated',
      },
    ],
    [
      'a failure is final too',
      request('in_progress', 'a'),
      { state: 'failed', state_reason: 'boom' },
      {
        state: 'failed: boom',
        history: true,
        publish: true,
        batch: true,
        columns: 'state,state_reason,updated',
      },
    ],
    [
      'new results alone are published and move `updated`',
      request('in_progress', 'a'),
      { fields: { index_image: 'r/i:1' } },
      {
        state: 'in_progress: a',
        history: false,
        publish: true,
        batch: false,
        columns: 'index_image,results,updated',
      },
    ],
    [
      'results equal to the stored ones change nothing',
      request('in_progress', 'a', { index_image: 'r/i:1' }),
      { fields: { index_image: 'r/i:1' } },
      { state: 'in_progress: a', history: false, publish: false, batch: false, columns: '' },
    ],
    [
      'a complete request stays complete after a late in_progress',
      request('complete', 'done'),
      { state: 'in_progress', state_reason: 'late' },
      { state: 'complete: done', history: false, publish: false, batch: false, columns: '' },
    ],
    [
      'a complete request stays complete after a failure',
      request('complete', 'done'),
      { state: 'failed', state_reason: 'late' },
      { state: 'complete: done', history: false, publish: false, batch: false, columns: '' },
    ],
    [
      'a failed request keeps its results after a rebuild’s',
      request('failed', 'boom', { index_image: 'r/i:1' }),
      { state: 'complete', state_reason: 'again', fields: { index_image: 'r/i:2' } },
      { state: 'failed: boom', history: false, publish: false, batch: false, columns: '' },
    ],
  ];
  it.each(cases)('%s', (_name, current, u, expected) => {
    expect(outcome(builderUpdate(current, update(u), NOW))).toEqual(expected);
  });

  it('when a change is made, then `updated` is the update’s time and results are merged', () => {
    const t = builderUpdate(
      request('in_progress', 'a', { arches: ['amd64'] }),
      update({ state: 'complete', state_reason: 'done', fields: { index_image: 'r/i:1' } }),
      NOW,
    );
    expect(t.record).toMatchObject({ updated: NOW, results: { arches: ['amd64'], index_image: 'r/i:1' } });
    expect(t.history).toEqual({ state: 'complete', state_reason: 'done', updated: NOW });
  });

  it('when a final request gets log lines and artifacts, then only the log lines are kept', () => {
    const t = builderUpdate(
      request('complete', 'done'),
      update({ logs: ['late line'], artifacts: { related_bundles: ['a:1'] } }),
      NOW,
    );
    expect(t.logs).toEqual(['late line']);
    expect(t.artifacts).toEqual({});
  });

  it('when a request in progress gets log lines and artifacts alone, then they are kept and nothing is published', () => {
    const t = builderUpdate(
      request('in_progress', 'a'),
      update({ logs: ['l'], artifacts: { related_bundles: ['a:1'] } }),
      NOW,
    );
    expect([t.logs, t.artifacts, t.publish]).toEqual([['l'], { related_bundles: ['a:1'] }, false]);
  });
});

describe('the PATCH rules (IIB’s patch_request)', () => {
  const cases: [string, RequestRecord, PatchBody, ReturnType<typeof outcome> | string][] = [
    [
      'a new state is recorded and published',
      request('in_progress', 'a'),
      { state: 'complete', state_reason: 'done' },
      {
        state: 'complete: done',
        history: true,
        publish: true,
        batch: true,
        columns: 'results,state,state_reason,updated',
      },
    ],
    [
      'a new reason in progress is published, the batch not looked at',
      request('in_progress', 'a'),
      { state: 'in_progress', state_reason: 'b' },
      {
        state: 'in_progress: b',
        history: true,
        publish: true,
        batch: false,
        columns: 'results,state,state_reason,updated',
      },
    ],
    [
      'the same state and reason are not recorded again',
      request('in_progress', 'a'),
      { state: 'in_progress', state_reason: 'a' },
      { state: 'in_progress: a', history: false, publish: false, batch: false, columns: 'results' },
    ],
    [
      'results alone are written, not published, and leave `updated`',
      request('in_progress', 'a'),
      { index_image: 'r/i:1' },
      {
        state: 'in_progress: a',
        history: false,
        publish: false,
        batch: false,
        columns: 'index_image,results',
      },
    ],
    [
      'a final request may get results',
      request('complete', 'done'),
      { index_image: 'r/i:1' },
      {
        state: 'complete: done',
        history: false,
        publish: false,
        batch: false,
        columns: 'index_image,results',
      },
    ],
    [
      'a final state may be given again with a new reason',
      request('complete', 'done'),
      { state: 'complete', state_reason: 'done again' },
      {
        state: 'complete: done again',
        history: true,
        publish: true,
        batch: true,
        columns: 'results,state,state_reason,updated',
      },
    ],
    [
      'a complete request may not become failed',
      request('complete', 'done'),
      { state: 'failed', state_reason: 'no' },
      'A complete request cannot change states',
    ],
    [
      'a failed request may not become in progress',
      request('failed', 'boom'),
      { state: 'in_progress', state_reason: 'retry' },
      'A failed request cannot change states',
    ],
  ];
  it.each(cases)('%s', (_name, current, body, expected) => {
    const t = patchUpdate(current, body, NOW);
    expect(isRefusal(t) ? t.message : outcome(t)).toEqual(expected);
  });

  it('when arches are given, then they are added to the known ones', () => {
    const t = patchUpdate(
      request('in_progress', 'a', { arches: ['amd64'] }),
      { arches: ['s390x', 'amd64'] },
      NOW,
    );
    expect(!isRefusal(t) && t.record.results.arches).toEqual(['amd64', 's390x']);
  });

  it('when a PATCH is refused, then nothing of it is kept', () => {
    const t = patchUpdate(
      request('complete', 'done'),
      { state: 'failed', state_reason: 'no', index_image: 'x' },
      NOW,
    );
    expect(t).toEqual({ refused: 'final-state', message: 'A complete request cannot change states' });
  });
});
