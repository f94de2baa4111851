/** Pull-spec arithmetic: `registry/repo:tag`, `registry:5000/repo@sha256:...`. */
export function repoOf(ref: string): string {
  const at = ref.indexOf('@');
  const noDigest = at >= 0 ? ref.slice(0, at) : ref;
  const slash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  return colon > slash ? noDigest.slice(0, colon) : noDigest;
}

export function withDigest(ref: string, digest: string): string {
  return `${repoOf(ref)}@${digest}`;
}

export function tagOf(ref: string): string | undefined {
  if (ref.includes('@')) return undefined;
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  return colon > slash ? ref.slice(colon + 1) : undefined;
}

/** Registry host of a pull spec (docker.io when the first part is no host). */
export function registryOf(ref: string): string {
  const first = ref.split('/')[0] ?? '';
  return ref.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost')
    ? first
    : 'docker.io';
}
