#!/usr/bin/env bash
# Builds the test images with buildah (vfs storage, chroot isolation; FROM
# scratch and COPY only, so no emulation is needed for the foreign arch) and
# pushes them to the local registry:
#
#   <reg>/iib-test/binary:v1                 manifest list linux/amd64 + linux/arm64
#                                            (static busybox when Debian's busybox-static
#                                            can be fetched; label io.iib-test=binary)
#   <reg>/iib-test/binary-opm:v1             the same plus /bin/opm, a stand-in for opm serve
#                                            (scripts/lib/opm-stand-in.sh: enforces a serve
#                                            cache bound to the catalog), ENTRYPOINT/CMD as
#                                            IIB's ose-operator-registry images; label
#                                            io.iib-test=binary-opm
#   <reg>/fixtures/<op>-bundle:v<ver>        one per fixture bundle: /manifests, /metadata,
#                                            labels = metadata/annotations.yaml
#   <reg>/iib-test/index:v4.18               manifest list linux/amd64 + linux/arm64,
#                                            FROM the binary image, /configs = the fixture
#                                            catalog (one dir per package)
#
# Idempotent: an image is rebuilt only when its inputs changed or the registry
# no longer serves what was pushed last (state in .stack/test-images.state).
#
#   bash scripts/test-images.sh [--force] [--quiet]
# Environment: IIB_TEST_REGISTRY (default localhost:5000), IIB_FIXTURES_DIR
# (default ../shared/fixtures/olm next to the repository).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STACK="$ROOT/.stack"
REG="${IIB_TEST_REGISTRY:-localhost:5000}"
FIXTURES="${IIB_FIXTURES_DIR:-$ROOT/../shared/fixtures/olm}"
STATE="$STACK/test-images.state"
CACHE="$STACK/cache"
WORK="$STACK/tmp/test-images"
ARCHES=(amd64 arm64)
INDEX_VERSION=v4.18
# Bump when the way an image is built changes, so existing images are rebuilt.
RECIPE=1

export STORAGE_DRIVER=vfs BUILDAH_ISOLATION=chroot
BUILDAH=(buildah --storage-driver vfs)
FORCE=false
QUIET=false
for arg in "$@"; do
  case $arg in
    --force) FORCE=true ;;
    --quiet) QUIET=true ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "usage: bash scripts/test-images.sh [--force] [--quiet]" >&2
      exit 2
      ;;
  esac
done

