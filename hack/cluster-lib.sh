# shellcheck shell=bash
# Shared settings and helpers of hack/cluster-up.sh and hack/cluster-down.sh (sourced, not run).
# The local cluster is one node of real Kubernetes daemons started from these scripts (no systemd):
# etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, over Debian's containerd,
# runc and CNI plugins. Every path and name below can be overridden from the environment.

ROOT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${ROLLOUT_GATE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rollout-gate}
# The default version (make test); make test-versions runs the others of KUBE_VERSIONS too.
DEFAULT_KUBE_VERSION=v1.34.4
KUBE_VERSION=${KUBE_VERSION:-$DEFAULT_KUBE_VERSION}
# The e2e tests share the cluster under this lock (shared); a version swap takes it exclusive,
# so no test runs while the cluster changes under it.
E2E_LOCK=${ROLLOUT_GATE_E2E_LOCK:-/tmp/rollout-gate-e2e.lock}
# STATE survives cluster-down (certificates, imported images); RUN (tmpfs) is the running cluster.
STATE=${ROLLOUT_GATE_STATE:-/var/lib/rollout-gate-cluster}
RUN=${ROLLOUT_GATE_RUN:-/run/rollout-gate-cluster}
KUBECONFIG_OUT=$STATE/admin.kubeconfig

NODE_NAME=${ROLLOUT_GATE_NODE_NAME:-rollout-gate}
# kubelet refuses a loopback node IP and these kernels have no dummy driver: a bridge without
# ports carries the node IP.
NODE_DEV=rg-node0
NODE_IP=${ROLLOUT_GATE_NODE_IP:-10.200.0.1}
CNI_DEV=rg-cni0
POD_CIDR=${ROLLOUT_GATE_POD_CIDR:-10.244.0.0/24}
POD_GATEWAY=${ROLLOUT_GATE_POD_GATEWAY:-10.244.0.1}
SERVICE_CIDR=10.96.0.0/16
SERVICE_IP=10.96.0.1
DNS_IP=10.96.0.10
API_PORT=${ROLLOUT_GATE_API_PORT:-6443}
# Not 2379: a packaged etcd.service may already hold it on machines with systemd.
ETCD_PORT=${ROLLOUT_GATE_ETCD_PORT:-12379}
ETCD_PEER_PORT=$((ETCD_PORT + 1))
CONTAINERD_SOCK=$RUN/containerd/containerd.sock
# A local OCI registry (in memory, plain HTTP on loopback) the node pulls from.
REGISTRY_PORT=${ROLLOUT_GATE_REGISTRY_PORT:-15000}
REGISTRY_HOST=127.0.0.1:$REGISTRY_PORT
PAUSE_IMAGE=docker.io/rollout-gate/pause:e2e
RULE_COMMENT=rollout-gate-cluster
# Sysctls kubelet rewrites at start-up (setupKernelTunables) and the one the bridge plugin turns on.
SYSCTLS=(vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops
  kernel.keys.root_maxkeys kernel.keys.root_maxbytes net.ipv4.ip_forward)
# Daemons in start order; cluster-down stops them in reverse. The registry is started with them but
# is not part of health: a cluster brought up before it existed stays up, and gets one.
DAEMONS=(containerd etcd kube-apiserver kube-controller-manager kube-scheduler kubelet)

if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
  PATH=$PATH:/usr/local/go/bin
fi

