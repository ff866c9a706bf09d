#!/usr/bin/env bash
# Brings up the e2e cluster and prints the absolute path of its admin kubeconfig as the last line
# of output (progress goes to stderr). Idempotent: a healthy cluster is left running (the test app
# image is re-imported if it changed). With a working Docker engine it creates a kind cluster
# instead (e2e/cmd/kindcluster); otherwise it starts one local node from Kubernetes binaries built
# by hack/build-kube.sh. Undo with hack/cluster-down.sh.
set -Eeuo pipefail
# shellcheck source=hack/cluster-lib.sh
source "$(dirname "$0")/cluster-lib.sh"

t0=$(date +%s.%N)

# ---------------------------------------------------------------------------------------------
# kind path
if docker_works; then
  images=$("$ROOT_DIR/hack/images.sh" | tail -n1)
  mkdir -p "$CACHE/kind"
  cd "$ROOT_DIR"
  go build -o "$CACHE/kind/kindcluster" ./e2e/cmd/kindcluster
  "$CACHE/kind/kindcluster" up -name rollout-gate -kubeconfig "$CACHE/kind/kubeconfig" \
    ${KIND_NODE_IMAGE:+-image "$KIND_NODE_IMAGE"} -load "$images/testapp.tar" | tail -n1
  exit 0
fi

# ---------------------------------------------------------------------------------------------
# local path
require_root
take_lock

