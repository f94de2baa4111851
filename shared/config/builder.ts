import { COMMON_SETTINGS, HEALTH_SETTINGS, NAME, SECRETS_KEY } from './common';
import { Env, readSettings, setting, ValuesOf } from './env';
import {
  absolutePath,
  bool,
  integer,
  json,
  list,
  listOfItems,
  matching,
  oneOf,
  readableFile,
  shapes,
  text,
  textRead,
} from './schemas';

export interface LaneRef {
  serial: boolean;
  lane: string;
}

function parseLane(item: string): LaneRef {
  const [kind, lane] = item.split(':', 2);
  if ((kind !== 'serial' && kind !== 'parallel') || !lane || !NAME.test(lane)) {
    throw new Error(`lane "${item}" must be serial:<name> or parallel:<name>`);
  }
  return { serial: kind === 'serial', lane };
}

/** host[:port][/path], as in an image reference: no scheme. */
const REGISTRY = /^[A-Za-z0-9.-]+(:[0-9]+)?(\/[a-z0-9._/-]+)?$/;
const REGISTRY_WHAT = 'host[:port][/path] without a scheme, e.g. registry.example.com:5000';

export const FAULT_POINTS = [
  'before-first-tool',
  'mid-tool',
  'before-final-state',
  'after-final-state',
] as const;
export type FaultPoint = (typeof FAULT_POINTS)[number];

const GiB = 1024 * 1024 * 1024;

/** How the builder runs: its registry, lanes, tools and the failure policy. */
const RUN_SETTINGS = {
  registry: setting({
    key: 'IIB_REGISTRY',
    doc: 'Registry the builder pushes iib-build images to',
    schema: matching(REGISTRY, REGISTRY_WHAT),
  }),
  lanes: setting({
    key: 'IIB_BUILDER_LANES',
    doc: 'Lanes this builder consumes: serial:<lane>,parallel:<lane>',
    schema: listOfItems(textRead(parseLane)),
    default: 'parallel:iib,serial:iib',
  }),
  concurrency: setting({
    key: 'IIB_BUILDER_CONCURRENCY',
    doc: 'Parallel-lane builds run at once',
    schema: integer(1),
    default: '1',
  }),
  workDir: setting({
    key: 'IIB_BUILDER_WORK_DIR',
    doc: 'Directory for per-request work dirs',
    schema: absolutePath(),
    optional: true,
  }),
  commandTimeoutMs: setting({
    key: 'IIB_COMMAND_TIMEOUT_MS',
    doc: 'Timeout of one skopeo/buildah command',
    schema: integer(1000),
    default: '600000',
  }),
  totalAttempts: setting({
    key: 'IIB_TOTAL_ATTEMPTS',
    doc: 'Attempts of a flaky registry command',
    schema: integer(1),
    default: '5',
  }),
  retryDelayMs: setting({
    key: 'IIB_RETRY_DELAY_MS',
    doc: 'First retry delay',
    schema: integer(0),
    default: '1000',
  }),
  retryJitterMs: setting({
    key: 'IIB_RETRY_JITTER_MS',
    doc: 'Random jitter added to a retry delay',
    schema: integer(0),
    default: '500',
  }),
  retryMultiplier: setting({
    key: 'IIB_RETRY_MULTIPLIER',
    doc: 'Backoff multiplier',
    schema: integer(1),
    default: '2',
  }),
  secretsKey: SECRETS_KEY,
  builderId: setting({
    key: 'IIB_BUILDER_ID',
    doc: 'Name of this builder in logs and state updates',
    schema: text(),
    optional: true,
  }),
  stopGraceMs: setting({
    key: 'IIB_BUILDER_STOP_GRACE_MS',
    doc: 'On SIGTERM, how long the build in hand may finish before it is released to another builder',
    schema: integer(0),
    default: '120000',
  }),
  /** How long a builder waits for the gateway's answer to "is this request final?" before building anyway. */
  stateQueryTimeoutMs: setting({
    key: 'IIB_BUILDER_STATE_QUERY_TIMEOUT_MS',
    doc: 'How long a builder waits for the recorded state of a request before building it anyway',
    schema: integer(100),
    default: '10000',
  }),
  /** Fault tests only: the point at which the builder kills itself (see services/builder/fault-points.ts). */
  faultPoint: setting({
    key: 'IIB_BUILDER_FAULT_POINT',
    doc: 'Fault tests only: SIGKILL the builder itself at this point of its first build',
    schema: oneOf(FAULT_POINTS),
    optional: true,
  }),
  /** Push only the changed packages as an extra layer over the from index (see docs/builder.md). */
  incrementalPush: setting({
    key: 'IIB_INCREMENTAL_PUSH',
    doc: 'Push only the changed packages as a layer over the from index',
    schema: bool(),
    default: 'true',
  }),
  /** Catalog layers an incremental index may carry before it is squashed into one. */
  incrementalMaxLayers: setting({
    key: 'IIB_INCREMENTAL_MAX_LAYERS',
    doc: 'Catalog layers before an incremental index is squashed',
    schema: integer(1),
    default: '8',
  }),
};

