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
  skipImports: [],
};
