import Table from 'cli-table3';
import type { RequestJson } from './wait';

/** Keys shown in the header of a summary, or not at all (the history has its own section). */
const HEADER_KEYS = ['id', 'request_type', 'state', 'state_reason', 'user', 'batch', 'updated'];
const HIDDEN_KEYS = ['state_history', 'logs', 'batch_annotations', 'trace_id'];

function isEmpty(v: unknown): boolean {
  if (v === null || v === undefined || v === '') return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') return Object.keys(v).length === 0;
  return false;
}

function show(v: unknown): string {
  if (Array.isArray(v)) return v.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(', ');
  if (v && typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** A request as a person reads it: the state first, then the set fields, then the history, oldest first. */
export function requestSummary(r: RequestJson): string {
  const lines = [
    `Request ${r.id} (${r.request_type}): ${r.state}`,
    `  reason: ${r.state_reason}`,
    `  user: ${r.user ?? '-'}, batch: ${r.batch ?? '-'}, updated: ${r.updated ?? '-'}`,
  ];
  const fields = Object.entries(r).filter(
    ([k, v]) => !HEADER_KEYS.includes(k) && !HIDDEN_KEYS.includes(k) && !isEmpty(v),
  );
  const width = Math.max(0, ...fields.map(([k]) => k.length));
  for (const [k, v] of fields) lines.push(`  ${k.padEnd(width)}  ${show(v)}`);
  const logs = r.logs as { url?: string } | undefined;
  if (logs?.url) lines.push(`  logs: ${logs.url}`);
  if (r.state_history && r.state_history.length > 0) {
    lines.push('  history:');
    for (const h of [...r.state_history].reverse()) {
      lines.push(`    ${h.updated}  ${h.state.padEnd(11)}  ${h.state_reason}`);
    }
  }
  return lines.join('\n') + '\n';
}

export interface ListMeta {
  page: number;
  pages: number;
  per_page: number;
  total: number;
  next?: string | null;
}

/** `iib list` on a terminal: one row per request, the reason cut to the width left. */
export function requestTable(items: RequestJson[], meta: ListMeta | undefined, columns = 120): string {
  const table = new Table({
    head: ['ID', 'TYPE', 'STATE', 'USER', 'BATCH', 'UPDATED', 'REASON'],
    style: { head: [], border: [] },
  });
  const fixed = 90;
  const reasonWidth = Math.max(20, columns - fixed);
  for (const r of items) {
    const reason =
      r.state_reason.length > reasonWidth ? `${r.state_reason.slice(0, reasonWidth - 1)}…` : r.state_reason;
    table.push([
      String(r.id),
      r.request_type,
      r.state,
      r.user ?? '-',
      String(r.batch ?? '-'),
      (r.updated ?? '').replace(/\.\d+Z$/, 'Z'),
      reason,
    ]);
  }
  const footer = meta
    ? `page ${meta.page} of ${Math.max(meta.pages, 1)}, ${meta.total} request(s)` +
      (meta.next ? ` (next: --page ${meta.page + 1})` : '')
    : '';
  return `${items.length > 0 ? table.toString() : 'No requests.'}\n${footer}${footer ? '\n' : ''}`;
}
