import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { isMap, parseDocument } from 'yaml';
import { ValidationError } from '../../../shared/errors';
import { MAX_MANIFEST_BYTES, readTextCapped } from '../tools/layers/bounded-read';
import { LABEL_BUNDLE_PACKAGE, LABEL_PINNED } from './bundle-labels';
import {
  addReplacement,
  ImageName,
  imageNameToString,
  loadOperatorCsv,
  OperatorCsv,
  parseImageName,
  Replacements,
} from './bundle-csv';
import type { BundleImages } from './bundle-images';

/**
 * IIB's _adjust_operator_bundle: the organization customizations of
 * iib_organization_customizations applied, in order, to an extracted bundle.
 */

export interface Customization {
  type: string;
  [key: string]: unknown;
}

/** What runs for an organization that has no customizations configured (or no organization). */
export const DEFAULT_CUSTOMIZATIONS: Customization[] = [
  { type: 'resolve_image_pullspecs' },
  { type: 'related_bundles' },
  { type: 'package_name_suffix' },
  { type: 'registry_replacements' },
  { type: 'perform_bundle_replacements' },
  { type: 'image_name_from_labels' },
  { type: 'csv_annotations' },
  { type: 'enclose_repo' },
];

export function customizationsFor(
  config: Record<string, unknown[]>,
  organization: string | undefined,
): Customization[] {
  const configured = organization ? config[organization] : undefined;
  if (!Array.isArray(configured) || configured.length === 0) return DEFAULT_CUSTOMIZATIONS;
  return configured.map((c, i) => {
    if (typeof c !== 'object' || c === null || typeof (c as Customization).type !== 'string') {
      throw new ValidationError(
        `The customization ${i} of the organization ${organization ?? ''} in iib_organization_customizations has no "type"`,
      );
    }
    return c as Customization;
  });
}

export interface AdjustOptions {
  manifestsDir: string;
  metadataDir: string;
  organization?: string;
  customizations: Customization[];
  /** The bundle carries com.redhat.iib.pinned=true: its pull specs are not resolved again. */
  pinnedByIib: boolean;
  /** Stop before `related_bundles` (a recursive-related-bundles request). */
  stopAtRelatedBundles?: boolean;
  bundleReplacements?: Record<string, string>;
  /** Called with the related bundles when the `related_bundles` customization runs. */
  onRelatedBundles?: (bundles: string[]) => Promise<void>;
  log: (line: string) => void;
}

export interface AdjustResult {
  /** Labels for the regenerated bundle image. */
  labels: Record<string, string>;
  csv: OperatorCsv;
}

interface Annotations {
  file: string;
  doc: ReturnType<typeof parseDocument>;
  packageName: string;
}

/** metadata/annotations.yaml with its package annotation, checked as IIB checks it. */
async function readAnnotations(metadataDir: string): Promise<Annotations> {
  const file = path.join(metadataDir, 'annotations.yaml');
  let text: string;
  try {
    text = await readTextCapped(
      file,
      MAX_MANIFEST_BYTES,
      (problem) => new ValidationError(`metadata/annotations.yaml ${problem}`),
    );
  } catch (err) {
    if (err instanceof ValidationError) throw err;
    throw new ValidationError('metadata/annotations.yaml does not exist in the bundle');
  }
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new ValidationError('metadata/annotations.yaml is not valid YAML');
  const annotations = isMap(doc.contents) ? doc.contents.get('annotations', true) : undefined;
  if (annotations !== undefined && annotations !== null && !isMap(annotations)) {
    throw new ValidationError('The value of metadata/annotations.yaml must be a dictionary');
  }
  const pkg = isMap(annotations) ? annotations.get(LABEL_BUNDLE_PACKAGE) : undefined;
  if (!pkg) throw new ValidationError(`${LABEL_BUNDLE_PACKAGE} is not set in metadata/annotations.yaml`);
  if (typeof pkg !== 'string') {
    throw new ValidationError(
      `The value of ${LABEL_BUNDLE_PACKAGE} in metadata/annotations.yaml is not a string`,
    );
  }
  return { file, doc, packageName: pkg };
}

/** Python str.format with named fields only (`{name}`, `{{` and `}}` escapes). */
export function formatTemplate(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{|\}\}|\{([^{}]*)\}/g, (m, key: string | undefined) => {
    if (m === '{{') return '{';
    if (m === '}}') return '}';
    const k = key ?? '';
    if (!(k in values)) throw new KeyMissing(k);
    return values[k] as string;
  });
}

class KeyMissing extends Error {}

/** Applies the customizations in order; the CSV is written back before returning. */
export async function adjustOperatorBundle(images: BundleImages, opts: AdjustOptions): Promise<AdjustResult> {
  const csv = await loadOperatorCsv(opts.manifestsDir);
  const annotations = await readAnnotations(opts.metadataDir);
  const bundle = new BundleAdjustment(images, opts, csv, annotations);
  for (const c of opts.customizations) {
    if (c.type === 'related_bundles' && opts.stopAtRelatedBundles) break;
    const step = Object.hasOwn(STEPS, c.type) ? STEPS[c.type] : undefined;
    if (step) await step(bundle, c);
    // IIB ignores types it does not know (the config check rejects them at start-up).
    else opts.log(`Ignoring the unknown customization type ${c.type}`);
  }
  await csv.save();
  return { labels: bundle.labels, csv };
}

/** One bundle while its customizations apply: the CSV, the annotations, the labels to set. */
class BundleAdjustment {
  readonly labels: Record<string, string> = {};
  packageName: string;

  constructor(
    readonly images: BundleImages,
    readonly opts: AdjustOptions,
    readonly csv: OperatorCsv,
    readonly annotations: Annotations,
  ) {
    this.packageName = annotations.packageName;
  }

