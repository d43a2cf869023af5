#!/usr/bin/env bash
# Runs every test of the workspace: unit tests, the real server binary, and the
# end-to-end tests with a real server and real clients on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
cargo test --workspace --locked "$@"
