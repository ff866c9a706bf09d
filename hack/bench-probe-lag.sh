#!/usr/bin/env bash
# How late do the kubelet's probe events reach a watcher (issue 24)? The margin of the gate's
# liveness hold (internal/watch/hold.go) is derived from these figures.
#
# A Deployment of REPLICAS pods whose liveness probe can never pass (a port nothing listens on;
# initialDelaySeconds DELAY, periodSeconds PERIOD, timeoutSeconds 1, a failure threshold too high
# to kill within the run) runs for SECONDS while a watch of the namespace's events (kubectl, as the
# gate's informer watches) stamps each event with the time it arrived. Then, per Unhealthy event:
#   - delivery lag: arrival minus the event's own time (lastTimestamp, the kubelet's clock when it
#     recorded that occurrence; whole seconds, so each figure is up to 1 s high);
#   - first probe: for each pod, its first Unhealthy event's firstTimestamp minus its container's
#     startedAt, against the bound initialDelaySeconds + periodSeconds + timeoutSeconds (the
#     kubelet's probe ticker starts when it learns of the pod, so the first probe after the delay
#     can come up to a period later, and its result a timeout after that).
#
# Usage: KUBECONFIG=... hack/bench-probe-lag.sh
#   LOAD=1 keeps every core busy (LOAD_PER_CORE, default 2, busy shell loops per core) as the e2e
#   tests' CPU load does.
#   ROUNDS (default 2) new Deployments one after another; REPLICAS (6), RUN_SECONDS (40), DELAY (3),
#   PERIOD (3).
# Prints the figures' min / median / max. Same clock: run it on the cluster's node (the local
# cluster), or on a host synchronised with it.
set -euo pipefail

ROUNDS=${ROUNDS:-2}
REPLICAS=${REPLICAS:-6}
RUN_SECONDS=${RUN_SECONDS:-40}
DELAY=${DELAY:-3}
PERIOD=${PERIOD:-3}
NAME=probe-lag
source "$(dirname "$0")/lib-lag-bench.sh"

# The watch: one line per event as it arrives, "ARRIVAL POD REASON FIRST LAST COUNT".
kubectl get events -n "$ns" --watch-only -o \
  go-template='{{.involvedObject.name}} {{.reason}} {{.firstTimestamp}} {{.lastTimestamp}} {{.count}}{{"\n"}}' |
  while IFS= read -r line; do echo "$EPOCHREALTIME $line"; done >"$tmp/events" &
watcher=$!
sleep 2

for ((round = 1; round <= ROUNDS; round++)); do
  kubectl apply -n "$ns" -f - >/dev/null <<EOF
apiVersion: apps/v1
kind: Deployment
metadata:
  name: lag-$round
spec:
  replicas: $REPLICAS
  selector:
    matchLabels: {app: lag-$round}
  template:
    metadata:
      labels: {app: lag-$round}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
        - name: app
          image: rollout-gate/testapp:e2e
          imagePullPolicy: Never
          livenessProbe:
            httpGet: {path: /health, port: 9999}
            initialDelaySeconds: $DELAY
            periodSeconds: $PERIOD
            timeoutSeconds: 1
            failureThreshold: 1000
EOF
  sleep "$RUN_SECONDS"
  kubectl get pods -n "$ns" -l "app=lag-$round" -o \
    go-template='{{range .items}}{{.metadata.name}} {{range .status.containerStatuses}}{{if .state.running}}{{.state.running.startedAt}}{{end}}{{end}}{{"\n"}}{{end}}' >>"$tmp/pods"
  kubectl delete deployment -n "$ns" "lag-$round" --wait=false >/dev/null
done
sleep 2

# Delivery lag of every Unhealthy occurrence, in ms.
while read -r arrival pod reason first last count; do
  [[ $reason == Unhealthy ]] || continue
  a=${arrival/./}
  echo $(((10#$a / 1000) - $(epoch "$last") * 1000)) >>"$tmp/lag"
done <"$tmp/events"
# Container start to the first failed probe, in ms, less the bound DELAY + PERIOD + 1 s.
bound=$(((DELAY + PERIOD + 1) * 1000))
while read -r pod started; do
  [[ -n $started ]] || continue
  first=$(awk -v p="$pod" '$2 == p && $3 == "Unhealthy" {print $4; exit}' "$tmp/events")
  [[ -n $first ]] || { echo "bench-probe-lag: no Unhealthy event for $pod" >&2; continue; }
  d=$((($(epoch "$first") - $(epoch "$started")) * 1000))
  echo "$d $((d - bound))" >>"$tmp/first"
done <"$tmp/pods"

echo "bench-probe-lag: $ROUNDS rounds of $REPLICAS pods, liveness delay ${DELAY}s period ${PERIOD}s timeout 1s, $mode"
echo "delivery lag, kubelet's event time to the watcher:         $(stats <"$tmp/lag")"
echo "container start to first failed probe:                   $(cut -d' ' -f1 "$tmp/first" | stats)"
echo "  beyond the bound delay + period + timeout ($((bound / 1000)) s):         $(cut -d' ' -f2 "$tmp/first" | stats)"
