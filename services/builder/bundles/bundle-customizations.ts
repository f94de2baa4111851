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
  let packageName = annotations.packageName;
  const labels: Record<string, string> = {};

  const replace = (replacements: Replacements): void => {
    csv.replaceEverywhere(replacements);
    if (!csv.hasRelatedImages()) {
      opts.log(`Setting spec.relatedImages on ${path.basename(csv.file)}`);
      csv.setRelatedImages();
    }
  };
  const mapEach = (fn: (n: ImageName) => ImageName | undefined): Replacements => {
    const out: Replacements = new Map();
    for (const spec of csv.pullSpecs()) {
      const next = fn({ ...spec });
      if (next) addReplacement(out, spec, next);
    }
    return out;
  };

  for (const c of opts.customizations) {
    switch (c.type) {
      case 'resolve_image_pullspecs': {
        opts.log('Resolving image pull specs');
        const replacements: Replacements = new Map();
        if (!opts.pinnedByIib) {
          for (const spec of csv.pullSpecs()) {
            const resolved = await images.resolvePullSpec(imageNameToString(spec));
            if (!spec.tag.includes(':')) {
              addReplacement(replacements, spec, parseImageName(resolved));
              labels[LABEL_PINNED] = 'true';
            }
          }
        }
        if (replacements.size > 0) replace(replacements);
        break;
      }
      case 'related_bundles': {
        if (opts.stopAtRelatedBundles) {
          await csv.save();
          return { labels, csv };
        }
        opts.log('Applying related_bundles customization');
        const related: string[] = [];
        for (const spec of csv.pullSpecs()) {
          const ref = imageNameToString(spec);
          if (await images.isBundle(ref)) related.push(ref);
        }
        await opts.onRelatedBundles?.(related);
        break;
      }
      case 'package_name_suffix': {
        const suffix = typeof c.suffix === 'string' ? c.suffix : '';
        if (!suffix || packageName.endsWith(suffix)) break;
        opts.log(`Applying package_name_suffix: ${suffix}`);
        const next = `${packageName}${suffix}`;
        annotations.doc.setIn(['annotations', LABEL_BUNDLE_PACKAGE], next);
        await writeFile(annotations.file, annotations.doc.toString({ lineWidth: 0 }));
        packageName = next;
        labels[LABEL_BUNDLE_PACKAGE] = next;
        break;
      }
      case 'registry_replacements': {
        const map = (c.replacements ?? {}) as Record<string, string>;
        if (Object.keys(map).length === 0) break;
        opts.log('Applying registry replacements');
        const replacements = mapEach((n) => {
          const to = n.registry !== undefined ? map[n.registry] : undefined;
          return to ? { ...n, registry: to } : undefined;
        });
        if (replacements.size > 0) replace(replacements);
        break;
      }
      case 'perform_bundle_replacements': {
        const given = opts.bundleReplacements ?? {};
        if (Object.keys(given).length === 0) break;
        opts.log('Performing bundle replacements');
        const replacements: Replacements = new Map();
        for (const [from, to] of Object.entries(given)) {
          if (await images.isBundle(from)) {
            addReplacement(replacements, parseImageName(from), parseImageName(to));
          }
        }
        replace(replacements);
        break;
      }
      case 'image_name_from_labels': {
        const template = typeof c.template === 'string' ? c.template : '';
        if (!template) break;
        const replacements: Replacements = new Map();
        for (const spec of csv.pullSpecs()) {
          const ref = imageNameToString(spec);
          const specLabels = await images.labels(ref);
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
        replace(replacements);
        break;
      }
      case 'csv_annotations': {
        const wanted = c.annotations as Record<string, string> | undefined;
        if (!opts.organization || !wanted || Object.keys(wanted).length === 0) break;
        opts.log(`Applying csv annotations for organization ${opts.organization}`);
        for (const [key, template] of Object.entries(wanted)) {
          let value: string;
          try {
            value = formatTemplate(String(template), { package_name: packageName });
          } catch {
            throw new ValidationError(
              `The csv_annotations template "${String(template)}" of the organization ${opts.organization} uses a field other than {package_name}`,
            );
          }
          csv.setAnnotation(key, value);
        }
        break;
      }
      case 'enclose_repo': {
        const namespace = typeof c.namespace === 'string' ? c.namespace : '';
        const glue = typeof c.enclosure_glue === 'string' ? c.enclosure_glue : '';
        if (!namespace || !glue) break;
        opts.log(
          `Applying enclose_repo customization with namespace ${namespace} and enclosure_glue ${glue}`,
        );
        replace(
          mapEach((n) => {
            const parts = n.repo.split('/');
            if (n.namespace && n.namespace !== namespace) parts.unshift(n.namespace);
            return { ...n, namespace, repo: parts.join(glue) };
          }),
        );
        break;
      }
      default:
        // IIB ignores types it does not know (the config check rejects them at start-up).
        opts.log(`Ignoring the unknown customization type ${c.type}`);
    }
  }
  await csv.save();
  return { labels, csv };
}
