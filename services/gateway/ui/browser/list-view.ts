import { ApiError, Build, getJson, listFilterValues, Page } from './api.js';
import { h, replace, stateBadge, time } from './dom.js';
import { every } from './poll.js';

/** The query keys the list passes on to GET /builds, as the page's own URL carries them. */
const FILTERS = ['state', 'request_type', 'user', 'index_image', 'batch'] as const;

function select(name: string, label: string, values: string[], current: string): HTMLLabelElement {
  const options = ['', ...values].map((v) => {
    const o = h('option', { value: v }, v === '' ? 'any' : v);
    if (v === current) o.selected = true;
    return o;
  });
  return h('label', {}, label, h('select', { name }, ...options));
}

function input(name: string, label: string, current: string): HTMLLabelElement {
  const el = h('input', { name, type: 'text', size: '28' });
  el.value = current;
  return h('label', {}, label, el);
}

/** The image a request produced, and the one it started from (the keys differ by type). */
const producedOf = (b: Build): unknown => b.index_image ?? b.bundle_image ?? null;
const sourceOf = (b: Build): unknown =>
  b.from_index ?? b.source_from_index ?? b.from_bundle_image ?? b.parent_bundle_image ?? null;
const image = (v: unknown): HTMLTableCellElement =>
  h('td', { class: 'wrap' }, typeof v === 'string' ? h('code', {}, v) : '—');

function row(b: Build): HTMLTableRowElement {
  return h(
    'tr',
    {},
    h('td', {}, h('a', { href: `?id=${b.id}` }, String(b.id))),
    h('td', { class: 'nowrap' }, b.request_type),
    h('td', {}, stateBadge(b.state)),
    h('td', {}, b.state_reason),
    h('td', {}, b.user ?? '—'),
    image(sourceOf(b)),
    image(producedOf(b)),
    h('td', { class: 'nowrap' }, time(b.updated)),
  );
}

/** Links to the other pages, keeping the filters. */
function pager(params: URLSearchParams, meta: Page['meta']): HTMLElement {
  const link = (page: number, text: string, rel: string): HTMLAnchorElement => {
    const q = new URLSearchParams(params);
    q.set('page', String(page));
    return h('a', { href: `?${q.toString()}`, rel }, text);
  };
  return h(
    'nav',
    { class: 'pager', 'aria-label': 'Pages' },
    meta.page > 1 ? link(meta.page - 1, '← Newer', 'prev') : null,
    h('span', {}, `Page ${meta.page} of ${Math.max(meta.pages, 1)} · ${meta.total} builds`),
    meta.page < meta.pages ? link(meta.page + 1, 'Older →', 'next') : null,
  );
}

/** The list of builds with its filters and pages; refreshed every 2 s while the tab is visible. */
export async function showList(main: HTMLElement, params: URLSearchParams): Promise<void> {
  document.title = 'IIB builds';
  const values = await listFilterValues();
  const current = (k: string): string => params.get(k) ?? '';
  const perPage = h('input', { type: 'hidden', name: 'per_page', value: current('per_page') || '20' });
  const form = h(
    'form',
    { class: 'filters', method: 'get', action: './', role: 'search' },
    select('state', 'State', values.state, current('state')),
    select('request_type', 'Request type', values.request_type, current('request_type')),
    input('user', 'User', current('user')),
    input('index_image', 'Index image', current('index_image')),
    perPage,
    h('button', { type: 'submit' }, 'Filter'),
    h('a', { href: './' }, 'Clear'),
  );
  const status = h('div', { role: 'status' });
  const body = h('tbody', {});
  const table = h(
    'table',
    { id: 'builds' },
    h('caption', { class: 'muted' }, 'Newest first'),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ...['ID', 'Type', 'State', 'Reason', 'User', 'From', 'Index image', 'Updated'].map((t) =>
          h('th', { scope: 'col' }, t),
        ),
      ),
    ),
    body,
  );
  const pages = h('div', {});
  replace(main, h('h1', {}, 'Builds'), form, status, table, pages);

  const query = new URLSearchParams();
  for (const k of [...FILTERS, 'page', 'per_page']) if (current(k)) query.set(k, current(k));
  // Redrawn only when the answer changed, so a focused link keeps its focus between polls.
  let shown = '';
  const load = async (): Promise<void> => {
    try {
      const page = await getJson<Page>(`builds?${query.toString()}`);
      const answer = JSON.stringify(page);
      if (answer === shown) return;
      shown = answer;
      replace(body, ...page.items.map(row));
      if (page.items.length === 0) replace(body, h('tr', {}, h('td', { colspan: '8' }, 'No builds match.')));
      replace(pages, pager(query, page.meta));
      replace(status);
    } catch (err) {
      replace(
        status,
        h(
          'p',
          { class: 'error' },
          err instanceof ApiError ? err.message : `Cannot reach the API: ${String(err)}`,
        ),
      );
    }
  };
  await load();
  every(2000, load);
}
