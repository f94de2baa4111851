/**
 * The one way the page makes elements: data always goes in as text nodes
 * or attribute values, never as markup, so a label or a reason holding
 * `<script>` shows as those characters.
 */
export type Child = Node | string | number | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, value);
  append(el, children);
  return el;
}

export function append(el: Element, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'object' ? c : String(c));
  }
}

export function replace(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

/** IIB's times (`2026-01-02T03:04:05.678000Z`) as `2026-01-02 03:04:05 UTC`, the same in every locale. */
export function time(iso: unknown): HTMLTimeElement | string {
  if (typeof iso !== 'string') return '—';
  return h('time', { datetime: iso }, iso.replace('T', ' ').replace(/(\.\d+)?Z$/, ' UTC'));
}

export function stateBadge(state: string): HTMLSpanElement {
  return h('span', { class: `state state-${state.replace(/[^a-z_]/g, '')}` }, state.replace('_', ' '));
}

/** A value of the request JSON as text: lists joined, maps a key a line. */
export function valueText(v: unknown): string {
  if (v === null || v === undefined || v === '') return '—';
  if (Array.isArray(v))
    return v.length === 0 ? '—' : v.map((i) => (typeof i === 'string' ? i : JSON.stringify(i))).join(', ');
  // A map (labels, annotations, replacements) one `key: value` a line, strings as they are.
  if (typeof v === 'object') {
    const entries = Object.entries(v);
    if (entries.length === 0) return '—';
    return entries.map(([k, x]) => `${k}: ${typeof x === 'string' ? x : JSON.stringify(x)}`).join('\n');
  }
  return typeof v === 'string' ? v : JSON.stringify(v);
}
