import { ApiError, Build, followLog, getJson } from './api.js';
import { h, replace, stateBadge, time, valueText } from './dom.js';
import { every } from './poll.js';

const FINAL = ['complete', 'failed'];
/** Keys shown in their own places, not among the details. */
const SHOWN = new Set([
  'id',
  'request_type',
  'state',
  'state_reason',
  'updated',
  'user',
  'batch',
  'arches',
  'state_history',
  'batch_annotations',
  'logs',
  'related_bundles',
  'nested_bundles',
  'deprecation_schema_url',
]);
/** The temporary data a type has, at /builds/<id>/<path>, once final. */
const ARTIFACTS: Record<string, { path: string; title: string }> = {
  'regenerate-bundle': { path: 'related_bundles', title: 'Related bundles' },
  'recursive-related-bundles': { path: 'nested-bundles', title: 'Nested bundles' },
};

function fields(pairs: [string, unknown][]): HTMLDListElement {
  const dl = h('dl', { class: 'fields' });
  for (const [k, v] of pairs) {
    const value = v instanceof Node ? v : valueText(v);
    dl.append(
      h('dt', {}, k),
      h('dd', {}, typeof value === 'string' && value.includes('\n') ? h('pre', {}, value) : value),
    );
  }
  return dl;
}

function history(b: Build): HTMLTableElement {
  return h(
    'table',
    { id: 'history' },
    h('thead', {}, h('tr', {}, ...['State', 'Reason', 'When'].map((t) => h('th', { scope: 'col' }, t)))),
    h(
      'tbody',
      {},
      ...(b.state_history ?? []).map((s) =>
        h(
          'tr',
          {},
          h('td', {}, stateBadge(s.state)),
          h('td', {}, s.state_reason),
          h('td', {}, time(s.updated)),
        ),
      ),
    ),
  );
}

/** The parts of the page that follow the request's JSON; redrawn on every poll. */
function render(
  b: Build,
  parts: { summary: HTMLElement; facts: HTMLElement; details: HTMLElement; states: HTMLElement },
): void {
  document.title = `Build ${b.id} · ${b.state} · IIB`;
  replace(parts.summary, stateBadge(b.state), h('span', { id: 'state-reason' }, b.state_reason));
  parts.summary.dataset.state = b.state;
  replace(
    parts.facts,
    fields([
      ['Type', b.request_type],
      ['User', b.user],
      ['Batch', h('a', { href: `?batch=${b.batch}` }, String(b.batch))],
      ['Arches', b.arches],
      ['Index image', b.index_image],
      ['From index', b.from_index],
      ['Updated', time(b.updated)],
      ['Batch annotations', b.batch_annotations],
    ]),
  );
  replace(parts.details, fields(Object.entries(b).filter(([k]) => !SHOWN.has(k))));
  replace(parts.states, history(b));
}

async function showArtifact(b: Build, section: HTMLElement): Promise<void> {
  const artifact = ARTIFACTS[b.request_type];
  if (!artifact) return;
  replace(section, h('h2', {}, artifact.title), h('p', { class: 'muted' }, 'Loading…'));
  try {
    const value = await getJson<unknown>(`builds/${b.id}/${artifact.path}`);
    const items = Array.isArray(value) ? value : [value];
    replace(
      section,
      h('h2', {}, artifact.title),
      items.length === 0
        ? h('p', { class: 'muted' }, 'None')
        : h('ul', { class: 'plain' }, ...items.map((i) => h('li', {}, h('code', {}, valueText(i))))),
    );
  } catch (err) {
    replace(
      section,
      h('h2', {}, artifact.title),
      h('p', { class: 'muted' }, String(err instanceof Error ? err.message : err)),
    );
  }
}

/**
 * Streams the log into `pre`, keeping the view at the bottom when the reader
 * is there. A stream cut short (a proxy's timeout, a restarted gateway) is
 * read again from the start after 2 s; an answer of the API (404, 410) is final.
 */
async function streamLog(id: number, pre: HTMLPreElement, status: HTMLElement): Promise<void> {
  const controller = new AbortController();
  window.addEventListener('pagehide', () => controller.abort());
  for (let attempt = 1; ; attempt++) {
    replace(status, 'Streaming…');
    pre.replaceChildren();
    try {
      await followLog(
        id,
        (text) => {
          const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
          pre.append(text);
          if (atBottom) pre.scrollTop = pre.scrollHeight;
        },
        controller.signal,
      );
      replace(status, pre.textContent === '' ? 'The log is empty.' : 'End of the log.');
      return;
    } catch (err) {
      if (err instanceof ApiError || controller.signal.aborted || attempt >= 30) {
        replace(status, h('span', { class: 'error' }, err instanceof Error ? err.message : String(err)));
        return;
      }
      replace(status, `The log stream broke (${String(err)}); reconnecting…`);
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
}

/** One build: its state (polled every 2 s until final), history, details, and its log as it is written. */
export async function showBuild(main: HTMLElement, id: number): Promise<void> {
  const parts = {
    summary: h('p', { class: 'summary', id: 'state', role: 'status', 'aria-live': 'polite' }),
    facts: h('section', { 'aria-label': 'Facts' }),
    details: h('section', { 'aria-label': 'Details' }),
    states: h('section', { 'aria-label': 'State history' }),
  };
  const error = h('div', { role: 'alert' });
  const artifact = h('section', {});
  const logStatus = h('p', { class: 'muted', id: 'log-status' });
  const pre = h('pre', { class: 'log', id: 'log', tabindex: '0', 'aria-label': 'Build log' });
  replace(
    main,
    h('p', {}, h('a', { href: './' }, '← All builds')),
    h('h1', {}, `Build ${id}`),
    error,
    parts.summary,
    parts.facts,
    h('h2', {}, 'State history'),
    parts.states,
    artifact,
    h('h2', {}, 'Details'),
    parts.details,
    h('h2', {}, 'Log'),
    logStatus,
    pre,
  );
  let build: Build;
  try {
    build = await getJson<Build>(`builds/${id}`);
  } catch (err) {
    replace(error, h('p', { class: 'error' }, err instanceof ApiError ? err.message : String(err)));
    return;
  }
  render(build, parts);
  void streamLog(id, pre, logStatus);
  if (FINAL.includes(build.state)) {
    await showArtifact(build, artifact);
    return;
  }
  let shown = JSON.stringify(build);
  every(2000, async () => {
    try {
      build = await getJson<Build>(`builds/${id}`);
      replace(error);
    } catch (err) {
      replace(error, h('p', { class: 'error' }, err instanceof ApiError ? err.message : String(err)));
      return true;
    }
    // Redrawn only when the request changed, so a focused link keeps its focus between polls.
    const answer = JSON.stringify(build);
    if (answer !== shown) render(build, parts);
    shown = answer;
    if (!FINAL.includes(build.state)) return true;
    await showArtifact(build, artifact);
    return false;
  });
}
