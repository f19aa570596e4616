#!/bin/sh
# tests/guests/deps.sh - which Debian packages `make run` and `make test`
# install (tools/deps.sh), on a machine where nothing is installed: fake
# dpkg-query, apt-get and sudo on PATH record what would be installed.
#
#   deps-run-needs     `deps.sh run` asks for what building and running needs
#                      (gcc, make, nasm, binutils, SDL2, capstone, readline)
#   deps-run-only      ... and none of the test-only packages (QEMU, Bochs,
#                      Unicorn, Xvfb, gdb: about 117 MB)
#   deps-test-all      `deps.sh test` asks for both sets
#   deps-make-run      `make run` runs `deps.sh run`, `make test` `deps.sh test`
#
# The oracle is the list of what each command runs: trapeze's build (the
# Makefile's pkg-config and nasm/ld), and the tools the test scripts call.
# Prints tests/test.h-style lines: PASS / FAIL name: why / SKIP name: why.
. "$(dirname "$0")/lib.shinc"

mkdir -p "$tmp/bin"
cat > "$tmp/bin/dpkg-query" <<'SH'
#!/bin/sh
exit 1
SH
cat > "$tmp/bin/apt-get" <<'SH'
#!/bin/sh
[ "$1" = install ] && echo "$@" >> "$APT_LOG"
exit 0
SH
cat > "$tmp/bin/sudo" <<'SH'
#!/bin/sh
exec "$@"
SH
chmod +x "$tmp/bin/dpkg-query" "$tmp/bin/apt-get" "$tmp/bin/sudo"

# wants SET: the packages `tools/deps.sh SET` would install, one per line.
wants() {
    : > "$tmp/apt.log"
    APT_LOG="$tmp/apt.log" PATH="$tmp/bin:$PATH" sh tools/deps.sh "$1" >/dev/null 2>&1
    tr ' ' '\n' < "$tmp/apt.log" | grep -v '^-' | grep -v '^install$' | grep -v '^$' | sort
}
wants run > "$tmp/run"
wants test > "$tmp/test"

RUN_NEEDS="gcc make pkg-config nasm binutils libsdl2-dev libcapstone-dev libreadline-dev"
TEST_ONLY="qemu-system-x86 bochs bochs-term bochsbios vgabios libunicorn-dev xvfb gdb"

missing=""
for p in $RUN_NEEDS; do grep -qx "$p" "$tmp/run" || missing="$missing $p"; done
[ -z "$missing" ] && echo "PASS deps-run-needs" || fail "deps-run-needs: deps.sh run leaves out:$missing"
extra=""
for p in $TEST_ONLY; do grep -qx "$p" "$tmp/run" && extra="$extra $p"; done
[ -z "$extra" ] && echo "PASS deps-run-only" || fail "deps-run-only: deps.sh run also installs:$extra"
missing=""
for p in $RUN_NEEDS $TEST_ONLY python3; do grep -qx "$p" "$tmp/test" || missing="$missing $p"; done
[ -z "$missing" ] && echo "PASS deps-test-all" || fail "deps-test-all: deps.sh test leaves out:$missing"

# The Makefile's recipes (make -n: nothing is run), with fresh stamps.
make -n --no-print-directory BUILD="$tmp/b" run 2>/dev/null | grep 'tools/deps.sh' > "$tmp/mrun"
make -n --no-print-directory BUILD="$tmp/b" test 2>/dev/null | grep 'tools/deps.sh' > "$tmp/mtest"
if grep -q 'deps.sh run' "$tmp/mrun" && ! grep -q 'deps.sh test' "$tmp/mrun" &&
   grep -q 'deps.sh test' "$tmp/mtest"; then
    echo "PASS deps-make-run"
else
    fail "deps-make-run: make run runs '$(tr '\n' ';' < "$tmp/mrun")', make test '$(tr '\n' ';' < "$tmp/mtest")'"
fi
exit $failed
