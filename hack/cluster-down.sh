#!/usr/bin/env bash
# Tears down what hack/cluster-up.sh started, leaving the machine ready for another cluster-up:
# daemons stopped by PID (TERM, then KILL), containers killed and deleted, mounts and network
# namespace pins unmounted, bridges deleted, iptables rules and chains of the cluster and of
# kubelet removed, CNI IPAM state cleared, sysctls restored. Safe to run any number of times.
# Certificates and imported images are kept (under $STATE) so the next cluster-up is fast.
set -uo pipefail
# shellcheck source=hack/cluster-lib.sh
source "$(dirname "$0")/cluster-lib.sh"

if docker_works; then
  mkdir -p "$CACHE/kind"
  (cd "$ROOT_DIR" && go build -o "$CACHE/kind/kindcluster" ./e2e/cmd/kindcluster) &&
    "$CACHE/kind/kindcluster" down -name rollout-gate -kubeconfig "$CACHE/kind/kubeconfig"
  exit
fi

require_root
take_lock
t0=$(date +%s.%N)

# 1. kubelet first, so it stops restarting containers, then the control plane, then etcd.
stop_pids 10 kubelet
trace "kubelet stopped"
# The apiserver shuts down gracefully only while etcd is still there.
stop_pids 3 kube-scheduler kube-controller-manager kube-apiserver
stop_pids 10 etcd
stop_pids 3 registry

trace "2. Containers"
# 2. Containers: kill and delete every task and container, so the shims exit.
if pid_of containerd >/dev/null; then
  for ns in $(ctr --address "$CONTAINERD_SOCK" namespaces ls -q 2>/dev/null); do
    ids=$(ctr --address "$CONTAINERD_SOCK" -n "$ns" containers ls -q 2>/dev/null)
    [ -n "$ids" ] || continue
    # shellcheck disable=SC2086 # one ID per word
    ctr --address "$CONTAINERD_SOCK" -n "$ns" tasks delete -f $ids >/dev/null 2>&1
    # shellcheck disable=SC2086
    ctr --address "$CONTAINERD_SOCK" -n "$ns" containers delete $ids >/dev/null 2>&1
  done
fi
stop_pids 10 containerd

trace "3. Anything left"
# 3. Anything left: shims of this containerd and processes in kubelet's pod cgroups.
leftovers() {
  local p comm args
  for p in /proc/[0-9]*; do
    { read -r comm < "$p/comm" && mapfile -t -d '' args < "$p/cmdline"; } 2>/dev/null || continue
    [[ $comm == containerd-shim* && " ${args[*]} " == *" -address $CONTAINERD_SOCK "* ]] && echo "${p#/proc/}"
  done
  cat /sys/fs/cgroup/kubepods/cgroup.procs /sys/fs/cgroup/kubepods/*/cgroup.procs \
    /sys/fs/cgroup/*/kubepods{,/*,/*/*,/*/*/*}/cgroup.procs 2>/dev/null
}
for _ in 1 2 3 4 5; do
  left=$(leftovers | sort -u)
  [ -n "$left" ] || break
  # shellcheck disable=SC2086
  kill -KILL $left 2>/dev/null
  sleep 0.2
done

trace "4. Mounts"
# 4. Mounts under the cluster's folders (container rootfs, shm, netns pins, pod volumes), deepest first.
unmount_all() {
  local m
  awk -v run="$RUN" -v state="$STATE" '
    index($5, run "/") == 1 || index($5, state "/") == 1 || $5 == run { print length($5), $5 }' /proc/self/mountinfo |
    sort -rn | cut -d' ' -f2- | while read -r m; do
      umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || echo "cluster: could not unmount $m" >&2
    done
}
unmount_all

trace "5. Network"
# 5. Network devices (pod veths go with their network namespaces).
for dev in "$CNI_DEV" "$NODE_DEV"; do
  ip link show "$dev" >/dev/null 2>&1 && ip link del "$dev"
done

