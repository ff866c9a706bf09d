#!/usr/bin/env bash
# Sets the image action.yml runs (its one `runs.image` line):
#   hack/pin-image.sh ghcr.io/rollout-gate/rollout-gate:1.2.3@sha256:<64 hex>
#     the prebuilt image release.yml published, by tag and digest (what a release pins);
#   hack/pin-image.sh Dockerfile
#     build the image from this checkout (what CI does before `uses: ./`, so that it tests the
#     commit and not the last release; and the state before the first release).
# internal/contract runs this script and checks its result, so release.yml, action.yml and the
# Dockerfile cannot drift apart.
set -euo pipefail

IMAGE_NAME=ghcr.io/rollout-gate/rollout-gate
ref=${1:?usage: hack/pin-image.sh ${IMAGE_NAME}:VERSION@sha256:DIGEST | Dockerfile}
action=${ACTION_YML:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/action.yml}

semver='[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?'
if [[ $ref == Dockerfile ]]; then
  image=Dockerfile
elif [[ $ref =~ ^${IMAGE_NAME//./\\.}:${semver}@sha256:[0-9a-f]{64}$ ]]; then
  image="docker://$ref"
else
  echo "pin-image: $ref is neither Dockerfile nor $IMAGE_NAME:VERSION@sha256:<64 hex digits>" >&2
  exit 2
fi

lines=$(grep -c '^  image: ' "$action" || true)
if [[ $lines != 1 ]]; then
  echo "pin-image: $action has $lines '  image:' lines, want exactly one (runs.image)" >&2
  exit 1
fi
tmp=$(mktemp "$action.XXXXXX")
sed "s|^  image: .*\$|  image: $image|" "$action" >"$tmp"
cat "$tmp" >"$action" # keeps action.yml's mode
rm -f "$tmp"
echo "action.yml runs $image"
