#!/usr/bin/env bash
# Pins every base and infrastructure image by digest: the Dockerfile's
# NODE_IMAGE and the images of docker-compose.yml become `name:tag@sha256:...`
# for the digest the registry serves for that tag today (the multi-arch
# index digest, so every platform stays pinned). Run it again to refresh;
# review and commit the diff. Needs skopeo and access to the registries.
#   bash scripts/pin-images.sh           # rewrite the files
#   bash scripts/pin-images.sh --check   # only print tag -> digest
set -euo pipefail
cd "$(dirname "$0")/.."
check=false
[[ "${1:-}" == "--check" ]] && check=true

digest_of() {
  # A reference without a registry is Docker Hub's (library/ for official images).
  local ref="${1%@*}" full
  case "$ref" in
    */*/*) full="$ref" ;;
    */*) full="docker.io/$ref" ;;
    *) full="docker.io/library/$ref" ;;
  esac
  skopeo inspect --raw "docker://$full" | sha256sum | awk '{print "sha256:" $1}'
}

pin() {
  local file="$1" ref="$2" digest
  digest="$(digest_of "$ref")"
  echo "${ref%@*} -> $digest"
  if ! $check; then
    # Replace the reference with or without an earlier digest.
    local name="${ref%@*}"
    sed -i -E "s#(^|[ =])${name//./\\.}(@sha256:[0-9a-f]{64})?(\$|[\"' ])#\\1${name}@${digest}\\3#" "$file"
  fi
}

node_image="$(sed -nE 's/^ARG NODE_IMAGE=(.*)$/\1/p' Dockerfile)"
pin Dockerfile "$node_image"
for image in $(sed -nE 's/^    image: ([^ ]+)$/\1/p' docker-compose.yml | grep -v '^iib-ts' | sort -u); do
  pin docker-compose.yml "$image"
done
