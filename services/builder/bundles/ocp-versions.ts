/**
 * IIB's is_bundle_version_valid: does a bundle's `com.redhat.openshift.versions`
 * label admit the index's OCP version? Versions compare as Python's
 * packaging.Version does for plain release numbers (optional leading "v",
 * trailing zeros insignificant); anything it cannot parse makes the bundle invalid.
 */
export const LABEL_OPENSHIFT_VERSIONS = 'com.redhat.openshift.versions';

type Version = number[];

function parse(text: string): Version {
  const m = /^\s*v?(\d+(?:\.\d+)*)\s*$/i.exec(text);
  if (!m?.[1]) throw new RangeError(`invalid version ${text}`);
  const parts = m[1].split('.').map(Number);
  while (parts.length > 1 && parts[parts.length - 1] === 0) parts.pop();
  return parts;
}

function compare(a: Version, b: Version): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Python's str.strip(chars): drops any of `chars` from both ends. */
function strip(s: string, chars: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && chars.includes(s[start]!)) start++;
  while (end > start && chars.includes(s[end - 1]!)) end--;
  return s.slice(start, end);
}

/** Throws when the index's own OCP version is not a version (IIB's message). */
export function indexOcpVersion(ocpVersion: string): Version {
  try {
    return parse(ocpVersion.replace(/v/g, ''));
  } catch {
    throw new RangeError(`Invalid OCP version, "${ocpVersion}", specified in Index Image`);
  }
}

export function isBundleVersionValid(
  label: string | undefined,
  ocpVersion: string,
  allowNoOcpVersion: boolean,
): boolean {
  const ocp = indexOcpVersion(ocpVersion);
  const value = label ?? '';
  if (allowNoOcpVersion && value === '') return true;
  const bundleVersion = value.replace(/v/g, '');
  try {
    if (value.includes('|')) {
      const versions = value.split('|');
      if (!versions.every((v) => v.startsWith('=') || v.startsWith('>='))) return false;
      for (const v of versions) {
        if (v.startsWith('>=')) {
          if (compare(ocp, parse(strip(v, '>='))) >= 0) return true;
        } else if (compare(parse(strip(v, '=')), ocp) === 0) return true;
      }
      return false;
    }
    if (value.startsWith('=')) return compare(parse(strip(bundleVersion, '=')), ocp) === 0;
    if (value.includes('-')) {
      const parts = bundleVersion.split('-');
      if (parts.length !== 2) return false;
      const [min, max] = parts.map(parse) as [Version, Version];
      return compare(min, ocp) <= 0 && compare(ocp, max) <= 0;
    }
    if (value.includes(',')) {
      const versions = bundleVersion.split(',').map(parse).sort(compare);
      return compare(versions[0]!, ocp) <= 0;
    }
    return compare(parse(bundleVersion), ocp) <= 0;
  } catch {
    return false;
  }
}