log() { echo "cluster: $*" >&2; }
# elapsed prints the time since the script started (t0 is set by the scripts).
elapsed() { awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1fs", b-a}'; }
# trace logs a step with its time when CLUSTER_TRACE is set, to see where the seconds go.
trace() { if [ -n "${CLUSTER_TRACE:-}" ]; then log "[$(elapsed)] $*"; fi; }
die() { echo "cluster: ERROR: $*" >&2; exit 1; }

require_root() {
  [ "$(id -u)" = 0 ] || die "the local cluster starts kubelet and containerd and changes iptables: run as root (sudo make ...)"
}

# take_lock serialises cluster-up and cluster-down runs on this machine (several people and CI
# share the cluster): a second cluster-up waits, then finds the cluster healthy. Children inherit
# the lock through fd 9; daemons are started with fd 9 closed so they never hold it.
take_lock() {
  [ -n "${ROLLOUT_GATE_LOCK_HELD:-}" ] && return 0
  exec 9> "$RUN.lock"
  if ! flock -n 9; then
    log "waiting for another cluster-up or cluster-down to finish"
    flock 9
  fi
  export ROLLOUT_GATE_LOCK_HELD=1
}

# docker_works says whether to use the kind path. ROLLOUT_GATE_CLUSTER=local or kind forces one.
docker_works() {
  case ${ROLLOUT_GATE_CLUSTER:-auto} in
    local) return 1 ;;
    kind) return 0 ;;
  esac
  command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1
}

# pid_of NAME prints the PID recorded for a daemon if that process is still the same program.
pid_of() {
  local f=$RUN/pids/$1.pid pid exe
  [ -f "$f" ] || return 1
  read -r pid exe < "$f" || return 1
  [ -r "/proc/$pid/cmdline" ] || return 1
  [ "$(tr '\0' '\n' < "/proc/$pid/cmdline" | head -n1)" = "$exe" ] || return 1
  echo "$pid"
}

# start NAME BINARY ARGS...: runs a daemon in its own session with its log under $STATE/logs and
# records "PID BINARY" so that cluster-down only ever signals that same program.
start() {
  local name=$1 exe=$2; shift 2
  setsid "$exe" "$@" > "$STATE/logs/$name.log" 2>&1 < /dev/null 9>&- 8>&- &
  local pid=$!
  echo "$pid $exe" > "$RUN/pids/$name.pid"
  # Wait for the exec, so that pid_of recognises the daemon from the start.
  for _ in $(seq 50); do
    pid_of "$name" >/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.02
  done
  pid_of "$name" >/dev/null || die "$name did not start; see $STATE/logs/$name.log:
$(tail -n 20 "$STATE/logs/$name.log")"
}

# stop_pids GRACE NAME... sends TERM to the named daemons, waits up to GRACE seconds, then KILLs.
stop_pids() {
  local grace=$1; shift
  local name pid pids=()
  for name in "$@"; do
    if pid=$(pid_of "$name"); then
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid")
    fi
    rm -f "$RUN/pids/$name.pid"
  done
  [ ${#pids[@]} -gt 0 ] || return 0
  local deadline=$((SECONDS + grace)) alive
  while :; do
    alive=()
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive+=("$pid"); done
    [ ${#alive[@]} -eq 0 ] && return 0
    [ $SECONDS -ge $deadline ] && break
    sleep 0.1
  done
  log "killing PIDs ${alive[*]} (still running ${grace}s after SIGTERM)"
  kill -KILL "${alive[@]}" 2>/dev/null || true
}

ctr_k8s() { ctr --address "$CONTAINERD_SOCK" --namespace k8s.io "$@"; }

curl_api() {
  curl -sf -A rollout-gate-cluster --max-time 3 --cacert "$STATE/pki/ca.crt" --cert "$STATE/pki/admin.crt" --key "$STATE/pki/admin.key" \
    "https://127.0.0.1:$API_PORT$1"
}

# kube_minor prints the minor number of a version: v1.37.2 -> 37.
kube_minor() { local m=${1#v*.}; echo "${m%%.*}"; }

# running_version prints the gitVersion the running API server reports (empty when none answers).
running_version() {
  curl_api /version 2>/dev/null | sed -n 's/.*"gitVersion": *"\([^"]*\)".*/\1/p'
}

node_ready() {
  # The apiserver marshals NodeCondition fields in struct order, so this is the Ready condition.
  curl_api "/api/v1/nodes/$NODE_NAME" 2>/dev/null | grep -q '"type":"Ready","status":"True"'
}
