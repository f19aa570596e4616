#!/bin/sh
# tools/deps.sh - install the Debian packages trapeze needs, if any is missing.
# Run by `make run` and `make test` before building (once; build/.deps remembers).
set -e
PKGS="gcc make pkg-config nasm gcc-multilib libsdl2-dev libcapstone-dev libreadline-dev \
libunicorn-dev qemu-system-x86 bochs bochs-term bochsbios vgabios xvfb gdb python3 mtools"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "trapeze: installing Debian packages:$missing"
if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "trapeze: need root (or sudo) to install:$missing" >&2; exit 1
fi
$SUDO apt-get update -q || true
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
