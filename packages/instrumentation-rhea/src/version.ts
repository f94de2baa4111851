/** The instrumentation scope of every span this package makes. */
export const PACKAGE_NAME = '@iib-ts/instrumentation-rhea';
export const PACKAGE_VERSION = '0.1.0';
