#!/usr/bin/env bash
# Builds the e2e images without a registry: static binaries of the test app and of the pause
# (sandbox) program, each packed by e2e/cmd/imagepack into a docker-archive tarball that
# `ctr images import` and kind load. Unchanged binaries leave the archives and image IDs as they are.
# Prints the directory holding NAME.tar and NAME.id (the image ID) on its last line.
set -euo pipefail
# shellcheck source=hack/cluster-lib.sh
source "$(dirname "$0")/cluster-lib.sh"

out=$CACHE/images
mkdir -p "$out/bin"
cd "$ROOT_DIR"
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$out/bin/" ./e2e/testapp ./e2e/cmd/pause ./e2e/cmd/imagepack
for img in testapp pause; do
  "$out/bin/imagepack" -binary "$out/bin/$img" -tag "rollout-gate/$img:e2e" -path "/$img" -o "$out/$img.tar" > "$out/$img.id.tmp"
  mv "$out/$img.id.tmp" "$out/$img.id"
done
echo "$out"
