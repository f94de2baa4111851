#!/usr/bin/env node
// Validates rendered Kubernetes manifests against the Kubernetes OpenAPI
// schemas (kubernetes-models) and KEDA's CRD schemas (@kubernetes-models/keda):
//   kubectl kustomize deploy/kubernetes/overlays/kind | node scripts/validate-manifests.mjs
// Prints a JSON report {documents, kinds, errors} and exits 1 when a document
// is invalid or of a kind it has no schema for. An ES module because both
// packages ship only ES modules.
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';

/** apiVersion -> the module whose exports are the models of that group/version. */
function modulePath(apiVersion) {
  if (apiVersion === 'v1') return 'kubernetes-models/v1';
  const [group, version] = apiVersion.split('/');
  if (group === 'keda.sh') return `@kubernetes-models/keda/keda.sh/${version}`;
  if (!group || !version) return undefined;
  return `kubernetes-models/${group}/${version}`;
}

async function validate(doc) {
  const { apiVersion, kind, metadata } = doc ?? {};
  const where = { kind: String(kind), name: String(metadata?.name ?? '') };
  const path = typeof apiVersion === 'string' ? modulePath(apiVersion) : undefined;
  if (!path || typeof kind !== 'string') return { ...where, message: `no apiVersion/kind (${apiVersion})` };
  let models;
  try {
    models = await import(path);
  } catch {
    return { ...where, message: `no schema for apiVersion ${apiVersion}` };
  }
  const Model = models[kind];
  if (typeof Model !== 'function') return { ...where, message: `no schema for ${apiVersion} ${kind}` };
  try {
    new Model(doc).validate();
    return undefined;
  } catch (err) {
    return { ...where, message: err instanceof Error ? err.message : String(err) };
  }
}

const text = readFileSync(process.argv[2] ?? 0, 'utf8');
const docs = parseAllDocuments(text);
const parseErrors = docs.flatMap((d) => d.errors.map((e) => ({ kind: '', name: '', message: e.message })));
const objects = docs.map((d) => d.toJS()).filter((o) => o !== null && o !== undefined);
const errors = [...parseErrors];
for (const o of objects) {
  const e = await validate(o);
  if (e) errors.push(e);
}
const kinds = [...new Set(objects.map((o) => `${o.apiVersion} ${o.kind}`))].sort();
process.stdout.write(`${JSON.stringify({ documents: objects.length, kinds, errors }, null, 2)}\n`);
process.exit(errors.length > 0 ? 1 : 0);
