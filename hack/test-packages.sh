#!/usr/bin/env bash
# Installs the Debian packages the e2e suite needs beside the cluster's own (hack/cluster-up.sh
# installs those): podman runs the action's image as the runner does (e2e/container_test.go).
# Only what is missing is installed, so a machine that has them is not touched.
set -euo pipefail
need=()
command -v podman >/dev/null || need+=(podman)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "test-packages: the e2e suite needs ${need[*]}; install them (apt-get install ${need[*]}) or run as root" >&2
  exit 1
fi
echo "test-packages: installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
