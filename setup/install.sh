#!/usr/bin/env bash
# setup/install.sh: the setup action's installer (see action.yml). It reads the runner's
# environment: RUNNER_OS, RUNNER_ARCH, RUNNER_TOOL_CACHE, RUNNER_TEMP, GITHUB_PATH, GITHUB_OUTPUT,
# and INSTALL_VERSION, ACTION_REF, VERIFY_ATTESTATION, GH_TOKEN from action.yml.
# ROLLOUT_GATE_RELEASES_URL replaces https://github.com/rollout-gate/rollout-gate/releases (a
# mirror, or the test's local server). Exit 1 with an ::error:: line that says what to do.
set -euo pipefail

# The released platforms: hack/build-release.sh builds the same list (internal/contract).
PLATFORMS="linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64"
REPO=rollout-gate/rollout-gate
releases=${ROLLOUT_GATE_RELEASES_URL:-https://github.com/$REPO/releases}

fail() {
  echo "::error title=rollout-gate setup::$*"
  exit 1
}

case "${RUNNER_OS:-$(uname -s)}" in
  Linux) os=linux ;;
  macOS | Darwin) os=darwin ;;
  Windows | MINGW* | MSYS* | CYGWIN*) os=windows ;;
  *) os=$(printf '%s' "${RUNNER_OS:-$(uname -s)}" | tr '[:upper:]' '[:lower:]') ;;
esac
case "${RUNNER_ARCH:-$(uname -m)}" in
  X64 | x86_64 | amd64) arch=amd64 ;;
  ARM64 | arm64 | aarch64) arch=arm64 ;;
  *) arch=$(printf '%s' "${RUNNER_ARCH:-$(uname -m)}" | tr '[:upper:]' '[:lower:]') ;;
esac
case " $PLATFORMS " in
  *" $os/$arch "*) ;;
  *) fail "rollout-gate has no release binary for this runner (${RUNNER_OS:-$(uname -s)}/${RUNNER_ARCH:-$(uname -m)}, $os/$arch); released platforms: $PLATFORMS. Run the job on one of those, use the container action (rollout-gate/rollout-gate@v1, Linux only), or build the gate: go install github.com/$REPO/cmd/gate@latest" ;;
esac
asset="gate-$os-$arch"
exe=gate
if [ "$os" = windows ]; then
  asset="$asset.exe"
  exe=gate.exe
fi

version=${INSTALL_VERSION:-}
if [ -z "$version" ] && [[ ${ACTION_REF:-} =~ ^v?[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  version=$ACTION_REF
fi
version=${version#v}
if [ -z "$version" ] || [ "$version" = latest ]; then
  version=latest
  base="$releases/latest/download"
else
  base="$releases/download/v$version"
fi

cache=${RUNNER_TOOL_CACHE:-${RUNNER_TEMP:-/tmp}/tool-cache}
finish() { # $1: the folder holding the binary; $2: its version
  local onpath=$1
  # Windows runners: Git Bash paths (C:\hostedtoolcache\windows/rollout-gate/...) as Windows sees them.
  if command -v cygpath >/dev/null 2>&1; then onpath=$(cygpath -w "$1"); fi
  echo "$onpath" >>"${GITHUB_PATH:-/dev/null}"
  {
    echo "path=$1/$exe"
    echo "version=$2"
  } >>"${GITHUB_OUTPUT:-/dev/null}"
  echo "rollout-gate $2 installed at $1/$exe"
}
if [ "$version" != latest ] && [ -f "$cache/rollout-gate/$version/$arch.complete" ] && [ -x "$cache/rollout-gate/$version/$arch/$exe" ]; then
  echo "rollout-gate $version found in the tool cache"
  finish "$cache/rollout-gate/$version/$arch" "$version"
  exit 0
fi

tmp=$(mktemp -d "${RUNNER_TEMP:-/tmp}/rollout-gate-setup.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
download() { # $1: asset name
  curl -fsSL --retry 3 --retry-delay 2 -o "$tmp/$1" "$base/$1" ||
    fail "could not download $base/$1 (version $version). Check that release v$version exists and has the asset $1 (version input), and that the runner can reach github.com"
}
download checksums.txt
download "$asset"

want=$(awk -v a="$asset" '$2 == a || $2 == "*" a { print $1 }' "$tmp/checksums.txt")
[ -n "$want" ] || fail "checksums.txt of $version does not list $asset; nothing was installed"
if command -v sha256sum >/dev/null 2>&1; then
  got=$(sha256sum "$tmp/$asset" | awk '{print $1}')
else
  got=$(shasum -a 256 "$tmp/$asset" | awk '{print $1}')
fi
[ "$got" = "$want" ] ||
  fail "checksum mismatch for $asset ($version): checksums.txt says $want, the download is $got. The file was corrupted or altered on the way; nothing was installed. Re-run the job, and report it if it repeats"
echo "$asset: SHA-256 $got matches checksums.txt"

case "${VERIFY_ATTESTATION:-auto}" in
  false) ;;
  true | auto)
    if command -v gh >/dev/null 2>&1; then
      gh attestation verify "$tmp/$asset" --repo "$REPO" >"$tmp/attestation.log" 2>&1 ||
        fail "the build provenance attestation of $asset does not verify (gh attestation verify --repo $REPO): $(tail -n 3 "$tmp/attestation.log" | tr '\n' ' ')nothing was installed"
      echo "$asset: build provenance verified (gh attestation verify --repo $REPO)"
    elif [ "${VERIFY_ATTESTATION:-auto}" = true ]; then
      fail "verify-attestation is true but gh is not installed on this runner; install the GitHub CLI, or set verify-attestation: auto"
    else
      echo "gh is not installed: the SHA-256 was checked, the provenance attestation was not"
    fi
    ;;
  *) fail "verify-attestation: '$VERIFY_ATTESTATION' is not auto, true or false" ;;
esac

chmod +x "$tmp/$asset"
if [ "$version" = latest ]; then
  version=$("$tmp/$asset" --version | awk 'NR == 1 { print $2 }')
  [ -n "$version" ] || fail "the downloaded $asset does not run on this runner ($os/$arch); nothing was installed"
fi
dir="$cache/rollout-gate/$version/$arch"
mkdir -p "$dir"
mv "$tmp/$asset" "$dir/$exe"
touch "$cache/rollout-gate/$version/$arch.complete"
finish "$dir" "$version"
