#!/usr/bin/env bash
# hack/tools.sh NAME...: builds the peer, bench and test tools (argo-rollouts, helm, kubedog, kwok, registry) once into the cache
# and prints the path of each binary, one per line. Each tool has its own module under tools/,
# so none of them is a dependency of the gate and their Kubernetes versions never meet ours.
# A second run with the binary present does nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
cache=${ROLLOUT_GATE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rollout-gate}
command -v go >/dev/null 2>&1 || export PATH=$PATH:/usr/local/go/bin

[ $# -gt 0 ] || { echo "usage: hack/tools.sh argo-rollouts|helm|kubedog|kwok|registry ..." >&2; exit 2; }
for name in "$@"; do
  dir=tools/$name
  [ -f "$dir/go.mod" ] || { echo "tools: no module for '$name' (have: $(ls tools | tr '\n' ' '))" >&2; exit 2; }
  pkg=$(awk '$1 == "tool" { print $2; exit }' "$dir/go.mod")
  mod=$(cd "$dir" && go list -f '{{.Module.Path}}@{{.Module.Version}}' "$pkg")
  version=${mod##*@}
  out="$cache/tools/$name-$version/$name"
  if [ ! -x "$out" ]; then
    echo "tools: building $mod into the cache (once; a few minutes)" >&2
    mkdir -p "$(dirname "$out")"
    (cd "$dir" && CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$out.tmp" "$pkg")
    mv "$out.tmp" "$out"
  fi
  echo "$out"
done
