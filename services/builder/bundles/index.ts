/**
 * The bundles room: bundle images resolved and read (CSV, annotations,
 * labels), the organization customizations of regenerate-bundle, the
 * bundles' place in a catalog (added, deprecated, written back) and the
 * OCP-version and deprecation rules that apply to them.
 */
export {
  adjustOperatorBundle,
  customizationsFor,
  DEFAULT_CUSTOMIZATIONS,
  type Customization,
} from './bundle-customizations';
export { imageNameToString, loadOperatorCsv } from './bundle-csv';
export { deprecateAllowingPackageRemoval, latestPerPackage } from './bundle-deprecation';
export { BundleImages, readingArch } from './bundle-images';
export {
  COMPLETED,
  LABEL_BUNDLE_PACKAGE,
  LABEL_OPERATOR_BUNDLE,
  LABEL_PINNED,
  yamlTrue,
} from './bundle-labels';
export {
  BundleFiles,
  bundleMapping,
  catalogBundleImages,
  checkRelatedImages,
  resolveBundles,
  splitPresent,
  verifyRequiredLabels,
  type ResolvedBundle,
} from './bundles';
export { writeTouchedPackages } from './bundles-catalog';
export { checkDeprecations, parseDeprecationSchema, pythonJson } from './deprecations-schema';
export { indexOcpVersion, isBundleVersionValid, LABEL_OPENSHIFT_VERSIONS } from './ocp-versions';
