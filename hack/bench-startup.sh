#!/usr/bin/env bash
# Start-up of the gate on the local cluster: from process start to its first progress line (the
# first judgement of a watched workload, so kubeconfig, client, target checks, probes and the
# informers' first list and watch are all behind it) and to its exit, over RUNS runs of
# `gate --workload deployment/bench --soak 0s` on a Deployment that is already healthy.
#
# Usage: KUBECONFIG=... hack/bench-startup.sh [GATE_BINARY ...]
#   No binary: builds ./cmd/gate as the image does (CGO_ENABLED=0, -trimpath, -ldflags "-s -w").
#   Several binaries (e.g. one built from main and one from a branch) run interleaved, so that a
#   busy machine slows them alike. RUNS (default 20) runs each; NS (default rg-bench-startup) is
#   created if missing and deleted at the end unless KEEP=1.
# Prints, per binary: its size, the package initialisation time (GODEBUG=inittrace=1) and the
# min / median / p90 of start → first line and start → exit, in milliseconds.
set -euo pipefail

ROOT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUNS=${RUNS:-20}
NS=${NS:-rg-bench-startup}
: "${KUBECONFIG:?set KUBECONFIG to the kubeconfig of the cluster (make bench-startup does)}"
export KUBECONFIG
command -v go >/dev/null || PATH=$PATH:/usr/local/go/bin

tmp=$(mktemp -d)
cleanup() {
  rm -rf "$tmp"
  if [[ ${KEEP:-0} != 1 ]]; then
    kubectl delete namespace "$NS" --wait=false --ignore-not-found >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

gates=("$@")
if [[ ${#gates[@]} -eq 0 ]]; then
  (cd "$ROOT_DIR" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$tmp/gate" ./cmd/gate)
  gates=("$tmp/gate")
fi

kubectl create namespace "$NS" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
kubectl apply -n "$NS" -f - >/dev/null <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: bench
spec:
  replicas: 1
  selector:
    matchLabels: {app: bench}
  template:
    metadata:
      labels: {app: bench}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
        - name: app
          image: rollout-gate/testapp:e2e
          imagePullPolicy: Never
EOF
kubectl rollout status -n "$NS" deployment/bench --timeout=120s >/dev/null

# micros prints $EPOCHREALTIME in microseconds (bash 5: no fork, unlike date).
micros() { local t=$EPOCHREALTIME; echo $((10#${t/./})); }

# one runs a gate once and appends "first-line-ms exit-ms" to $2.
one() {
  local gate=$1 out=$2 start first="" line end
  start=$(micros)
  while IFS= read -r line; do
    [[ -z $first ]] && first=$(micros)
  done < <("$gate" -n "$NS" --workload deployment/bench --soak 0s --output json 2>&1 >/dev/null)
  end=$(micros)
  if [[ -z $first ]]; then
    echo "bench-startup: $gate printed no progress line" >&2
    exit 1
  fi
  echo "$(((first - start) / 1000)) $(((end - start) / 1000))" >>"$out"
}

for ((i = 0; i < RUNS; i++)); do
  for g in "${!gates[@]}"; do
    one "${gates[$g]}" "$tmp/times.$g"
  done
done

# stats prints min, median and p90 of one column of numbers.
stats() {
  sort -n | awk '{v[NR] = $1} END {
    p90 = int(NR * 0.9 + 0.999); if (p90 > NR) p90 = NR
    printf "min %5.1f  median %5.1f  p90 %5.1f", v[1], v[int((NR + 1) / 2)], v[p90] }'
}

context=$(kubectl config current-context)
load=$(cut -d' ' -f1-3 /proc/loadavg)
echo "start-up on $context: $RUNS runs each, in ms; load average $load"
for g in "${!gates[@]}"; do
  gate=${gates[$g]}
  init=$(for _ in 1 2 3 4 5; do GODEBUG=inittrace=1 "$gate" --help 2>&1 >/dev/null | awk '/^init / {t += $5} END {print t}' || true; done | stats)
  printf '%s (%s bytes)\n' "$gate" "$(stat -c %s "$gate")"
  printf '  package init     %s\n' "$init"
  printf '  start→first line %s\n' "$(cut -d' ' -f1 "$tmp/times.$g" | stats)"
  printf '  start→exit       %s\n' "$(cut -d' ' -f2 "$tmp/times.$g" | stats)"
done