trace "6. iptables"
# 6. iptables: the cluster's FORWARD rule, kubelet's chains (KUBE-FIREWALL, KUBE-KUBELET-CANARY,
# KUBE-IPTABLES-HINT) and any CNI- chains, with the rules that jump to them; IPv4 and IPv6.
clean_iptables() {
  local ipt=$1 script
  command -v "$ipt-save" >/dev/null || return 0
  script=$(mktemp)
  # From the saved rules, write one restore script that deletes the rules first, then the chains.
  "$ipt-save" 2>/dev/null | awk -v comment="$RULE_COMMENT" '
    function ours(c) { return c ~ /^CNI-/ || c ~ /^KUBE-(FIREWALL|KUBELET-CANARY|IPTABLES-HINT|MARK-DROP|MARK-MASQ|POSTROUTING)$/ }
    /^\*/ { table = substr($0, 2); tables[++nt] = table; next }
    /^:/ { c = substr($1, 2); if (ours(c)) chains[table] = chains[table] " " c; next }
    /^-A / {
      jump = ""
      for (i = 1; i < NF; i++) if ($i == "-j" || $i == "-g") jump = $(i + 1)
      if (!ours($2) && (ours(jump) || index($0, "--comment " comment) > 0)) dels[table] = dels[table] "-D " substr($0, 4) "\n"
    }
    END {
      for (t = 1; t <= nt; t++) {
        tb = tables[t]
        if (dels[tb] == "" && chains[tb] == "") continue
        printf "*%s\n%s", tb, dels[tb]
        n = split(chains[tb], cs, " ")
        for (i = 1; i <= n; i++) printf "-F %s\n", cs[i]
        for (i = 1; i <= n; i++) printf "-X %s\n", cs[i]
        print "COMMIT"
      }
    }' > "$script"
  if [ -s "$script" ] && ! "$ipt-restore" --noflush < "$script"; then
    echo "cluster: could not remove $ipt rules; tried:" >&2
    cat "$script" >&2
  fi
  rm -f "$script"
}
clean_iptables iptables
clean_iptables ip6tables
command -v conntrack >/dev/null && conntrack -D -s "$POD_CIDR" >/dev/null 2>&1

trace "7. State"
# 7. State of the running cluster: pids, etcd data, containerd state, CNI config and IPAM, kubelet.
if [ -e "$RUN" ] || [ -e "$STATE/kubelet" ]; then
  unmount_all
  rm -rf --one-file-system "$RUN" "$STATE/kubelet" "$STATE/pod-logs" \
    "$KUBECONFIG_OUT" "$STATE/kubelet-config.yaml"
fi

trace "8. kubelet"
# 8. kubelet's pod cgroups (empty now).
for dir in /sys/fs/cgroup/kubepods /sys/fs/cgroup/*/kubepods; do
  [ -d "$dir" ] && find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null
done

trace "9. Sysctls"
# 9. Sysctls as they were before the first cluster-up.
if [ -s "$STATE/sysctl.saved" ]; then
  while read -r s v; do sysctl -qw "$s=$v" || echo "cluster: could not restore $s=$v" >&2; done < "$STATE/sysctl.saved"
  rm -f "$STATE/sysctl.saved"
fi

trace "Check that"
# Check that nothing is left.
problems=()
for d in "${DAEMONS[@]}" registry; do pid_of "$d" >/dev/null && problems+=("$d still running"); done
[ -n "$(leftovers)" ] && problems+=("container processes still running: $(leftovers | tr '\n' ' ')")
grep -q -e " $RUN/" -e " $STATE/" /proc/self/mountinfo && problems+=("mounts left under $RUN or $STATE")
for dev in "$CNI_DEV" "$NODE_DEV"; do ip link show "$dev" >/dev/null 2>&1 && problems+=("device $dev still exists"); done
if [ ${#problems[@]} -gt 0 ]; then
  printf 'cluster: teardown left: %s\n' "${problems[@]}" >&2
  exit 1
fi
log "cluster down in $(elapsed)"