say() { [[ $QUIET == true ]] || printf '%s\n' "$*"; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

# --- preconditions -----------------------------------------------------------

for tool in buildah skopeo node sha256sum; do
  command -v "$tool" >/dev/null || die "$tool is not installed; run: npm run stack"
done
[[ -d $FIXTURES/bundles && -d $FIXTURES/catalogs ]] ||
  die "fixtures not found at $FIXTURES (set IIB_FIXTURES_DIR to the fixtures/olm directory)"
[[ -d $ROOT/node_modules/yaml ]] || die "node_modules is missing; run: npm ci (or npm run stack)"
curl -fsS -o /dev/null --max-time 5 "http://$REG/v2/" ||
  die "the registry $REG does not answer (http://$REG/v2/); start it with: npm run stack"

mkdir -p "$STACK" "$CACHE" "$WORK"
touch "$STATE"
# Two test runs at once would fight over the same local names and tags.
exec 9>"$STACK/test-images.lock"
flock -w 900 9 || die "another test-images.sh holds .stack/test-images.lock"

# --- helpers -----------------------------------------------------------------

# Hash of a directory: file names and contents, symlink targets (not modes or
# times: the images normalise those).
tree_hash() {
  (
    cd "$1"
    find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum
    find . -type l -printf '%p -> %l\n' | LC_ALL=C sort
  ) | sha256sum | cut -d' ' -f1
}

platforms() {
  local joined="${ARCHES[*]}"
  echo "linux/${joined// /, linux/}"
}

str_hash() { printf '%s' "$*" | sha256sum | cut -d' ' -f1; }

# Digest of the manifest (list) the registry serves for a reference, or "".
remote_digest() {
  local raw
  raw=$(skopeo inspect --raw --tls-verify=false "docker://$1" 2>/dev/null) || return 0
  printf 'sha256:%s' "$(printf '%s' "$raw" | sha256sum | cut -d' ' -f1)"
}

state_get() { awk -F'\t' -v r="$1" '$1 == r { print $2 "\t" $3 }' "$STATE" | tail -n1; }
state_put() {
  local tmp="$STATE.tmp"
  awk -F'\t' -v r="$1" '$1 != r' "$STATE" >"$tmp"
  printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$tmp"
  mv -f "$tmp" "$STATE"
}

# up_to_date <ref> <input hash>: the registry still serves what we pushed from
# these inputs.
up_to_date() {
  [[ $FORCE == false ]] || return 1
  local rec digest
  rec=$(state_get "$1")
  [[ -n $rec && ${rec%%$'\t'*} == "$2" ]] || return 1
  digest=$(remote_digest "$1")
  [[ -n $digest && $digest == "${rec#*$'\t'}" ]]
}

# Copies a fixture tree into a build context with normalised modes and times
# (the fixtures are read-only files; images get 0644 files, 0755 dirs).
stage() {
  local src=$1 dst=$2
  mkdir -p "$dst"
  cp -R --no-preserve=mode,ownership,timestamps "$src/." "$dst/"
  find "$dst" -type d -exec chmod 0755 {} +
  find "$dst" -type f -exec chmod 0644 {} +
}

PUSHED=()
record_push() {
  local ref=$1 hash=$2 what=$3 digest
  digest=$(remote_digest "$ref")
  [[ -n $digest ]] || die "$ref was pushed but the registry does not serve it"
  state_put "$ref" "$hash" "$digest"
  PUSHED+=("$ref")
  printf 'pushed %s (%s) %s\n' "$ref" "$what" "$digest"
}

# A static busybox for an arch, from Debian's busybox-static package, fetched
# with a private apt state so the system's architectures stay untouched.
busybox_for() {
  local arch=$1 dir="$CACHE/busybox/$1"
  if [[ -x $dir/busybox ]]; then
    echo "$dir/busybox"
    return 0
  fi
  local apt="$CACHE/apt-$arch" opts
  rm -rf "$apt"
  mkdir -p "$apt/lists/partial" "$apt/archives/partial" "$apt/dl" "$dir"
  opts=(-q -o "APT::Architecture=$arch" -o "APT::Architectures::=$arch" -o "Dir::State::Lists=$apt/lists"
    -o "Dir::Cache=$apt" -o "Dir::Cache::archives=$apt/archives" -o Dir::State::status=/dev/null
    -o APT::Sandbox::User=root)
  if apt-get "${opts[@]}" update >"$apt/log" 2>&1 &&
    (cd "$apt/dl" && apt-get "${opts[@]}" download "busybox-static:$arch") >>"$apt/log" 2>&1 &&
    dpkg-deb -x "$(find "$apt/dl" -name 'busybox-static_*.deb' | head -n1)" "$apt/root" 2>>"$apt/log" &&
    [[ -x $apt/root/bin/busybox ]]; then
    cp "$apt/root/bin/busybox" "$dir/busybox"
    rm -rf "$apt"
    echo "$dir/busybox"
    return 0
  fi
  warn "could not fetch busybox-static for $arch (see $apt/log); the $arch binary image will hold no busybox"
  return 1
}

# build_multiarch <ref> <context> <containerfile> [buildah build args...]:
# one image per arch into a local manifest list, pushed with --all.
build_multiarch() {
  local ref=$1 ctx=$2 file=$3
  shift 3
  local list arch
  list="localhost/iib-test-images/$(str_hash "$ref" | cut -c1-12)"
  "${BUILDAH[@]}" manifest rm "$list" >/dev/null 2>&1 || "${BUILDAH[@]}" rmi "$list" >/dev/null 2>&1 || true
  "${BUILDAH[@]}" manifest create "$list" >/dev/null
  for arch in "${ARCHES[@]}"; do
    "${BUILDAH[@]}" build --quiet --isolation chroot --format docker --layers=false --identity-label=false \
      --timestamp 0 --pull=always --os linux --arch "$arch" --build-arg "TARGETARCH=$arch" \
      --manifest "$list" -t "$list-$arch" -f "$file" "$@" "$ctx" >/dev/null ||
      die "buildah build of $ref for $arch failed"
  done
  "${BUILDAH[@]}" manifest push --quiet --all --format v2s2 --tls-verify=false "$list" "docker://$ref" >/dev/null ||
    die "pushing $ref failed"
  "${BUILDAH[@]}" manifest rm "$list" >/dev/null 2>&1 || true
  for arch in "${ARCHES[@]}"; do "${BUILDAH[@]}" rmi "$list-$arch" >/dev/null 2>&1 || true; done
}

cleanup_local_images() {
  # Images built here are only a step towards the registry; vfs copies every
  # layer, so do not let them pile up in the shared storage. Only our own
  # names: the services use the same storage.
  "${BUILDAH[@]}" images --format '{{.Name}} {{.ID}}' 2>/dev/null |
    grep '^localhost/iib-test-images/' | cut -d' ' -f2 |
    sort -u | xargs -r "${BUILDAH[@]}" rmi >/dev/null 2>&1 || true
}

# --- images ------------------------------------------------------------------

build_binary() {
  local ref="$REG/iib-test/binary:v1" ctx="$WORK/binary" arch bb inputs=""
  rm -rf "$ctx"
  for arch in "${ARCHES[@]}"; do
    mkdir -p "$ctx/$arch/bin" "$ctx/$arch/etc/iib-test"
    printf '%s\n' "$arch" >"$ctx/$arch/etc/iib-test/arch"
    if bb=$(busybox_for "$arch"); then
      cp "$bb" "$ctx/$arch/bin/busybox"
      chmod 0755 "$ctx/$arch/bin/busybox"
      ln -s busybox "$ctx/$arch/bin/sh"
    fi
    inputs+="$arch:$(tree_hash "$ctx/$arch") "
  done
  local hash
  hash=$(str_hash "recipe=$RECIPE binary $inputs")
  if up_to_date "$ref" "$hash"; then
    say "up to date $ref"
    return
  fi
  cat >"$ctx/Containerfile" <<'EOF'
FROM scratch
ARG TARGETARCH
COPY ${TARGETARCH}/ /
CMD ["/bin/sh"]
EOF
  build_multiarch "$ref" "$ctx" "$ctx/Containerfile" --label io.iib-test=binary
  record_push "$ref" "$hash" "$(platforms)"
}

# The binary image with an opm: busybox-static, a shell and the stand-in
# (scripts/lib/opm-stand-in.sh) as /bin/opm, started the way IIB's
# ose-operator-registry images start. Without busybox the stand-in cannot run,
# so this image is not built at all rather than built broken.
build_binary_opm() {
  local ref="$REG/iib-test/binary-opm:v1" ctx="$WORK/binary-opm" arch bb inputs=""
  rm -rf "$ctx"
  for arch in "${ARCHES[@]}"; do
    bb=$(busybox_for "$arch") || die "busybox-static for $arch is needed for $ref (its /bin/opm is a busybox script)"
    mkdir -p "$ctx/$arch/bin" "$ctx/$arch/etc/iib-test" "$ctx/$arch/tmp"
    chmod 1777 "$ctx/$arch/tmp"
    printf '%s\n' "$arch" >"$ctx/$arch/etc/iib-test/arch"
    cp "$bb" "$ctx/$arch/bin/busybox"
    ln -s busybox "$ctx/$arch/bin/sh"
    cp "$ROOT/scripts/lib/opm-stand-in.sh" "$ctx/$arch/bin/opm"
    chmod 0755 "$ctx/$arch/bin/busybox" "$ctx/$arch/bin/opm"
    inputs+="$arch:$(tree_hash "$ctx/$arch") "
  done
  local hash
  hash=$(str_hash "recipe=$RECIPE binary-opm $inputs")
  if up_to_date "$ref" "$hash"; then
    say "up to date $ref"
    return
  fi
  cat >"$ctx/Containerfile" <<'EOF'
FROM scratch
ARG TARGETARCH
COPY ${TARGETARCH}/ /
ENTRYPOINT ["/bin/opm"]
CMD ["serve", "/configs", "--cache-dir=/tmp/cache"]
EOF
  build_multiarch "$ref" "$ctx" "$ctx/Containerfile" --label io.iib-test=binary-opm
  record_push "$ref" "$hash" "$(platforms)"
}

build_bundle() {
  local dir=$1 op ver ref ctx labels=() label_args=() l hash
  ver=$(basename "$dir")
  op=$(basename "$(dirname "$dir")")
  ref="$REG/fixtures/$op-bundle:v$ver"
  [[ -f $dir/metadata/annotations.yaml && -d $dir/manifests ]] || die "$dir is not a bundle (manifests/, metadata/annotations.yaml)"
  # annotations.yaml is part of the tree, so the labels are in the hash too.
  hash=$(str_hash "recipe=$RECIPE bundle $(tree_hash "$dir")")
  if up_to_date "$ref" "$hash"; then
    say "up to date $ref"
    return
  fi
  local out
  out=$(node "$ROOT/scripts/lib/bundle-labels.js" "$dir/metadata/annotations.yaml") ||
    die "cannot read the labels of $dir/metadata/annotations.yaml"
  mapfile -t labels <<<"$out"
  ctx="$WORK/bundle-$op-$ver"
  rm -rf "$ctx"
  stage "$dir/manifests" "$ctx/manifests"
  stage "$dir/metadata" "$ctx/metadata"
  printf 'FROM scratch\nCOPY manifests /manifests/\nCOPY metadata /metadata/\n' >"$ctx/Containerfile"
  for l in "${labels[@]}"; do label_args+=(--label "$l"); done
  local local_ref="localhost/iib-test-images/bundle-$op:v$ver"
  "${BUILDAH[@]}" build --quiet --isolation chroot --format docker --layers=false --identity-label=false \
    --timestamp 0 -t "$local_ref" -f "$ctx/Containerfile" "${label_args[@]}" "$ctx" >/dev/null ||
    die "buildah build of $ref failed"
  "${BUILDAH[@]}" push --quiet --format v2s2 --tls-verify=false "$local_ref" "docker://$ref" >/dev/null ||
    die "pushing $ref failed"
  "${BUILDAH[@]}" rmi "$local_ref" >/dev/null 2>&1 || true
  rm -rf "$ctx"
  record_push "$ref" "$hash" "linux/amd64"
}

# Extra tags the goldens use for the same content (IMAGES.tsv: "<ver> (same
# content, second tag)", e.g. foo-bundle:v0.3.1-rebuild for --overwrite-latest).
bundle_extra_tags() {
  local tsv="$FIXTURES/golden/opm-v1.26.4/IMAGES.tsv"
  [[ -f $tsv ]] || return 0
  awk -F'\t' '!/^#/ && $2 ~ /second tag/ { split($2, v, " "); n = split($3, r, "/"); print $1 "\t" v[1] "\t" r[n] }' "$tsv"
}

tag_bundle() {
  local op=$1 ver=$2 name_tag=$3 src dst digest
  src="$REG/fixtures/$op-bundle:v$ver"
  dst="$REG/fixtures/$name_tag"
  digest=$(remote_digest "$src")
  [[ -n $digest ]] || die "$src is missing; cannot tag $dst"
  if [[ $FORCE == false && $(remote_digest "$dst") == "$digest" ]]; then
    say "up to date $dst"
    return
  fi
  skopeo copy --quiet --all --preserve-digests --src-tls-verify=false --dest-tls-verify=false \
    "docker://$src" "docker://$dst" >/dev/null || die "skopeo copy $src -> $dst failed"
  PUSHED+=("$dst")
  printf 'pushed %s (same image as %s) %s\n' "$dst" "$src" "$(remote_digest "$dst")"
}

build_index() {
  local ref="$REG/iib-test/index:$INDEX_VERSION" catalog ctx hash binary_digest
  # The fixture catalog is catalogs/<name>/<package>/catalog.yaml; /configs
  # holds the package dirs.
  catalog=$(find "$FIXTURES/catalogs" -mindepth 1 -maxdepth 1 -type d | LC_ALL=C sort | head -n1)
  [[ -n $catalog ]] || die "no catalog directory under $FIXTURES/catalogs"
  binary_digest=$(remote_digest "$REG/iib-test/binary:v1")
  [[ -n $binary_digest ]] || die "$REG/iib-test/binary:v1 is missing"
  hash=$(str_hash "recipe=$RECIPE index $INDEX_VERSION $(tree_hash "$catalog") from=$binary_digest")
  if up_to_date "$ref" "$hash"; then
    say "up to date $ref"
    return
  fi
  ctx="$WORK/index"
  rm -rf "$ctx"
  stage "$catalog" "$ctx/configs"
  cat >"$ctx/Containerfile" <<EOF
FROM $REG/iib-test/binary:v1
COPY configs /configs/
EOF
  build_multiarch "$ref" "$ctx" "$ctx/Containerfile" \
    --label "operators.operatorframework.io.index.configs.v1=/configs" \
    --label "com.redhat.index.delivery.version=$INDEX_VERSION" \
    --label "com.redhat.index.delivery.distribution_scope=prod" \
    --label "io.iib-test=index"
  record_push "$ref" "$hash" "$(platforms); packages: $(find "$catalog" -mindepth 1 -maxdepth 1 -type d -printf '%f ' | xargs)"
}

# --- main --------------------------------------------------------------------

build_binary
build_binary_opm
while IFS= read -r dir; do
  build_bundle "$dir"
done < <(find "$FIXTURES/bundles" -mindepth 2 -maxdepth 2 -type d | LC_ALL=C sort)
while IFS=$'\t' read -r op ver name_tag; do
  tag_bundle "$op" "$ver" "$name_tag"
done < <(bundle_extra_tags)
build_index
((${#PUSHED[@]} == 0)) || cleanup_local_images
rm -rf "$WORK"

if ((${#PUSHED[@]} == 0)); then
  say "test images: all up to date in $REG"
else
  printf 'test images: pushed %d image(s) to %s\n' "${#PUSHED[@]}" "$REG"
fi
