import type { FieldSpec } from './validation/schemas';
import { SINGLE_ENDPOINTS } from './validation/schemas';

function escape(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c);
}

function row(name: string, spec: FieldSpec, required: boolean): string {
  const notes = [
    required ? 'required' : '',
    spec.secret ? 'secret, never stored' : '',
    spec.deprecated ? 'legacy' : '',
  ]
    .filter(Boolean)
    .join(', ');
  return `<tr><td><code>${escape(name)}</code></td><td>${spec.type}</td><td>${escape(spec.description)}</td><td>${notes}</td></tr>`;
}

/**
 * A readable page at `/`, rendered on the server from the same schemas as
 * the OpenAPI document (no CDN: the machine may be offline). The full
 * description is at /api/v1/openapi.json for ReDoc or any OpenAPI viewer.
 */
export function docsPage(): string {
  const sections = SINGLE_ENDPOINTS.map(
    (e) => `<section><h3>POST /api/v1${e.path}</h3><p>${escape(e.summary)}</p>
<table><tr><th>Key</th><th>Type</th><th>Meaning</th><th></th></tr>
${Object.entries(e.fields)
  .map(([k, v]) => row(k, v, e.required.includes(k)))
  .join('\n')}</table></section>`,
  ).join('\n');
  return `<!doctype html><html><head><meta charset="utf-8"><title>IIB API</title>
<style>body{font-family:sans-serif;max-width:60em;margin:auto;padding:1em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left}</style>
</head><body><h1>IIB API</h1>
<p>The index image build API, compatible with IIB. Machine-readable description: <a href="/api/v1/openapi.json">/api/v1/openapi.json</a>.</p>
<h2>Reading</h2><ul>
<li><code>GET /api/v1/builds</code>: page, per_page, verbose, state, batch, request_type, user, from_index, from_index_startswith, index_image</li>
<li><code>GET /api/v1/builds/&lt;id&gt;</code>, <code>/logs</code>, <code>/related_bundles</code>, <code>/nested-bundles</code>, <code>/deprecation-schema</code></li>
<li><code>PATCH /api/v1/builds/&lt;id&gt;</code>: IIB workers only</li>
<li><code>GET /api/v1/healthcheck</code></li></ul>
<h2>Submitting</h2>
<p><code>POST /api/v1/builds/regenerate-bundle-batch</code> and <code>/add-rm-batch</code> take <code>{"build_requests": [...], "annotations": {...}}</code>.</p>
${sections}
</body></html>`;
}
