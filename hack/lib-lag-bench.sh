# Sourced by the lag benches (hack/bench-probe-lag.sh, hack/bench-exit-lag.sh): one namespace of
# their own, the optional CPU load (LOAD=1: LOAD_PER_CORE busy loops per core, as the e2e tests' CPU
# load does), and clean-up on exit. A bench sets NAME first, and sets watcher to its watch's pid.
: "${KUBECONFIG:?set KUBECONFIG to the kubeconfig of the cluster}"
export KUBECONFIG

tmp=$(mktemp -d)
ns=rg-bench-$NAME-$$
loaders=()
watcher=""
cleanup() {
  [[ -n $watcher ]] && kill "$watcher" 2>/dev/null || true
  for p in "${loaders[@]}"; do kill "$p" 2>/dev/null || true; done
  kubectl delete namespace "$ns" --wait=false --ignore-not-found >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT

kubectl create namespace "$ns" >/dev/null
mode=idle
if [[ ${LOAD:-0} == 1 ]]; then
  for ((i = 0; i < ${LOAD_PER_CORE:-2} * $(nproc); i++)); do
    /bin/sh -c 'while :; do :; done' &
    loaders+=($!)
  done
  mode="under CPU load ($((${LOAD_PER_CORE:-2} * $(nproc))) busy loops on $(nproc) cores)"
fi

# epoch is a kubelet timestamp (RFC 3339) in seconds; stats prints min / median / max of
# millisecond figures, one a line.
epoch() { date -d "$1" +%s; }
stats() { sort -n | awk '{v[NR]=$1} END{if (NR==0) {print "no data"; exit}; printf "min %.1f s, median %.1f s, max %.1f s (%d)\n", v[1]/1000, v[int((NR+1)/2)]/1000, v[NR]/1000, NR}'; }
