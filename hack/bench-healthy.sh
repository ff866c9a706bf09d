#!/usr/bin/env bash
# Healthy rollouts, the gate against `kubectl rollout status` (issue 24): a Deployment of 2
# replicas of the e2e test app is applied, then both tools start at the same moment and each one's
# time to exit is taken. Three Deployments: no probes; fast probes (readiness every 2 s, liveness
# after 5 s every 5 s); the API's default probes (every 10 s, threshold 3). Each in a fresh
# namespace, RUNS times.
#
# Usage: KUBECONFIG=... hack/bench-healthy.sh [GATE_BINARY]
#   No binary: builds ./cmd/gate as the image does. LOAD=1 keeps every core busy (2 busy shell
#   loops per core) for the whole bench, as the e2e tests' CPU load does. RUNS (default 2);
#   SCENARIOS (default "none fast default"); GATE_ARGS are added to the gate's flags.
# Prints one table row per Deployment: the min–max of each tool's time, and the gate's verdicts.
set -euo pipefail

ROOT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUNS=${RUNS:-2}
SCENARIOS=${SCENARIOS:-none fast default}
: "${KUBECONFIG:?set KUBECONFIG to the kubeconfig of the cluster (make bench-healthy does)}"
export KUBECONFIG
command -v go >/dev/null || PATH=$PATH:/usr/local/go/bin

tmp=$(mktemp -d)
loaders=()
namespaces=()
cleanup() {
  for p in "${loaders[@]}"; do kill "$p" 2>/dev/null || true; done
  for ns in "${namespaces[@]}"; do
    kubectl delete namespace "$ns" --wait=false --ignore-not-found >/dev/null 2>&1 || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT

gate=${1:-}
if [[ -z $gate ]]; then
  (cd "$ROOT_DIR" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$tmp/gate" ./cmd/gate)
  gate=$tmp/gate
fi

if [[ ${LOAD:-0} == 1 ]]; then
  for ((i = 0; i < 2 * $(nproc); i++)); do
    /bin/sh -c 'while :; do :; done' &
    loaders+=($!)
  done
fi

# probes prints the container's probe fields for one scenario.
probes() {
  case $1 in
  none) ;;
  fast)
    cat <<'EOF'
          readinessProbe:
            httpGet: {path: /ready, port: 8080}
            periodSeconds: 2
          livenessProbe:
            httpGet: {path: /health, port: 8080}
            initialDelaySeconds: 5
            periodSeconds: 5
EOF
    ;;
  default)
    cat <<'EOF'
          readinessProbe:
            httpGet: {path: /ready, port: 8080}
          livenessProbe:
            httpGet: {path: /health, port: 8080}
EOF
    ;;
  esac
}

# micros prints $EPOCHREALTIME in microseconds (bash 5: no fork).
micros() { local t=$EPOCHREALTIME; echo $((10#${t/./})); }

# timed runs a command and writes its exit status and time since $1 (microseconds) to $2.
timed() {
  local start=$1 out=$2 rc=0
  shift 2
  "$@" >"$out.log" 2>&1 || rc=$?
  echo "$rc $(($(micros) - start))" >"$out"
}

# one runs scenario $1 once (run $2) and appends "kubectl-ms gate-ms gate-exit" to $tmp/$1.
one() {
  local sc=$1 run=$2 ns start
  ns=rg-bench-healthy-$sc-$run-$$
  namespaces+=("$ns")
  kubectl create namespace "$ns" >/dev/null
  kubectl apply -n "$ns" -f - >/dev/null <<EOF
apiVersion: apps/v1
kind: Deployment
metadata:
  name: bench
spec:
  replicas: 2
  selector:
    matchLabels: {app: bench}
  template:
    metadata:
      labels: {app: bench}
    spec:
      terminationGracePeriodSeconds: 5
      containers:
        - name: app
          image: rollout-gate/testapp:e2e
          imagePullPolicy: Never
          ports: [{name: http, containerPort: 8080}]
$(probes "$sc")
EOF
  start=$(micros)
  # shellcheck disable=SC2086 # GATE_ARGS is a list of flags
  timed "$start" "$tmp/gate.$sc.$run" "$gate" -n "$ns" --workload deployment/bench --timeout 5m -o json ${GATE_ARGS:-} &
  local g=$!
  timed "$start" "$tmp/kubectl.$sc.$run" kubectl rollout status -n "$ns" deployment/bench --timeout 300s &
  local k=$!
  wait "$g" "$k"
  local grc gus krc kus
  read -r grc gus <"$tmp/gate.$sc.$run"
  read -r krc kus <"$tmp/kubectl.$sc.$run"
  if [[ $grc != 0 ]]; then
    echo "bench-healthy: $sc run $run: the gate exited $grc on a healthy rollout; its stderr:" >&2
    tail -n 5 "$tmp/gate.$sc.$run.log" >&2
  fi
  if [[ $krc != 0 ]]; then
    echo "bench-healthy: $sc run $run: kubectl rollout status exited $krc" >&2
  fi
  echo "$kus $gus $grc" >>"$tmp/$sc"
  kubectl delete namespace "$ns" --wait=false >/dev/null 2>&1 || true
}

# The machine may be shared: the load average before and after goes with the figures.
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for ((run = 1; run <= RUNS; run++)); do
  for sc in $SCENARIOS; do
    one "$sc" "$run"
  done
done

label() {
  case $1 in
  none) echo "no probes" ;;
  fast) echo "readiness period 2 s, liveness initialDelay 5 s / period 5 s" ;;
  default) echo "readiness and liveness with the API's defaults (period 10 s, threshold 3)" ;;
  esac
}
# span prints the min–max of column $2 of file $1, microseconds as seconds with one decimal.
span() {
  sort -n -k"$2" "$1" | awk -v c="$2" 'NR==1{lo=$c} {hi=$c} END{printf "%.1f–%.1f s", lo/1e6, hi/1e6}'
}

mode=idle
[[ ${LOAD:-0} == 1 ]] && mode="under CPU load ($((2 * $(nproc))) busy loops on $(nproc) cores)"
echo "bench-healthy: $RUNS runs each, $mode; gate: $gate ${GATE_ARGS:-}"
echo "load average (1, 5, 15 min) before: $load_before; after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| Deployment | kubectl | rollout-gate | gate exits |"
echo "|---|---|---|---|"
for sc in $SCENARIOS; do
  echo "| $(label "$sc") | $(span "$tmp/$sc" 1) | $(span "$tmp/$sc" 2) | $(awk '{printf "%s%s", sep, $3; sep=","}' "$tmp/$sc") |"
done
