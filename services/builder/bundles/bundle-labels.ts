/** Labels of bundle images, read and written by the bundle requests. */
export const LABEL_BUNDLE_PACKAGE = 'operators.operatorframework.io.bundle.package.v1';
export const LABEL_PINNED = 'com.redhat.iib.pinned';
export const LABEL_OPERATOR_BUNDLE = 'com.redhat.delivery.operator.bundle';

/** YAML truth as IIB reads labels (`yaml.load(value or 'false')`). */
export function yamlTrue(value: string | undefined): boolean {
  return value !== undefined && /^(true|True|TRUE)$/.test(value.trim());
}

/** IIB's state_reason when a regenerate-bundle (or recursive-related-bundles) request ends well. */
export const COMPLETED = 'The request completed successfully';
