/**
 * The olm.deprecations blob of add-deprecations. The catalog engine has opm
 * v1.26.4's semantics, which keeps such blobs as opaque "others"; IIB runs
 * add-deprecations with a newer opm (declcfg ConvertToModel, v1.40) that
 * checks them, so those checks are made here with that opm's messages.
 */
import { ValidationError } from '../../../shared/errors';
import type { Catalog } from '@iib-ts/catalog';

const SCHEMA = 'olm.deprecations';

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Go's %#v of a declcfg.PackageScopedReference. */
function goRef(ref: { schema: string; name: string }): string {
  return `declcfg.PackageScopedReference{Schema:${JSON.stringify(ref.schema)}, Name:${JSON.stringify(ref.name)}}`;
}

/** Parses the request's schema and checks it is one olm.deprecations blob for `pkg`. */
export function parseDeprecationSchema(text: string, pkg: string): Record<string, unknown> {
  let blob: unknown;
  try {
    blob = JSON.parse(text);
  } catch {
    throw new ValidationError('"deprecation_schema" string should be valid JSON');
  }
  if (!isRecord(blob) || blob.schema !== SCHEMA) {
    throw new ValidationError(`The deprecation schema must be a JSON object with "schema": "${SCHEMA}"`);
  }
  if (blob.package !== pkg) {
    throw new ValidationError(
      `The deprecation schema is for package ${JSON.stringify(blob.package ?? '')}, not for operator_package ${JSON.stringify(pkg)}`,
    );
  }
  if (blob.entries !== undefined && !Array.isArray(blob.entries)) {
    throw new ValidationError('The deprecation schema\'s "entries" must be a list');
  }
  return blob;
}

/** opm v1.40's checks of every olm.deprecations blob against the catalog. */
export function checkDeprecations(catalog: Catalog): void {
  const seen = new Set<string>();
  const blobs = [...catalog.packages.values()].flatMap((b) => b.others.filter((o) => o.schema === SCHEMA));
  blobs.push(...catalog.globals.filter((o) => o.schema === SCHEMA));
  for (const [i, d] of blobs.entries()) {
    const pkg = typeof d.package === 'string' ? d.package : '';
    if (pkg === '') throw opm(`package name must be set for deprecation item ${i}`);
    const block = catalog.packages.get(pkg);
    if (!block?.package) throw opm(`cannot apply deprecations to an unknown package ${JSON.stringify(pkg)}`);
    if (seen.has(pkg)) throw opm(`expected a maximum of one deprecation per package: ${JSON.stringify(pkg)}`);
    seen.add(pkg);
    const refs = new Set<string>();
    const entries = Array.isArray(d.entries) ? (d.entries as unknown[]) : [];
    for (const [j, entry] of entries.entries()) {
      const r = isRecord(entry) && isRecord(entry.reference) ? entry.reference : {};
      const ref = {
        schema: typeof r.schema === 'string' ? r.schema : '',
        name: typeof r.name === 'string' ? r.name : '',
      };
      const p = JSON.stringify(pkg);
      if (ref.schema === '') throw opm(`schema must be set for deprecation entry [${j}] for package ${p}`);
      const key = `${ref.schema}\u0000${ref.name}`;
      if (refs.has(key)) throw opm(`duplicate deprecation entry ${goRef(ref)} for package ${p}`);
      refs.add(key);
      const n = JSON.stringify(ref.name);
      if (ref.schema === 'olm.bundle') {
        if (!block.bundles.some((b) => b.name === ref.name))
          throw opm(`cannot deprecate bundle ${n} for package ${p}: bundle not found`);
      } else if (ref.schema === 'olm.channel') {
        if (!block.channels.some((c) => c.name === ref.name))
          throw opm(`cannot deprecate channel ${n} for package ${p}: channel not found`);
      } else if (ref.schema === 'olm.package') {
        if (ref.name !== '')
          throw opm(`package name must be empty for deprecated package ${p} (specified ${n})`);
      } else {
        throw opm(
          `cannot deprecate object ${goRef(ref)} referenced by entry ${j} for package ${p}: object schema unknown`,
        );
      }
    }
  }
}

function opm(message: string): ValidationError {
  return new ValidationError(`Failed to validate the content from config_dir /configs: ${message}`);
}

/**
 * Python's json.dump with its defaults (", " and ": " separators, non-ASCII
 * escaped), so the file reads as IIB writes it.
 */
export function pythonJson(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') {
    return JSON.stringify(value).replace(
      /[\u007f-\uffff]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
    );
  }
  if (typeof value === 'number' || typeof value === 'boolean') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(pythonJson).join(', ')}]`;
  if (isRecord(value)) {
    return `{${Object.entries(value)
      .map(([k, v]) => `${pythonJson(k)}: ${pythonJson(v)}`)
      .join(', ')}}`;
  }
  return 'null';
}
