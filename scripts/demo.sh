#!/usr/bin/env bash
# The demo: a signal server with demo data and, in "All Users Weekly Sync",
# - with a display: one bot and the desktop app, logged in and joined;
# - without one: two bots sending each other stamped video and tones, each
#   printing a live line per second (peers, fps, bitrate, latency).
# Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
cargo build --release --locked -p signal-server -p huddle-bot -p huddle-desktop
bin="$CARGO_TARGET_DIR/release"
data_dir="${XDG_DATA_HOME:-$HOME/.local/share}/huddle"
mkdir -p "$data_dir"
listen="${HUDDLE_LISTEN:-127.0.0.1:8080}"
url="http://$listen"

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

"$bin/huddle-signal" --demo --db "$data_dir/demo.db" --listen "$listen" &
pids+=($!)
for _ in $(seq 50); do
    curl -fs "$url/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done

meeting="All Users Weekly Sync"
common=(--server "$url" --password password123 --meeting "$meeting" --duration "${HUDDLE_DEMO_SECONDS:-86400}" --live)
"$bin/huddle-bot" "${common[@]}" --email test@corporate.com --audio tone:660 --report "$data_dir/bot-corporate.json" 2>/dev/null &
pids+=($!)
sleep 1
if [[ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]]; then
    # The app's run-time libraries (OpenGL through Mesa, X11/Wayland input).
    HUDDLE_PACKAGES=(libgl1-mesa-dri libegl1 libxkbcommon-x11-0 libxcursor1 libxrandr2 libxi6 libfontconfig1)
    source scripts/setup.sh
    "$bin/huddle" --server "$url" --email test@startup.com --password password123 --join "$meeting" &
else
    "$bin/huddle-bot" "${common[@]}" --email test@startup.com --audio tone:440 --report "$data_dir/bot-startup.json" 2>/dev/null &
fi
pids+=($!)
wait "${pids[2]}"
