/**
 * Versions as opm reads them (github.com/blang/semver/v4): strict SemVer 2.0
 * with no leading "v", parsed and compared by the `semver` package; this file
 * only adds blang's error texts and Go's `%+v` printing of a version.
 */
import { SemVer, compareBuild, parse } from 'semver';

const numbers = /^[0-9]*$/;
const alphanum = /^[0-9A-Za-z-]*$/;

/** The error blang/semver's Parse returns for `v`, or undefined when it parses. */
function blangError(v: string): string | undefined {
  if (v.length === 0) return 'Version string empty';
  const parts = v.split('.');
  if (parts.length < 3) return 'No Major.Minor.Patch elements found';
  const [major = '', minor = ''] = parts;
  const rest = parts.slice(2).join('.');
  for (const [label, num] of [
    ['major', major],
    ['minor', minor],
  ] as const) {
    if (!numbers.test(num)) return `Invalid character(s) found in ${label} number "${num}"`;
    if (num.length > 1 && num.startsWith('0')) {
      return `${label === 'major' ? 'Major' : 'Minor'} number must not contain leading zeroes "${num}"`;
    }
    if (num === '') return `strconv.ParseUint: parsing "": invalid syntax`;
  }
  const pre = rest.indexOf('-');
  const build = rest.indexOf('+');
  const cut = pre >= 0 && (build < 0 || pre < build) ? pre : build;
  const patch = cut >= 0 ? rest.slice(0, cut) : rest;
  if (!numbers.test(patch)) return `Invalid character(s) found in patch number "${patch}"`;
  if (patch.length > 1 && patch.startsWith('0'))
    return `Patch number must not contain leading zeroes "${patch}"`;
  if (patch === '') return `strconv.ParseUint: parsing "": invalid syntax`;
  let tail = cut >= 0 ? rest.slice(cut) : '';
  if (tail.startsWith('-')) {
    const end = tail.indexOf('+');
    const preStr = end >= 0 ? tail.slice(1, end) : tail.slice(1);
    for (const p of preStr.split('.')) {
      if (p === '') return 'Prerelease is empty';
      if (/^[0-9]+$/.test(p) && p.length > 1 && p.startsWith('0')) {
        return `Numeric PreRelease version must not contain leading zeroes "${p}"`;
      }
      if (!alphanum.test(p)) return `Invalid character(s) found in prerelease "${p}"`;
    }
    tail = end >= 0 ? tail.slice(end) : '';
  }
  if (tail.startsWith('+')) {
    for (const b of tail.slice(1).split('.')) {
      if (b === '') return 'Build meta data is empty';
      if (!alphanum.test(b)) return `Invalid character(s) found in build meta data "${b}"`;
    }
  }
  return undefined;
}

export type ParsedVersion = { ok: true; version: SemVer } | { ok: false; error: string };

/** Parses like blang's semver.Parse. */
export function parseVersion(v: string): ParsedVersion {
  const err = blangError(v);
  if (err !== undefined) return { ok: false, error: err };
  const parsed = /^[0-9]/.test(v) && !/\s/.test(v) ? parse(v) : null;
  if (!parsed) return { ok: false, error: `Invalid version "${v}"` };
  return { ok: true, version: parsed };
}

/** blang's Compare: SemVer precedence, build metadata ignored. */
export function compareVersions(a: SemVer, b: SemVer): number {
  return a.compare(b);
}

/** opm's BuildIdCompare: as Compare, then build metadata, none lowest. */
export function buildIdCompare(a: SemVer, b: SemVer): number {
  return compareBuild(a, b);
}

/** Go's `%+v` of a blang semver.Version, as it appears in opm's messages. */
export function goFormatVersion(v: SemVer): string {
  const pre = v.prerelease
    .map((p) =>
      typeof p === 'number'
        ? `{VersionStr: VersionNum:${p} IsNum:true}`
        : `{VersionStr:${p} VersionNum:0 IsNum:false}`,
    )
    .join(' ');
  return `{Major:${v.major} Minor:${v.minor} Patch:${v.patch} Pre:[${pre}] Build:[${v.build.join(' ')}]}`;
}

export { SemVer };
