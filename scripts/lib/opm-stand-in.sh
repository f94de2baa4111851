#!/bin/busybox sh
# /bin/opm of the test binary image iib-test/binary-opm (scripts/test-images.sh).
#
# NOT operator-registry's opm: a stand-in, run by the static busybox beside it,
# that keeps the contract of `opm serve` the builder depends on (opm v1.26):
#
#   opm serve DIR --cache-dir=C --cache-only
#       writes a cache bound to DIR: C/cache/ (a marker and a copy of DIR) and
#       C/digest, the sha256 of a listing of DIR and C/cache (every path, its
#       type and permission bits, every file's sha256), then exits 0;
#   opm serve DIR --cache-dir=C [-p PORT]
#       enforces the cache's integrity, as opm does whenever --cache-dir is set
#       without --cache-only: a missing C/digest, or one that does not match
#       DIR and C/cache now, ends it at once with opm's fatal message;
#       otherwise it listens on PORT (default 50051) until killed.
#
# Like opm's digest (a tar of DIR and C/cache with times and owners cleared),
# the listing covers names, modes and contents, not times or owners: a cache
# made for other bytes, another file set or other modes is refused.
BB=/bin/busybox

fatal() {
  echo "time=\"$($BB date -u +%Y-%m-%dT%H:%M:%SZ)\" level=fatal msg=\"$*\"" >&2
  exit 1
}

# Batched (find -exec ... +): a catalog of hundreds of packages must not cost
# a process per file.
listing() {
  (
    cd "$1" || exit 1
    $BB find . -exec $BB stat -c '%A %n' {} + | LC_ALL=C $BB sort
    $BB find . -type f -exec $BB sha256sum {} + | LC_ALL=C $BB sort -k2
  )
}

digest() {
  {
    listing "$1"
    if [ -d "$2/cache" ]; then listing "$2/cache"; fi
  } | $BB sha256sum | $BB cut -d' ' -f1
}

[ "$1" = serve ] || fatal "opm stand-in: only \"serve\" is implemented (got \"$*\")"
shift
dir=
cache=
only=false
port=50051
while [ $# -gt 0 ]; do
  case $1 in
    --cache-dir=*) cache=${1#--cache-dir=} ;;
    --cache-dir)
      shift
      cache=$1
      ;;
    --cache-only) only=true ;;
    -p | --port)
      shift
      port=$1
      ;;
    -p=* | --port=*) port=${1#*=} ;;
    -*) fatal "unknown flag: $1" ;;
    *)
      [ -z "$dir" ] || fatal "accepts 1 arg(s), received 2"
      dir=$1
      ;;
  esac
  shift
done
[ -n "$dir" ] || fatal "accepts 1 arg(s), received 0"
[ -d "$dir" ] || fatal "open $dir: no such file or directory"

if [ "$only" = true ]; then
  [ -n "$cache" ] || exit 0
  # opm writes its cache world-usable (umask 0) with 0750 dirs and 0640 files.
  umask 0
  $BB mkdir -p "$cache" || fatal "mkdir $cache: permission denied"
  $BB rm -rf "$cache/digest" "$cache/cache"
  $BB mkdir -m 0750 "$cache/cache" || fatal "ensure clean base directory: mkdir $cache/cache failed"
  $BB cp -R "$dir" "$cache/cache/configs" || fatal "build cache: copy $dir failed"
  echo "iib-ts opm stand-in cache v1" >"$cache/cache/opm-stand-in"
  $BB find "$cache/cache" -type d -exec $BB chmod 0750 {} +
  $BB find "$cache/cache" -type f -exec $BB chmod 0640 {} +
  d=$(digest "$dir" "$cache") || fatal "compute digest failed"
  printf '%s' "$d" >"$cache/digest" || fatal "write digest to $cache/digest failed"
  $BB chmod 0640 "$cache/digest"
  exit 0
fi

if [ -n "$cache" ]; then
  [ -f "$cache/digest" ] ||
    fatal "read existing cache digest: open $cache/digest: no such file or directory"
  have=$($BB cat "$cache/digest")
  want=$(digest "$dir" "$cache")
  [ "$have" = "$want" ] ||
    fatal "cache requires rebuild: cache reports digest as \\\"$have\\\", but computed digest is \\\"$want\\\""
fi
echo "time=\"$($BB date -u +%Y-%m-%dT%H:%M:%SZ)\" level=info msg=\"serving registry\" configs=$dir port=$port" >&2
# Each connection is answered and closed; -ll keeps listening.
exec $BB nc -ll -p "$port" -e $BB echo "iib-ts opm stand-in"
