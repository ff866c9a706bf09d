#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager, kube-scheduler and kubelet from k8s.io/kubernetes
# through the Go module proxy, in a throwaway wrapper module outside the project's go.mod.
# Binaries are cached by version; a second run with the binaries present does nothing.
# Usage: hack/build-kube.sh [VERSION]   (prints the bin directory on its last line)
set -euo pipefail

version=${1:-${KUBE_VERSION:-v1.34.4}}
cache=${ROLLOUT_GATE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rollout-gate}
bin="$cache/kube/$version/bin"
cmds=(kube-apiserver kube-controller-manager kube-scheduler kubelet)

have_all() { for c in "${cmds[@]}"; do [ -x "$bin/$c" ] || return 1; done; }
if have_all; then echo "$bin"; exit 0; fi

src="$cache/kube/$version/src"
mkdir -p "$src" "$bin"
cd "$src"
export GOFLAGS=-mod=mod GOTOOLCHAIN=local

if [ ! -f go.sum ] || ! grep -q "^replace k8s.io/api " go.mod 2>/dev/null; then
  echo "build-kube: preparing wrapper module for k8s.io/kubernetes $version" >&2
  cat > go.mod <<MOD
module rollout-gate.local/kubebuild

go 1.24

require k8s.io/kubernetes $version
MOD
  {
    echo '//go:build tools'
    echo 'package tools'
    echo 'import ('
    for c in "${cmds[@]}"; do echo "	_ \"k8s.io/kubernetes/cmd/$c\""; done
    echo ')'
  } > tools.go
  go mod download k8s.io/kubernetes@"$version"
  kmod=$(go env GOMODCACHE)/k8s.io/kubernetes@"$version"/go.mod
  staging_version="v0.${version#v1.}"
  # Every staging module listed in kubernetes's own replace block points at ./staging/...; pin them to
  # their published versions instead.
  awk '/^replace \(/{r=1;next} r&&/^\)/{r=0} r&&/=>/{print $1}' "$kmod" | while read -r m; do
    echo "replace $m => $m $staging_version" >> go.mod
  done
  go mod tidy >&2
fi

ver_pkg=k8s.io/component-base/version
major=${version#v}; major=${major%%.*}
minor=${version#v*.}; minor=${minor%%.*}
ldflags="-s -w -X $ver_pkg.gitVersion=$version -X $ver_pkg.gitMajor=$major -X $ver_pkg.gitMinor=$minor -X $ver_pkg.gitTreeState=clean"
for c in "${cmds[@]}"; do
  [ -x "$bin/$c" ] && continue
  echo "build-kube: building $c $version (a cold build takes minutes)" >&2
  start=$(date +%s)
  CGO_ENABLED=0 go build -trimpath -tags tools -ldflags "$ldflags" -o "$bin/$c.tmp" "k8s.io/kubernetes/cmd/$c"
  mv "$bin/$c.tmp" "$bin/$c"
  echo "build-kube: $c built in $(( $(date +%s) - start ))s" >&2
done
echo "$bin"
