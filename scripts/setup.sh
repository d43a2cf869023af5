#!/usr/bin/env bash
# Installs what building and testing Huddle needs on Debian/Ubuntu: the system
# packages (only those missing) and a Rust toolchain (only if cargo is missing).
# Sourced by demo.sh and test.sh; sets CARGO_TARGET_DIR to a cache outside the
# checkout unless it is already set, so fresh clones reuse earlier builds.
set -euo pipefail

# cmake builds the bundled libopus; nasm makes openh264 about twice as fast.
# A caller may set HUDDLE_PACKAGES to install a list of its own.
if [[ -z "${HUDDLE_PACKAGES+set}" ]]; then
    HUDDLE_PACKAGES=(build-essential pkg-config cmake nasm curl
        # cameras: nokhwa's V4L2 bindings are generated with bindgen, which needs libclang
        libclang-dev
        # the desktop app's window test: a virtual X server, Mesa OpenGL, a screenshot tool
        xvfb xauth imagemagick libgl1-mesa-dri libegl1 libxkbcommon-x11-0 libxcursor1 libxrandr2 libxi6 libfontconfig1
        # sound: cpal always builds its ALSA backend; the tests run a private
        # PulseAudio server with null sinks as microphones and speakers
        libasound2-dev pulseaudio pulseaudio-utils
        # Wayland screen sharing: scap asks the desktop's ScreenCast portal over
        # D-Bus and takes the frames over PipeWire (bindgen: libclang above);
        # a test runs a private D-Bus to see it say when there is no portal
        libdbus-1-dev libpipewire-0.3-dev libspa-0.2-dev dbus
        # the README's reverse-proxy examples are tested as written
        nginx caddy
        # calls through a TURN relay: coturn, with the server's REST credentials
        coturn
        # large meetings: Janus's VideoRoom as the SFU, started by the tests
        janus
        # the network rig: namespaces and shaping (ip, tc), NAT and loss (nft), sysctl
        iproute2 nftables procps)
fi

missing=()
for package in "${HUDDLE_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
    echo "Installing system packages: ${missing[*]}"
    sudo=""
    [[ $(id -u) -ne 0 ]] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! command -v cargo >/dev/null 2>&1; then
    if [[ -x "$HOME/.cargo/bin/cargo" ]]; then
        export PATH="$HOME/.cargo/bin:$PATH"
    else
        echo "Installing the Rust toolchain with rustup"
        curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
        export PATH="$HOME/.cargo/bin:$PATH"
    fi
fi

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/huddle/target}"
