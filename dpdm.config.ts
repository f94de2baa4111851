// Import cycles (issue 20): `npm run lint:cycles` (part of `npm run lint`) fails on any
// cycle between the modules of services/, shared/ and packages/, type-only imports
// included (a type import still ties two modules together).
export default {
  files: ['services/**/*.ts', 'shared/**/*.ts', 'packages/*/src/**/*.ts'],
  tsconfig: 'tsconfig.json',
  tree: false,
  warning: false,
  circular: true,
  progress: false,
  exitCode: 'circular:1',
  // TEMPORARY: the two cycles of today, in services/builder, which issue 20's
  // restructuring of the builder is removing. One import edge of each is skipped
  // (ISSUER:DEPENDENCY, paths from the repository root, each a regular expression);
  // remove an entry when its cycle is gone, add none.
  skipImports: [
    String.raw`services/builder/bundle-customizations\.ts:services/builder/bundle-images\.ts`,
    String.raw`services/builder/incremental\.ts:services/builder/index-image\.ts`,
  ],
};
