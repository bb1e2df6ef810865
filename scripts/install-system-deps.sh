#!/usr/bin/env bash
# Installs every Debian package ferry's test suite needs (run as root; .ci/run calls it).
#   scripts/install-system-deps.sh          packages the tests use
#   scripts/install-system-deps.sh --all    also the producers that regenerate fixtures/ and run
#                                           the benchmarks' baselines (torch, onnx, sklearn, ...)
#   --quiet                                 say nothing when everything is there (npm's pretest)
# Not root and something missing: one line with the command to run, exit 1.
set -euo pipefail

TEST_PACKAGES=(
  libonnx-testdata   # ONNX's conformance models: every one must round-trip
  docker-registry    # a real OCI distribution registry for registry and bundle tests
  libtorch-dev       # the TorchScript backend's native addon builds against it
  chromium           # the web UI's browser tests (driven by playwright-core, never a downloaded browser)
  buildah            # builds ferry containerize's Dockerfiles for real, without a daemon
  postgresql         # the registry's scale-out metadata store (usually already running)
  python3            # node-gyp builds better-sqlite3 with it
  make g++           # node-gyp
)
PRODUCER_PACKAGES=(
  python3-torch python3-onnx python3-numpy python3-sklearn python3-joblib python3-xgboost
)

packages=("${TEST_PACKAGES[@]}")
all=""
quiet=""
for arg in "$@"; do
  case "$arg" in
    --all) all=" --all"; packages+=("${PRODUCER_PACKAGES[@]}") ;;
    --quiet) quiet=1 ;;
    *) echo "install-system-deps: unknown option $arg (--all, --quiet)" >&2; exit 2 ;;
  esac
done
if ! command -v dpkg-query >/dev/null; then
  echo "install-system-deps: not a Debian system (no dpkg-query): install the equivalents of ${packages[*]}" >&2
  exit 1
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  [ -n "$quiet" ] || echo "install-system-deps: all ${#packages[@]} packages present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-system-deps: missing ${missing[*]}; run as root: sudo scripts/install-system-deps.sh$all" >&2
  exit 1
fi
echo "install-system-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
