import { isBundleVersionValid } from '../../../services/builder/bundles/ocp-versions';

// IIB's is_bundle_version_valid docstring table: label -> index versions that include it.
// For "v4.6,v4.5" the docstring says v4.5 is excluded but IIB's code sorts the list and
// includes it; this follows the code.
const TABLE: [string, Record<string, boolean>][] = [
  ['v4.5', { 'v4.5': true, 'v4.6': true, 'v4.7': true, 'v4.8': true }],
  ['=v4.6', { 'v4.5': false, 'v4.6': true, 'v4.7': false, 'v4.8': false }],
  ['v4.5-v4.7', { 'v4.5': true, 'v4.6': true, 'v4.7': true, 'v4.8': false }],
  ['v4.5,v4.6', { 'v4.5': true, 'v4.6': true, 'v4.7': true, 'v4.8': true }],
  ['v4.6,v4.5', { 'v4.5': true, 'v4.6': true, 'v4.7': true, 'v4.8': true }],
  ['=v4.5|=v4.6', { 'v4.5': true, 'v4.6': true, 'v4.7': false, 'v4.8': false }],
  ['=v4.5|>=v4.7', { 'v4.5': true, 'v4.6': false, 'v4.7': true, 'v4.8': true }],
];

describe('isBundleVersionValid', () => {
  it.each(TABLE)("when the label is %s, then it admits the index versions of IIB's table", (label, want) => {
    for (const [ocp, valid] of Object.entries(want)) {
      expect([ocp, isBundleVersionValid(label, ocp, false)]).toEqual([ocp, valid]);
    }
  });

  it('when the label is missing or unparsable, then the bundle is invalid unless missing labels are allowed', () => {
    expect(isBundleVersionValid(undefined, 'v4.18', false)).toBe(false);
    expect(isBundleVersionValid(undefined, 'v4.18', true)).toBe(true);
    expect(isBundleVersionValid('latest', 'v4.18', true)).toBe(false);
    expect(isBundleVersionValid('v4.5|v4.6', 'v4.6', false)).toBe(false);
    expect(isBundleVersionValid('v4.12', 'v4.18', false)).toBe(true);
  });

  it("when the index's own version is not a version, then it throws IIB's message", () => {
    expect(() => isBundleVersionValid('v4.5', 'latest', false)).toThrow(
      'Invalid OCP version, "latest", specified in Index Image',
    );
  });
});
