#!/usr/bin/env bash
# hack/build-release.sh VERSION OUTDIR [GOOS/GOARCH ...]: the release's gate binaries, as
# release.yml publishes them and setup/install.sh downloads them: one static binary per platform,
# built with -trimpath and the version stamped (gate version), named gate-GOOS-GOARCH (.exe on
# Windows), and checksums.txt with their SHA-256 in `sha256sum` format.
# Without platforms: every platform of PLATFORMS below (internal/contract holds release.yml,
# setup/install.sh and the README to the same list).
set -euo pipefail
cd "$(dirname "$0")/.."

PLATFORMS="linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64"

[ $# -ge 2 ] || { echo "usage: $0 VERSION OUTDIR [GOOS/GOARCH ...]" >&2; exit 2; }
version=${1#v}
out=$2
shift 2
platforms=${*:-$PLATFORMS}
revision=${REVISION:-$(git rev-parse HEAD 2>/dev/null || true)}
pkg=github.com/rollout-gate/rollout-gate/internal/version

mkdir -p "$out"
for p in $platforms; do
  os=${p%/*} arch=${p#*/}
  name="gate-$os-$arch"
  [ "$os" = windows ] && name="$name.exe"
  echo "build $name" >&2
  CGO_ENABLED=0 GOOS=$os GOARCH=$arch go build -trimpath \
    -ldflags "-s -w -X $pkg.version=$version -X $pkg.revision=$revision" \
    -o "$out/$name" ./cmd/gate
done
(cd "$out" && sha256sum gate-* > checksums.txt)
cat "$out/checksums.txt"
