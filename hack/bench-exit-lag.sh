#!/usr/bin/env bash
# How long after a container starts does a watcher learn that it exited, for an app that exits at
# once (issue 24)? The margin of the gate's report rule (internal/watch/confirm.go, reportLag) is
# derived from these figures: a healthy verdict waits until the kubelet of each node renewed its
# Lease that long after the newest container start on the node.
#
# A Deployment of REPLICAS pods of the test app that exits with code 1 as soon as it starts runs for
# RUN_SECONDS while a watch of the namespace's pods (kubectl, as the gate's informer watches) stamps
# each update with the time it arrived. Then, per pod, for its first run:
#   - reported: the arrival of the first update that shows the run over (terminated now or as the
#     last state, or a restart counted) minus the run's startedAt (the kubelet's clock, whole
#     seconds, so each figure is up to 1 s high);
#   - ready: whether an update showed the pod Ready with that run running first, the state in which
#     a short soak could end.
#
# Usage: KUBECONFIG=... hack/bench-exit-lag.sh
#   LOAD=1 keeps every core busy (LOAD_PER_CORE, default 2, busy shell loops per core) as the e2e
#   tests' CPU load does. ROUNDS (default 3) new Deployments one after another; REPLICAS (6),
#   RUN_SECONDS (25).
# Prints min / median / max. Same clock: run it on the cluster's node (the local cluster), or on a
# host synchronised with it.
set -euo pipefail

ROUNDS=${ROUNDS:-3}
REPLICAS=${REPLICAS:-6}
RUN_SECONDS=${RUN_SECONDS:-25}
NAME=exit-lag
source "$(dirname "$0")/lib-lag-bench.sh"

# The watch: one line per pod update as it arrives,
# "ARRIVAL POD READY RESTARTS RUNNING-STARTED TERMINATED-STARTED LAST-TERMINATED-STARTED" (- for none).
# Cluster text stays data: it is only compared and counted, never run.
kubectl get pods -n "$ns" --watch-only -o go-template='{{.metadata.name}} {{$r := "-"}}{{range .status.conditions}}{{if eq .type "Ready"}}{{$r = .status}}{{end}}{{end}}{{$r}} {{range .status.containerStatuses}}{{.restartCount}} {{if .state.running}}{{.state.running.startedAt}}{{else}}-{{end}} {{if .state.terminated}}{{.state.terminated.startedAt}}{{else}}-{{end}} {{if .lastState.terminated}}{{.lastState.terminated.startedAt}}{{else}}-{{end}}{{end}}{{"\n"}}' |
  while IFS= read -r line; do echo "$EPOCHREALTIME $line"; done >"$tmp/updates" &
watcher=$!
sleep 2

for ((round = 1; round <= ROUNDS; round++)); do
  kubectl apply -n "$ns" -f - >/dev/null <<EOF
apiVersion: apps/v1
kind: Deployment
metadata:
  name: exit-$round
spec:
  replicas: $REPLICAS
  selector:
    matchLabels: {app: exit-$round}
  template:
    metadata:
      labels: {app: exit-$round}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
        - name: app
          image: rollout-gate/testapp:e2e
          imagePullPolicy: Never
          args: [--print, starting, --exit-code, "1"]
EOF
  sleep "$RUN_SECONDS"
  kubectl delete deployment -n "$ns" "exit-$round" --wait=false >/dev/null
done
sleep 2

# Per pod: the first run's start, whether it was seen Ready and running, when its end was seen.
awk '
  NF < 7 { next }
  { pod = $2; ready = $3; restarts = $4; running = $5; term = $6; last = $7 }
  !(pod in start) && running != "-" { start[pod] = running }
  !(pod in start) && term != "-" { start[pod] = term }
  !(pod in start) && last != "-" { start[pod] = last }
  (pod in start) && !(pod in ended) && ready == "True" && running == start[pod] { readyseen[pod] = 1 }
  (pod in start) && !(pod in ended) && (term == start[pod] || last == start[pod] || restarts > 0) { ended[pod] = $1 }
  END { for (p in start) print p, start[p], (p in ended ? ended[p] : "-"), (p in readyseen ? "ready" : "-") }
' "$tmp/updates" >"$tmp/pods"
: >"$tmp/lag"
ready=0
while read -r pod started ended seen; do
  [[ $ended != - ]] || { echo "bench-exit-lag: the end of $pod's first run was never seen" >&2; continue; }
  a=${ended/./}
  echo $(((10#$a / 1000) - $(epoch "$started") * 1000)) >>"$tmp/lag"
  [[ $seen == ready ]] && ready=$((ready + 1))
done <"$tmp/pods"

echo "bench-exit-lag: $ROUNDS rounds of $REPLICAS pods exiting at once, $mode; load average (1, 5, 15 min) at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "container start to the watcher seeing it exit: $(stats <"$tmp/lag")"
echo "pods seen Ready with the run running before its exit was seen: $ready of $(wc -l <"$tmp/lag")"
