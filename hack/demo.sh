#!/usr/bin/env bash
# make demo: the gate catching a bad deploy on a real local cluster, and rolling it back.
#
#   1. brings up the local cluster (make cluster-up; its last line is the kubeconfig),
#   2. builds the gate into bin/gate,
#   3. deploys the sample service shop-api v1 (healthy) and waits for it with the gate itself,
#   4. applies a broken v2, chosen by SCENARIO (default bad-env),
#   5. runs the gate with --rollback on the v2 manifest, printing the terminal report and writing
#      report.json and report.md (DEMO_OUT, default the repository root),
#   6. checks that the gate did what it should: exit 1, a rollback, and v1's template live again.
#
# Exits 0 when the gate behaved as expected, 1 when it did not.
# Usage: SCENARIO=bad-env|missing-secret|oom|liveness|dependency|init|image hack/demo.sh
set -Eeuo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
SCENARIO=${SCENARIO:-bad-env}
OUT=${DEMO_OUT:-$ROOT}
NS=rollout-gate-demo
DEMO=e2e/demo
CACHE=${ROLLOUT_GATE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rollout-gate}
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
  PATH=$PATH:/usr/local/go/bin
fi

say() { printf '\n\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { echo "demo: ERROR: $*" >&2; exit 1; }

case $SCENARIO in
  bad-env | missing-secret | oom | liveness | dependency | init | image) ;;
  *) die "SCENARIO=$SCENARIO: use one of bad-env, missing-secret, oom, liveness, dependency, init, image" ;;
esac
v2=$DEMO/v2-$SCENARIO.yaml

# kubectl applies the manifests. Without one on PATH, build it once from k8s.io/kubectl at the
# version in go.mod, in a throwaway module in the cache (kubectl's own main is two lines).
find_kubectl() {
  if command -v kubectl >/dev/null 2>&1; then
    command -v kubectl
    return
  fi
  local bin=$CACHE/bin/kubectl src=$CACHE/kubectl-src version
  if [ ! -x "$bin" ]; then
    version=$(go list -m -f '{{.Version}}' k8s.io/kubectl)
    say "no kubectl on PATH: building k8s.io/kubectl $version into $bin (first run only)"
    mkdir -p "$src" "$CACHE/bin"
    printf 'module rollout-gate.local/kubectl\n\ngo 1.26\n\nrequire k8s.io/kubectl %s\n' "$version" > "$src/go.mod"
    cat > "$src/main.go" <<'EOF'
package main

import (
	"os"

	"k8s.io/component-base/cli"
	"k8s.io/kubectl/pkg/cmd"
)

func main() { os.Exit(cli.Run(cmd.NewDefaultKubectlCommand())) }
EOF
    (cd "$src" && GOFLAGS=-mod=mod go mod tidy >&2 && CGO_ENABLED=0 go build -trimpath -o "$bin.tmp" . && mv "$bin.tmp" "$bin")
  fi
  echo "$bin"
}

say "bringing up the local cluster (make cluster-up)"
kubeconfig=$(make -s --no-print-directory cluster-up | tail -n1)
[ -f "$kubeconfig" ] || die "make cluster-up did not end with the path of a kubeconfig (got: $kubeconfig)"
export KUBECONFIG=$kubeconfig
echo "kubeconfig: $KUBECONFIG" >&2

say "building the gate (bin/gate)"
mkdir -p bin
go build -o bin/gate ./cmd/gate
kubectl=$(find_kubectl)

say "deploying shop-api v1 (healthy) and waiting for it with the gate"
"$kubectl" apply -f "$DEMO/namespace.yaml" >&2
"$kubectl" apply -f "$DEMO/v1.yaml" >&2
if ! bin/gate -f "$DEMO/v1.yaml" --timeout 3m >/dev/null; then
  die "shop-api v1 did not become healthy; see the report above, or: $kubectl -n $NS get pods"
fi

say "deploying $(sed -n '1s/^# //p' "$v2")"
"$kubectl" apply -f "$v2" >&2

mkdir -p "$OUT"
say "running: bin/gate --rollback -f $v2 --report-json $OUT/report.json --report-markdown $OUT/report.md"
set +e
bin/gate --rollback -f "$v2" --timeout 3m --report-json "$OUT/report.json" --report-markdown "$OUT/report.md"
code=$?
set -e

say "checking the gate's work"
ok=true
if [ "$code" = 1 ]; then
  echo "ok: the gate exited 1 (rollout failed)" >&2
else
  echo "NOT OK: the gate exited $code, want 1 (rollout failed)" >&2
  ok=false
fi
if grep -Eq '"rolledBack": *true' "$OUT/report.json" 2>/dev/null; then
  echo "ok: the report says the rollout was rolled back" >&2
else
  echo "NOT OK: the report does not say rolledBack: true" >&2
  ok=false
fi
live=$("$kubectl" -n "$NS" get deployment shop-api -o 'jsonpath={.spec.template.metadata.labels.version}' 2>&1) ||
  live="unreadable ($live)"
if [ "$live" = v1 ]; then
  echo "ok: shop-api's live pod template is v1 again" >&2
else
  echo "NOT OK: shop-api's live pod template is $live, want v1" >&2
  ok=false
fi

echo >&2
echo "reports: $OUT/report.md (the job summary and PR comment), $OUT/report.json (schema v1)" >&2
echo "try another fault: make demo SCENARIO=missing-secret|oom|liveness|dependency|init|image" >&2
echo "clean up: make cluster-down" >&2
$ok || die "the gate did not behave as expected (see above)"
