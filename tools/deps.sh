#!/bin/sh
# tools/deps.sh [run|test] - install the Debian packages trapeze needs, if any
# is missing.
#
#   run   what building and running trapeze needs: the compiler, nasm and
#         binutils (the BIOS ROM and the guests), SDL2 (the window),
#         capstone (disassembly), readline (the monitor); `make run`
#   test  what only the tests and the benchmark need, on top of that: QEMU
#         and Bochs (the oracles), Unicorn (the CPU differential test), Xvfb
#         (the SDL window test), gdb, python3 (the terminal tests), mtools,
#         gcc-multilib, gnuplot-nox (make report's plots); `make test`,
#         `make asan`, `make bench`, `make report`, `make sweep`
#
# Without an argument: both.  Each Makefile stamp (build/.deps-run,
# build/.deps) remembers that its set was checked.
set -e
RUN_PKGS="gcc make pkg-config nasm binutils libsdl2-dev libcapstone-dev libreadline-dev"
TEST_PKGS="gcc-multilib libunicorn-dev qemu-system-x86 bochs bochs-term bochsbios vgabios xvfb gdb \
python3 mtools gnuplot-nox"
case "${1:-all}" in
run)  PKGS=$RUN_PKGS ;;
test) PKGS="$RUN_PKGS $TEST_PKGS" ;;
all)  PKGS="$RUN_PKGS $TEST_PKGS" ;;
*)    echo "trapeze: tools/deps.sh $1: use run or test" >&2; exit 2 ;;
esac
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
