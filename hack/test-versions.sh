#!/usr/bin/env bash
# make test-versions: the probe and diagnose e2e scenarios on each Kubernetes version of
# KUBE_VERSIONS besides the default (make test runs the default), one version at a time: build its
# binaries (outside the lock: minutes), take the e2e lock exclusive (waits for the tests holding it
# shared), swap the cluster to that version, run the scenarios, swap back to the default and release
# the lock, whatever happened. The cluster is never left down or on another version.
# Env: KUBE_VERSIONS (space-separated), VERSIONS_RUN (the go test -run pattern),
# E2E_PROBE_REPEAT_IDLE / E2E_PROBE_REPEAT_LOAD (runs of the probe scenarios per mode), RECORD=1
# (write the diagnosis fixtures of each version as its own set: testdata/recorded-v1.37/).
set -euo pipefail
# shellcheck source=hack/cluster-lib.sh
source "$(dirname "$0")/cluster-lib.sh"
cd "$ROOT_DIR"

versions=${KUBE_VERSIONS:-v1.37.2}
run=${VERSIONS_RUN:-'^(TestProbeVerdictsIdleAndUnderLoad|TestDiagnose|TestDiagnoseNodePressure|TestFinalErrors|TestTransientErrorsWait)$'}
export E2E_PROBE_REPEAT_IDLE=${E2E_PROBE_REPEAT_IDLE:-1} E2E_PROBE_REPEAT_LOAD=${E2E_PROBE_REPEAT_LOAD:-2}
timeout=${E2E_TIMEOUT:-30m}

# The test binary and every version's binaries are built before the cluster changes hands.
go test -tags e2e -c -o /dev/null ./e2e/
for v in $versions; do
  [ "$v" = "$DEFAULT_KUBE_VERSION" ] && continue
  hack/build-kube.sh "$v" >/dev/null
done

rc=0
for v in $versions; do
  [ "$v" = "$DEFAULT_KUBE_VERSION" ] && continue
  (
    exec 8> "$E2E_LOCK"
    log "waiting for the e2e lock $E2E_LOCK (exclusive) to swap to $v"
    flock -x 8
    export ROLLOUT_GATE_E2E_LOCK_HELD=1
    t1=$(date +%s)
    # Back to the default, whatever the tests did; the lock goes when this subshell ends.
    trap 'log "swapping back to $DEFAULT_KUBE_VERSION"; KUBE_VERSION=$DEFAULT_KUBE_VERSION hack/cluster-up.sh >/dev/null;
      log "$v: the cluster was on $v for $(( $(date +%s) - t1 ))s; back on $(running_version)"' EXIT
    kubeconfig=$(KUBE_VERSION=$v hack/cluster-up.sh | tail -n1)
    got=$(running_version)
    [ "$got" = "$v" ] || die "asked for $v, the API server says ${got:-nothing}"
    out=${VERSIONS_LOG_DIR:-/tmp}/rollout-gate-e2e-$v.log
    log "$v up; go test -run '$run' (full output: $out)"
    status=0
    record=()
    [ -n "${RECORD:-}" ] && record=(-record-fixtures -record-fixtures-set "v1.$(kube_minor "$v")")
    KUBECONFIG=$kubeconfig go test -tags e2e -count=1 -timeout "$timeout" -parallel 12 -run "$run" -v ./e2e/ "${record[@]}" > "$out" 2>&1 || status=$?
    # The scenario tables and the results.
    grep -E -- '^\s*(--- FAIL|--- PASS: Test|FAIL|ok |PASS$)|scenario table|^\s+(idle|load) \||: (failed|healthy|timed-out) .* in [0-9.]+s$' "$out" || true
    exit $status
  ) && log "$v: pass" || { rc=$?; log "$v: FAIL (exit $rc)"; }
done
exit $rc
