#!/usr/bin/env bash
# The demo: a signal server with demo organisations, users and meetings.
# Prints its URL and the demo logins; Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
cargo build --release --locked -p signal-server
data_dir="${XDG_DATA_HOME:-$HOME/.local/share}/huddle"
mkdir -p "$data_dir"
exec "$CARGO_TARGET_DIR/release/huddle-signal" --demo --db "$data_dir/demo.db" --listen "${HUDDLE_LISTEN:-127.0.0.1:8080}"