/** IIB's own worker settings (iib_* in IIB's worker config). */
const IIB_SETTINGS = {
  /** IIB_BINARY_IMAGE_CONFIG: {scope: {ocp_version: binary image}}. */
  binaryImageConfig: setting({
    key: 'IIB_BINARY_IMAGE_CONFIG',
    doc: 'JSON {scope: {ocp_version: binary_image}} used when a request names no binary_image',
    schema: json(shapes.stringMapMap()),
    optional: true,
  }),
  /** Labels every bundle of an add request must carry (iib_required_labels). */
  requiredLabels: setting({
    key: 'IIB_REQUIRED_LABELS',
    doc: 'JSON {label: value} every added bundle must carry',
    schema: json(shapes.stringMap()),
    default: '{}',
  }),
  /** Registry written into index_image instead of `registry` (iib_index_image_output_registry). */
  indexImageOutputRegistry: setting({
    key: 'IIB_INDEX_IMAGE_OUTPUT_REGISTRY',
    doc: 'Registry shown in index_image instead of IIB_REGISTRY',
    schema: matching(REGISTRY, REGISTRY_WHAT),
    optional: true,
  }),
  /** Docker config JSON file the builder's own pulls use (iib_docker_config_template). */
  dockerConfigTemplate: setting({
    key: 'IIB_DOCKER_CONFIG_TEMPLATE',
    doc: "Docker config JSON with the builder's own registry credentials",
    schema: readableFile(),
    optional: true,
  }),
  /** iib_organization_customizations: {org: [{type: ..., ...}]}. */
  organizationCustomizations: setting({
    key: 'IIB_ORGANIZATION_CUSTOMIZATIONS',
    doc: 'JSON {organization: [customization, ...]} for regenerate-bundle',
    schema: json(shapes.arrayMap()),
    default: '{}',
  }),
  /** iib_related_image_registry_replacement: {user: {from: to}}... kept as given. */
  relatedImageRegistryReplacement: setting({
    key: 'IIB_RELATED_IMAGE_REGISTRY_REPLACEMENT',
    doc: 'JSON {user: {registry: replacement}} applied to related images',
    schema: json(shapes.stringMapMap()),
    default: '{}',
  }),
  /** iib_no_ocp_label_allow_list: index prefixes for ignore_bundle_ocp_version. */
  noOcpLabelAllowList: setting({
    key: 'IIB_NO_OCP_LABEL_ALLOW_LIST',
    doc: 'Index prefixes for which ignore_bundle_ocp_version is honoured',
    schema: list(),
    default: '[]',
  }),
  /** iib_max_recursive_related_bundles. */
  maxRecursiveRelatedBundles: setting({
    key: 'IIB_MAX_RECURSIVE_RELATED_BUNDLES',
    doc: 'Depth limit of recursive-related-bundles',
    schema: integer(1),
    default: '15',
  }),
};

/** Bounds of one extraction of image layers (decompression bombs, huge trees). */
const EXTRACT_SETTINGS = {
  /** Bytes of files one extraction of image layers may write, all layers together. */
  maxExtractBytes: setting({
    key: 'IIB_MAX_EXTRACT_BYTES',
    doc: 'Bytes of files one extraction of image layers may write',
    schema: integer(1024),
    default: String(2 * GiB),
  }),
  // A binary image's layers are read (and skipped) to reach /configs: a few hundred MB
  // uncompressed each, rarely over 2 GB in all; 8 GiB leaves room and still stops a bomb
  // within seconds of gunzip.
  /** Uncompressed bytes one extraction may read from the layers, skipped entries included (decompression bombs). */
  maxLayerReadBytes: setting({
    key: 'IIB_MAX_LAYER_READ_BYTES',
    doc: 'Uncompressed bytes one extraction may read from image layers, skipped entries included',
    schema: integer(1024),
    default: String(8 * GiB),
  }),
  // The largest catalog.json of real indexes is tens of MB; V8 cannot hold a string past
  // ~512 MiB, so a larger file could never be read anyway.
  /** Bytes of one file extracted from an image layer. */
  maxExtractFileBytes: setting({
    key: 'IIB_MAX_EXTRACT_FILE_BYTES',
    doc: 'Bytes of one file extracted from an image layer',
    schema: integer(1024),
    default: String(256 * 1024 * 1024),
  }),
  // Real /configs hold a few thousand files (one or a few per package, a bundle per file at most).
  /** Entries (files, directories, links) one extraction may keep under its prefix. */
  maxExtractFiles: setting({
    key: 'IIB_MAX_EXTRACT_FILES',
    doc: 'Entries one extraction may keep under its prefix (files, directories, links)',
    schema: integer(1),
    default: '50000',
  }),
  // A base image (UBI) holds 10-30k entries, which are read and skipped; 1M bounds the time spent.
  /** Entries one extraction may read from the layers, skipped ones included. */
  maxLayerEntries: setting({
    key: 'IIB_MAX_LAYER_ENTRIES',
    doc: 'Entries one extraction may read from image layers, skipped ones included',
    schema: integer(1),
    default: '1000000',
  }),
};

export const BUILDER_SETTINGS = {
  ...RUN_SETTINGS,
  ...IIB_SETTINGS,
  ...EXTRACT_SETTINGS,
  health: HEALTH_SETTINGS,
};

export type BuilderConfig = ValuesOf<typeof COMMON_SETTINGS> & ValuesOf<typeof BUILDER_SETTINGS>;

export function loadBuilderConfig(env: Env = process.env): BuilderConfig {
  return { ...readSettings(env, COMMON_SETTINGS), ...readSettings(env, BUILDER_SETTINGS) };
}
