#!/usr/bin/env bash
# Installs the Debian packages the tests need beside the cluster's own (hack/cluster-up.sh
# installs those): podman runs the action's image as the runner does (e2e/container_test.go), and
# cmark-gfm, the renderer GitHub's is built on, checks that no cluster text in a comment becomes a
# link (internal/report). Only what is missing is installed. Without root it says what is missing
# and leaves it: the e2e container test then fails saying so, and the cmark-gfm check is skipped.
set -euo pipefail
need=()
command -v podman >/dev/null || need+=(podman)
command -v cmark-gfm >/dev/null || need+=(cmark-gfm)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "test-packages: the tests need ${need[*]}; install them (apt-get install ${need[*]}) or run as root" >&2
  exit 0
fi
echo "test-packages: installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