  log(line: string): void {
    this.opts.log(line);
  }

  /** Replaces pull specs everywhere in the CSV, then sets relatedImages if it has none. */
  replace(replacements: Replacements): void {
    this.csv.replaceEverywhere(replacements);
    if (!this.csv.hasRelatedImages()) {
      this.log(`Setting spec.relatedImages on ${path.basename(this.csv.file)}`);
      this.csv.setRelatedImages();
    }
  }

  /** The replacements of every pull spec that `fn` maps to another name. */
  mapEach(fn: (n: ImageName) => ImageName | undefined): Replacements {
    const out: Replacements = new Map();
    for (const spec of this.csv.pullSpecs()) {
      const next = fn({ ...spec });
      if (next) addReplacement(out, spec, next);
    }
    return out;
  }
}

type Step = (bundle: BundleAdjustment, c: Customization) => Promise<void>;

/** What each customization type does, as IIB's _adjust_operator_bundle does it. */
const STEPS: Record<string, Step> = {
  resolve_image_pullspecs: async (b) => {
    b.log('Resolving image pull specs');
    const replacements: Replacements = new Map();
    if (!b.opts.pinnedByIib) {
      for (const spec of b.csv.pullSpecs()) {
        const resolved = await b.images.resolvePullSpec(imageNameToString(spec));
        if (!spec.tag.includes(':')) {
          addReplacement(replacements, spec, parseImageName(resolved));
          b.labels[LABEL_PINNED] = 'true';
        }
      }
    }
    if (replacements.size > 0) b.replace(replacements);
  },
  related_bundles: async (b) => {
    b.log('Applying related_bundles customization');
    const related: string[] = [];
    for (const spec of b.csv.pullSpecs()) {
      const ref = imageNameToString(spec);
      if (await b.images.isBundle(ref)) related.push(ref);
    }
    await b.opts.onRelatedBundles?.(related);
  },
  package_name_suffix: async (b, c) => {
    const suffix = typeof c.suffix === 'string' ? c.suffix : '';
    if (!suffix || b.packageName.endsWith(suffix)) return;
    b.log(`Applying package_name_suffix: ${suffix}`);
    const next = `${b.packageName}${suffix}`;
    b.annotations.doc.setIn(['annotations', LABEL_BUNDLE_PACKAGE], next);
    await writeFile(b.annotations.file, b.annotations.doc.toString({ lineWidth: 0 }));
    b.packageName = next;
    b.labels[LABEL_BUNDLE_PACKAGE] = next;
  },
  registry_replacements: async (b, c) => {
    const map = (c.replacements ?? {}) as Record<string, string>;
    if (Object.keys(map).length === 0) return;
    b.log('Applying registry replacements');
    const replacements = b.mapEach((n) => {
      const to = n.registry !== undefined ? map[n.registry] : undefined;
      return to ? { ...n, registry: to } : undefined;
    });
    if (replacements.size > 0) b.replace(replacements);
  },
  perform_bundle_replacements: async (b) => {
    const given = b.opts.bundleReplacements ?? {};
    if (Object.keys(given).length === 0) return;
    b.log('Performing bundle replacements');
    const replacements: Replacements = new Map();
    for (const [from, to] of Object.entries(given)) {
      if (await b.images.isBundle(from)) {
        addReplacement(replacements, parseImageName(from), parseImageName(to));
      }
    }
    b.replace(replacements);
  },
  image_name_from_labels: async (b, c) => {
    const template = typeof c.template === 'string' ? c.template : '';
    if (!template) return;
    const replacements: Replacements = new Map();
    for (const spec of b.csv.pullSpecs()) {
      const ref = imageNameToString(spec);
      const specLabels = await b.images.labels(ref);
      let nameRepo: string;
      try {
        nameRepo = formatTemplate(template, specLabels);
      } catch (err) {
        if (!(err instanceof KeyMissing)) throw err;
        throw new ValidationError(
          `Pull spec ${ref} is missing one or more label(s) required in the image_name_from_labels ${template}. Available labels: ${Object.keys(specLabels).join(', ')}`,
        );
      }
      const slash = nameRepo.indexOf('/');
      const namespace = slash < 0 ? undefined : nameRepo.slice(0, slash);
      const repo = slash < 0 ? nameRepo : nameRepo.slice(slash + 1);
      addReplacement(replacements, spec, { ...spec, namespace, repo });
    }
    b.replace(replacements);
  },
  csv_annotations: async (b, c) => {
    const wanted = c.annotations as Record<string, string> | undefined;
    const organization = b.opts.organization;
    if (!organization || !wanted || Object.keys(wanted).length === 0) return;
    b.log(`Applying csv annotations for organization ${organization}`);
    for (const [key, template] of Object.entries(wanted)) {
      let value: string;
      try {
        value = formatTemplate(String(template), { package_name: b.packageName });
      } catch {
        throw new ValidationError(
          `The csv_annotations template "${String(template)}" of the organization ${organization} uses a field other than {package_name}`,
        );
      }
      b.csv.setAnnotation(key, value);
    }
  },
  enclose_repo: async (b, c) => {
    const namespace = typeof c.namespace === 'string' ? c.namespace : '';
    const glue = typeof c.enclosure_glue === 'string' ? c.enclosure_glue : '';
    if (!namespace || !glue) return;
    b.log(`Applying enclose_repo customization with namespace ${namespace} and enclosure_glue ${glue}`);
    b.replace(
      b.mapEach((n) => {
        const parts = n.repo.split('/');
        if (n.namespace && n.namespace !== namespace) parts.unshift(n.namespace);
        return { ...n, namespace, repo: parts.join(glue) };
      }),
    );
  },
};
