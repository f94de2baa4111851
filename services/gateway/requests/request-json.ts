import type { RequestType } from '../../../shared/contracts';
import type { RequestRecord, StateRecord } from './record';

export interface VerboseExtras {
  history: StateRecord[];
  batchAnnotations: Record<string, unknown> | null;
  /** Absolute base URL of the API (…/api/v1), for logs and artifact links. */
  apiBase: string;
  daysToLive: number;
}

/** IIB prints datetimes as isoformat() + 'Z', with microseconds. */
export function iibTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

type Dflt = null | 'list' | 'map';
const COMMON_INDEX: [string, Dflt][] = [
  ['binary_image', null],
  ['binary_image_resolved', null],
  ['bundle_mapping', 'map'],
  ['bundles', 'list'],
  ['deprecation_list', 'list'],
  ['from_index', null],
  ['from_index_resolved', null],
  ['index_image', null],
  ['index_image_resolved', null],
  ['internal_index_image_copy', null],
  ['internal_index_image_copy_resolved', null],
  ['organization', null],
  ['removed_operators', 'list'],
  ['distribution_scope', null],
  ['build_tags', 'list'],
];

function without(fields: [string, Dflt][], drop: string[]): [string, Dflt][] {
  return fields.filter(([k]) => !drop.includes(k));
}

/** The type-specific keys of IIB's JSON, with their value when unset. */
export const TYPE_FIELDS: Record<RequestType, [string, Dflt][]> = {
  add: [
    ...COMMON_INDEX,
    ['omps_operator_version', 'map'],
    ['graph_update_mode', null],
    ['check_related_images', null],
  ],
  rm: COMMON_INDEX,
  'create-empty-index': [
    ...without(COMMON_INDEX, [
      'bundles',
      'bundle_mapping',
      'organization',
      'deprecation_list',
      'removed_operators',
      'build_tags',
      'internal_index_image_copy',
      'internal_index_image_copy_resolved',
    ]),
    ['labels', null],
  ],
  'fbc-operations': [
    ...without(COMMON_INDEX, [
      'bundles',
      'bundle_mapping',
      'deprecation_list',
      'organization',
      'removed_operators',
    ]),
    ['fbc_fragments', 'list'],
    ['fbc_fragments_resolved', 'list'],
  ],
  'add-deprecations': [
    ...without(COMMON_INDEX, [
      'bundles',
      'bundle_mapping',
      'deprecation_list',
      'distribution_scope',
      'organization',
      'removed_operators',
    ]),
    ['operator_package', null],
    ['deprecation_schema_url', null],
  ],
  'regenerate-bundle': [
    ['bundle_image', null],
    ['from_bundle_image', null],
    ['from_bundle_image_resolved', null],
    ['organization', null],
    ['bundle_replacements', 'map'],
    ['related_bundles', null],
  ],
  'merge-index-image': [
    ['binary_image', null],
    ['binary_image_resolved', null],
    ['deprecation_list', 'list'],
    ['graph_update_mode', null],
    ['ignore_bundle_ocp_version', null],
    ['index_image', null],
    ['source_from_index', null],
    ['source_from_index_resolved', null],
    ['target_index', null],
    ['target_index_resolved', null],
    ['distribution_scope', null],
    ['build_tags', 'list'],
  ],
  'recursive-related-bundles': [
    ['parent_bundle_image', null],
    ['parent_bundle_image_resolved', null],
    ['organization', null],
    ['nested_bundles', null],
  ],
};

/**
 * Keys the verbose JSON of a type points at its temporary data with: a link
 * with an expiration, or a bare URL, to the given path under /builds/<id>/.
 */
export const VERBOSE_ARTIFACTS: Partial<
  Record<RequestType, Record<string, { kind: 'link' | 'url'; path: string }>>
> = {
  'regenerate-bundle': { related_bundles: { kind: 'link', path: 'related_bundles' } },
  'recursive-related-bundles': { nested_bundles: { kind: 'link', path: 'nested-bundles' } },
  'add-deprecations': { deprecation_schema_url: { kind: 'url', path: 'deprecation-schema' } },
};

function expiration(updated: Date, days: number): string {
  return iibTime(new Date(updated.getTime() + days * 86_400_000));
}

/**
 * IIB answers both fragment forms: the one the request used is filled, the
 * other is present and empty.
 */
function fbcFragments(r: RequestRecord, out: Record<string, unknown>): void {
  const resolved = Array.isArray(r.results.fbc_fragments_resolved) ? r.results.fbc_fragments_resolved : [];
  if (r.params.fbc_fragment !== undefined) {
    out.fbc_fragment = r.params.fbc_fragment;
    out.fbc_fragment_resolved = r.results.fbc_fragment_resolved ?? (resolved[0] as unknown) ?? null;
    out.fbc_fragments = [];
    out.fbc_fragments_resolved = [];
  } else {
    out.fbc_fragment = null;
    out.fbc_fragment_resolved = null;
  }
}

export function requestJson(r: RequestRecord, verbose?: VerboseExtras): Record<string, unknown> {
  const arches = r.results.arches;
  const out: Record<string, unknown> = {
    id: r.id,
    arches: Array.isArray(arches) ? [...(arches as string[])].sort() : [],
    batch: r.batch_id,
    request_type: r.type,
    state: r.state,
    state_reason: r.state_reason,
    updated: iibTime(r.updated),
    user: r.user_name,
  };
  for (const [key, dflt] of TYPE_FIELDS[r.type]) {
    const value = r.results[key] ?? r.params[key];
    out[key] = value ?? (dflt === 'list' ? [] : dflt === 'map' ? {} : null);
  }
  if (r.type === 'fbc-operations') fbcFragments(r, out);
  if (r.type === 'rm' && Array.isArray(r.params.operators)) out.removed_operators = r.params.operators;
  if (verbose) {
    const artifact = (name: string): Record<string, string> => ({
      expiration: expiration(r.updated, verbose.daysToLive),
      url: `${verbose.apiBase}/builds/${r.id}/${name}`,
    });
    for (const [key, { kind, path }] of Object.entries(VERBOSE_ARTIFACTS[r.type] ?? {})) {
      out[key] = kind === 'link' ? artifact(path) : `${verbose.apiBase}/builds/${r.id}/${path}`;
    }
    out.batch_annotations = verbose.batchAnnotations;
    out.logs = artifact('logs');
    out.state_history = verbose.history.map((h) => ({
      state: h.state,
      state_reason: h.state_reason,
      updated: iibTime(h.updated),
    }));
    out.trace_id = r.trace_id;
  }
  return out;
}
