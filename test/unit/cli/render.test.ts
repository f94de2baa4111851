import { requestSummary, requestTable } from '../../../services/cli/render';
import type { RequestJson } from '../../../services/cli/wait';

const request: RequestJson = {
  id: 9,
  request_type: 'add',
  state: 'complete',
  state_reason: 'The operator bundle(s) were successfully added to the index image',
  user: 'alice',
  batch: 4,
  updated: '2026-12-03T08:00:05.000000Z',
  bundles: ['reg/a:1', 'reg/b:1'],
  index_image: 'reg/iib-build:9',
  organization: null,
  removed_operators: [],
  logs: { url: 'http://x/api/v1/builds/9/logs', expiration: '' },
  state_history: [
    { state: 'complete', state_reason: 'done', updated: '2026-12-03T08:00:05.000000Z' },
    {
      state: 'in_progress',
      state_reason: 'The request was initiated',
      updated: '2026-12-03T08:00:00.000000Z',
    },
  ],
};

describe('iib output', () => {
  it('when a request is summarised, then set fields show, empty ones do not, and the history reads oldest first', () => {
    const text = requestSummary(request);
    expect(text.split('\n')[0]).toBe('Request 9 (add): complete');
    expect(text).toMatch(/bundles\s+reg\/a:1, reg\/b:1/);
    expect(text).toMatch(/index_image\s+reg\/iib-build:9/);
    expect(text).not.toContain('organization');
    expect(text).not.toContain('removed_operators');
    expect(text).toContain('logs: http://x/api/v1/builds/9/logs');
    expect(text.indexOf('The request was initiated')).toBeLessThan(text.indexOf('done'));
  });

  it('when requests are listed, then one row each with the reason cut to the width, and the page in the footer', () => {
    const long = { ...request, id: 10, state_reason: 'x'.repeat(200) };
    const text = requestTable([request, long], { page: 1, pages: 3, per_page: 2, total: 5, next: 'u' }, 120);
    expect(text).toMatch(/│ 9\s+│ add\s+│ complete │ alice │ 4\s+│ 2026-12-03T08:00:05Z │/);
    expect(text).toContain(`${'x'.repeat(29)}…`);
    expect(text).not.toContain('x'.repeat(31));
    expect(text.trimEnd().split('\n').pop()).toBe('page 1 of 3, 5 request(s) (next: --page 2)');
    expect(requestTable([], { page: 1, pages: 0, per_page: 20, total: 0 })).toBe(
      'No requests.\npage 1 of 1, 0 request(s)\n',
    );
  });
});