ensure_packages() {
  local need=()
  command -v containerd >/dev/null || need+=(containerd)
  command -v runc >/dev/null || need+=(runc)
  for p in bridge host-local loopback; do
    [ -x /usr/lib/cni/$p ] || { need+=(containernetworking-plugins); break; }
  done
  command -v iptables >/dev/null || need+=(iptables)
  command -v conntrack >/dev/null || need+=(conntrack)
  command -v etcd >/dev/null || need+=(etcd-server)
  command -v ip >/dev/null || need+=(iproute2)
  command -v openssl >/dev/null || need+=(openssl)
  command -v curl >/dev/null || need+=(curl ca-certificates)
  [ ${#need[@]} -eq 0 ] && return 0
  log "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
}

healthy() {
  [ -f "$RUN/up" ] || return 1
  local d
  for d in "${DAEMONS[@]}"; do pid_of "$d" >/dev/null || return 1; done
  curl_api /readyz >/dev/null 2>&1 && node_ready
}

# import_image NAME imports $images/NAME.tar unless containerd already has that exact image.
import_image() {
  local name=$1 ref=docker.io/rollout-gate/$1:e2e id stamp=$STATE/images/$1.imported
  id=$(cat "$images/$name.id")
  if [ "$(cat "$stamp" 2>/dev/null)" = "$id" ] && [ -n "$(ctr_k8s images ls -q "name==$ref")" ]; then
    return 0
  fi
  log "importing $ref ($id)"
  ctr_k8s images import "$images/$name.tar" >/dev/null
  mkdir -p "$STATE/images"
  echo "$id" > "$stamp"
}

# Another version running: swap it for this one. The swap waits for the e2e tests running on the
# cluster to end (they hold E2E_LOCK shared) and keeps new ones out until this version is up.
if healthy && running=$(running_version) && [ -n "$running" ] && [ "$running" != "$KUBE_VERSION" ]; then
  bin=$("$ROOT_DIR/hack/build-kube.sh" "$KUBE_VERSION" | tail -n1) # the build outside the lock
  if [ -z "${ROLLOUT_GATE_E2E_LOCK_HELD:-}" ]; then
    log "Kubernetes $running is running; swapping it for $KUBE_VERSION once the e2e tests holding $E2E_LOCK end"
    # The e2e lock first, then this script's own again (the order make test-versions takes them).
    flock -u 9
    exec 8> "$E2E_LOCK"
    flock -x 8
    flock 9
    running=$(running_version)
  fi
  if [ -n "$running" ] && [ "$running" != "$KUBE_VERSION" ]; then
    log "swapping Kubernetes $running for $KUBE_VERSION"
    "$ROOT_DIR/hack/cluster-down.sh" >&2
  fi
fi

# ensure_registry starts the local image registry if it is not running (e2e pulls of images that
# do not exist: "manifest unknown" from a registry that answers).
ensure_registry() {
  pid_of registry >/dev/null && return 0
  local reg
  reg=$("$ROOT_DIR/hack/tools.sh" registry | tail -n1)
  mkdir -p "$STATE/logs" "$RUN/pids"
  start registry "$reg" -port "$REGISTRY_PORT"
}

if healthy; then
  images=$("$ROOT_DIR/hack/images.sh" | tail -n1)
  import_image testapp
  ensure_registry
  log "already up and healthy"
  echo "$KUBECONFIG_OUT"
  exit 0
fi

if [ -e "$RUN" ] || [ -e "$STATE/kubelet" ]; then
  log "found a stopped or partial cluster; tearing it down first"
  "$ROOT_DIR/hack/cluster-down.sh" >&2
fi

ensure_packages
bin=$("$ROOT_DIR/hack/build-kube.sh" "$KUBE_VERSION" | tail -n1)
images=$("$ROOT_DIR/hack/images.sh" | tail -n1)
trace "binaries and images ready"

mkdir -p "$STATE"/{pki,kubeconfigs,logs,images,kubelet,pod-logs,containerd} "$RUN"/{pids,cni/net.d,cni/ipam,containerd}
chmod 700 "$STATE/pki"

dump_logs() {
  local f
  for f in "$STATE"/logs/*.log; do
    [ -s "$f" ] || continue
    echo "--- $f" >&2
    tail -n 15 "$f" >&2
  done
  echo "cluster: clean up with: make cluster-down" >&2
}
trap 'echo "cluster: ERROR: cluster-up failed at line $LINENO; last lines of the daemon logs:" >&2; dump_logs' ERR

# --- certificates (kept across cluster-down; ECDSA keys are fast to make) ----------------------
pki=$STATE/pki
pki_params="$NODE_NAME $NODE_IP $SERVICE_IP v1"
newkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
# sign NAME SUBJECT EXTENSIONS: a key and a certificate signed by the cluster CA.
sign() {
  local name=$1 subj=$2 ext=$3
  newkey "$pki/$name.key"
  openssl req -new -key "$pki/$name.key" -subj "$subj" -out "$pki/$name.csr" 2>/dev/null
  printf '[ext]\n%s\n' "$ext" > "$pki/$name.ext"
  openssl x509 -req -in "$pki/$name.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -set_serial "0x$(openssl rand -hex 16)" \
    -days 3650 -extfile "$pki/$name.ext" -extensions ext -out "$pki/$name.crt" 2>/dev/null
  rm -f "$pki/$name.csr" "$pki/$name.ext"
}
if [ "$(cat "$pki/params" 2>/dev/null)" != "$pki_params" ] || [ ! -s "$pki/sa.pub" ]; then
  log "creating certificates"
  rm -f "$pki"/*
  newkey "$pki/ca.key"
  printf '[req]\ndistinguished_name=dn\nprompt=no\n[dn]\nCN=rollout-gate-ca\n[ext]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature\nsubjectKeyIdentifier=hash\n' > "$pki/ca.cnf"
  openssl req -x509 -new -key "$pki/ca.key" -config "$pki/ca.cnf" -extensions ext -days 3650 -out "$pki/ca.crt" 2>/dev/null
  client='basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth'
  sign apiserver /CN=kube-apiserver "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,IP:$SERVICE_IP,IP:$NODE_IP,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
  sign apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" "$client"
  sign admin "/O=system:masters/CN=kubernetes-admin" "$client"
  sign controller-manager /CN=system:kube-controller-manager "$client"
  sign scheduler /CN=system:kube-scheduler "$client"
  sign kubelet "/O=system:nodes/CN=system:node:$NODE_NAME" "$client"
  newkey "$pki/sa.key"
  openssl pkey -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
  echo "$pki_params" > "$pki/params"
  chmod 600 "$pki"/*.key
fi

# kubeconfig FILE USER: a kubeconfig with embedded credentials, so it can be copied elsewhere.
kubeconfig() {
  local file=$1 user=$2 tmp
  tmp=$(mktemp "$file.XXXX")
  cat > "$tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: rollout-gate
  cluster:
    server: https://127.0.0.1:$API_PORT
    certificate-authority-data: $(base64 -w0 < "$pki/ca.crt")
users:
- name: $user
  user:
    client-certificate-data: $(base64 -w0 < "$pki/$user.crt")
    client-key-data: $(base64 -w0 < "$pki/$user.key")
contexts:
- name: rollout-gate
  context: {cluster: rollout-gate, user: $user}
current-context: rollout-gate
EOF
  chmod 600 "$tmp"
  mv "$tmp" "$file"
}
for u in admin controller-manager scheduler kubelet; do
  [ "$pki/$u.crt" -ot "$STATE/kubeconfigs/$u.kubeconfig" ] || kubeconfig "$STATE/kubeconfigs/$u.kubeconfig" "$u"
done
cp "$STATE/kubeconfigs/admin.kubeconfig" "$KUBECONFIG_OUT"

trace "certificates and kubeconfigs ready"
# --- host network --------------------------------------------------------------------------
if [ ! -s "$STATE/sysctl.saved" ]; then
  for s in "${SYSCTLS[@]}"; do echo "$s $(sysctl -n "$s")"; done > "$STATE/sysctl.saved"
fi
ip link show "$NODE_DEV" >/dev/null 2>&1 || ip link add "$NODE_DEV" type bridge
ip addr replace "$NODE_IP/32" dev "$NODE_DEV"
ip link set "$NODE_DEV" up
# The bridge plugin turns ip_forward on; keep pod traffic on the node.
iptables -C FORWARD -s "$POD_CIDR" ! -d "$POD_CIDR" -m comment --comment "$RULE_COMMENT" -j DROP 2>/dev/null ||
  iptables -I FORWARD 1 -s "$POD_CIDR" ! -d "$POD_CIDR" -m comment --comment "$RULE_COMMENT" -j DROP
cat > "$RUN/cni/net.d/10-rollout-gate.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "rollout-gate",
  "plugins": [{
    "type": "bridge",
    "bridge": "$CNI_DEV",
    "isGateway": true,
    "ipMasq": false,
    "hairpinMode": true,
    "ipam": {
      "type": "host-local",
      "ranges": [[{"subnet": "$POD_CIDR", "gateway": "$POD_GATEWAY"}]],
      "routes": [{"dst": "0.0.0.0/0"}],
      "dataDir": "$RUN/cni/ipam"
    }
  }]
}
EOF

trace "host network ready"
# --- daemons -------------------------------------------------------------------------------
# wait_until DESC TIMEOUT CMD...: polls CMD, failing early if a started daemon has died.
wait_until() {
  local desc=$1 timeout=$2; shift 2
  local deadline=$((SECONDS + timeout)) d
  until "$@" >/dev/null 2>&1; do
    for d in "$RUN"/pids/*.pid; do
      d=$(basename "$d" .pid)
      pid_of "$d" >/dev/null || die "$d exited while waiting for $desc; see $STATE/logs/$d.log:
$(tail -n 20 "$STATE/logs/$d.log")"
    done
    if [ $SECONDS -ge $deadline ]; then
      dump_logs
      die "timed out after ${timeout}s waiting for $desc"
    fi
    sleep 0.2
  done
}

start etcd "$(command -v etcd)" --name "$NODE_NAME" --data-dir "$RUN/etcd" \
  --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster "$NODE_NAME=http://127.0.0.1:$ETCD_PEER_PORT" --logger zap --log-level warn

start kube-apiserver "$bin/kube-apiserver" \
  --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
  --bind-address 127.0.0.1 --secure-port "$API_PORT" --advertise-address "$NODE_IP" \
  --service-cluster-ip-range "$SERVICE_CIDR" \
  --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
  --client-ca-file "$pki/ca.crt" \
  --kubelet-client-certificate "$pki/apiserver-kubelet-client.crt" --kubelet-client-key "$pki/apiserver-kubelet-client.key" \
  --kubelet-preferred-address-types InternalIP \
  --service-account-issuer https://kubernetes.default.svc.cluster.local \
  --service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
  --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction --allow-privileged=true \
  --profiling=false
trace "etcd and kube-apiserver started"

# containerd and the images while the apiserver starts.
cat > "$RUN/containerd/config.toml" <<EOF
version = 2
root = "$STATE/containerd/root"
state = "$RUN/containerd/state"
[grpc]
  address = "$CONTAINERD_SOCK"
[plugins]
  [plugins."io.containerd.internal.v1.opt"]
    path = "$STATE/containerd/opt"
  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "$PAUSE_IMAGE"
    # Root in these VMs lacks CAP_SYS_RESOURCE: without this every sandbox fails with
    # "can't get final child's PID from pipe: EOF" (runc cannot lower oom_score_adj to -998).
    restrict_oom_score_adj = true
    netns_mounts_under_state_dir = true
    [plugins."io.containerd.grpc.v1.cri".containerd]
      snapshotter = "overlayfs"
      default_runtime_name = "runc"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
          SystemdCgroup = false
    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "/usr/lib/cni"
      conf_dir = "$RUN/cni/net.d"
    [plugins."io.containerd.grpc.v1.cri".registry]
      config_path = "$RUN/containerd/certs.d"
EOF
# The local registry speaks plain HTTP.
mkdir -p "$RUN/containerd/certs.d/$REGISTRY_HOST"
cat > "$RUN/containerd/certs.d/$REGISTRY_HOST/hosts.toml" <<EOF
server = "http://$REGISTRY_HOST"
[host."http://$REGISTRY_HOST"]
  capabilities = ["pull", "resolve"]
EOF
start containerd "$(command -v containerd)" --config "$RUN/containerd/config.toml"
wait_until "containerd" 30 ctr --address "$CONTAINERD_SOCK" version
# Containers left by an earlier run that was not torn down belong to no pod any more.
for c in $(ctr_k8s containers ls -q); do
  ctr_k8s tasks kill -a -s SIGKILL "$c" >/dev/null 2>&1 || true
  ctr_k8s tasks delete -f "$c" >/dev/null 2>&1 || true
  ctr_k8s containers delete "$c" >/dev/null 2>&1 || true
done
import_image pause
import_image testapp
ensure_registry

trace "containerd up, images imported"

# The other daemons retry until the apiserver is ready; starting them once it serves saves seconds.
wait_until "kube-apiserver to serve" 90 curl_api /version
trace "kube-apiserver serving"

# No --authentication/authorization-kubeconfig: they would make both exit while RBAC is not yet
# bootstrapped, and their health endpoints are open without them.
kcfg=$STATE/kubeconfigs
# The controllers workloads, namespaces, RBAC and quotas need; leaving out volume attachment and
# expansion, autoscaling, certificates and cloud controllers makes the controller-manager start
# seconds sooner.
CONTROLLERS=serviceaccount-controller,root-ca-certificate-publisher-controller,namespace-controller
CONTROLLERS+=,garbage-collector-controller,deployment-controller,replicaset-controller,statefulset-controller
CONTROLLERS+=,daemonset-controller,replicationcontroller-controller,job-controller,cronjob-controller
CONTROLLERS+=,ttl-after-finished-controller,disruption-controller,endpoints-controller,endpointslice-controller
CONTROLLERS+=,pod-garbage-collector-controller,node-lifecycle-controller,taint-eviction-controller
CONTROLLERS+=,clusterrole-aggregation-controller,resourcequota-controller
# Without it a deleted PVC keeps its kubernetes.io/pvc-protection finalizer, and its namespace
# stays Terminating for good.
CONTROLLERS+=,persistentvolumeclaim-protection-controller
# The PV binder, as every real cluster runs it: it binds claims and says why one cannot bind
# (ProvisioningFailed: storageclass.storage.k8s.io "x" not found), so the e2e sees what users see.
# Measured as a controller-manager of its own: under 0.6 s of CPU to start, 0.05 s a half-minute
# idle, and its first ProvisioningFailed 0.8 s after it served.
CONTROLLERS+=,persistentvolume-binder-controller
start kube-controller-manager "$bin/kube-controller-manager" \
  --kubeconfig "$kcfg/controller-manager.kubeconfig" \
  --bind-address 127.0.0.1 --leader-elect=false --use-service-account-credentials --controllers "$CONTROLLERS" \
  --service-account-private-key-file "$pki/sa.key" --root-ca-file "$pki/ca.crt" --cluster-name rollout-gate
start kube-scheduler "$bin/kube-scheduler" \
  --kubeconfig "$kcfg/scheduler.kubeconfig" \
  --bind-address 127.0.0.1 --leader-elect=false

cat > "$STATE/kubelet-config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: false}
  x509: {clientCAFile: "$pki/ca.crt"}
authorization: {mode: AlwaysAllow}
cgroupDriver: cgroupfs
containerRuntimeEndpoint: "unix://$CONTAINERD_SOCK"
failSwapOn: false
readOnlyPort: 0
podLogsDir: "$STATE/pod-logs"
# No CoreDNS here, but without clusterDNS every pod gets MissingClusterDNS events.
clusterDNS: ["$DNS_IP"]
clusterDomain: cluster.local
# The local images can never be pulled again: never collect them.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: "100Mi", nodefs.available: "1%", nodefs.inodesFree: "1%", imagefs.available: "1%"}
# kubelet rewrites some sysctls at start-up; protectKernelDefaults would make it refuse to start.
protectKernelDefaults: false
EOF
# From v1.35 the kubelet refuses a cgroup v1 host unless told otherwise (KEP-5573); these VMs
# mount cgroup v1 hierarchies.
if [ "$(kube_minor "$KUBE_VERSION")" -ge 35 ] && [ "$(stat -fc %T /sys/fs/cgroup)" != cgroup2fs ]; then
  echo "failCgroupV1: false" >> "$STATE/kubelet-config.yaml"
fi
start kubelet "$bin/kubelet" --config "$STATE/kubelet-config.yaml" \
  --kubeconfig "$kcfg/kubelet.kubeconfig" --root-dir "$STATE/kubelet" \
  --hostname-override "$NODE_NAME" --node-ip "$NODE_IP" --v 1

wait_until "kube-apiserver /readyz" 90 curl_api /readyz
trace "kube-apiserver ready"
wait_until "node $NODE_NAME Ready" 90 node_ready
log "node Ready ($(elapsed))"
# Put back the sysctls kubelet changed at start-up (it does not check them again).
while read -r s v; do
  [ "$s" = net.ipv4.ip_forward ] && continue
  sysctl -qw "$s=$v"
done < "$STATE/sysctl.saved"
# Pods can be created once the default ServiceAccount exists.
wait_until "default ServiceAccount" 60 curl_api /api/v1/namespaces/default/serviceaccounts/default
trace "default ServiceAccount exists"
touch "$RUN/up"
trap - ERR
log "cluster up in $(elapsed); kubectl: KUBECONFIG=$KUBECONFIG_OUT kubectl get nodes"
echo "$KUBECONFIG_OUT"
