#!/bin/sh
# tests/guests/insn_cap.sh - the instruction cap: -max-insns N and the
# TRAPEZE_MAX_INSNS default (monitor/cmdline.c, monitor/runner.c).
#
# The guest is guests/spin.asm, which never ends on its own (CLI, then a
# jump to itself), so only the cap or the timeout stops it.  Expected:
#   - -max-insns 1000000 ends it with status 8 and the one stderr line
#     "trapeze: instruction cap reached: 1000000 instructions (-max-insns)",
#     long before the 20 s timeout; 1M is the same count;
#   - the cap is exact: -stats shows "instructions N" for cap N, with and
#     without -icount (each slice's budget is cut to what is left);
#   - -max-insns 0 is no cap: the timeout ends the run (status 124);
#   - TRAPEZE_MAX_INSNS=1000 caps a run (its line names the variable), an
#     explicit -max-insns overrides it (a larger cap, and 0 = none);
#   - a guest that ends below its cap is not touched (exit0: status 33);
#   - bad values (banana, -5, 1.5, 5T, an overflow, a bad TRAPEZE_MAX_INSNS)
#     are one line and status 2, as other bad flags;
#   - the monitor: `c` stops at the cap with the line, the shell says why
#     and stays; the next `c` has nothing to run; the process exits 8;
#   - gdb: the stub answers the continue with SIGXCPU and trapeze exits 8.
#
# Prints tests/test.h-style lines: PASS / FAIL name: why / SKIP name: why.
. "$(dirname "$0")/lib.shinc"     # $pids: stubs that cleanup kills at exit
SPIN=$G/spin.elf
require_files insn-cap "$TRAPEZE" "$SPIN" "$G/exit0.elf"
CAP_STATUS=8
unset TRAPEZE_MAX_INSNS          # tests/run.sh's default: each case says its own

# cap_line N FROM: the line trapeze prints when cap N (from FROM) is reached.
cap_line() { echo "trapeze: instruction cap reached: $1 instructions ($2)"; }

# expect_cap NAME N FROM [ARGS...]: spin under ARGS (20 s at most) ends by
# the cap N from FROM: status 8, the line alone on stderr, -stats says N.
expect_cap() {
    name=$1 n=$2 from=$3
    shift 3
    run_trapeze 20 -kernel "$SPIN" -nographic -stats "$@"
    count=$(sed -n 's/^  instructions *\([0-9]*\)$/\1/p' "$tmp/err")
    if [ $rc -ne $CAP_STATUS ]; then
        fail "$name: exit status $rc, want $CAP_STATUS (stderr: $(head -n 1 "$tmp/err"))"
    elif [ "$(head -n 1 "$tmp/err")" != "$(cap_line "$n" "$from")" ]; then
        fail "$name: first stderr line '$(head -n 1 "$tmp/err")', want '$(cap_line "$n" "$from")'"
    elif [ "$(grep -c '^trapeze:' "$tmp/err")" -ne 1 ]; then
        fail "$name: more than one trapeze line on stderr: $(grep '^trapeze:' "$tmp/err" | tr '\n' '|')"
    elif [ "$count" != "$n" ]; then
        fail "$name: -stats says '$count' instructions, want exactly $n"
    else
        echo "PASS $name"
    fi
}

start=$(date +%s)
expect_cap insn-cap-1000000 1000000 -max-insns -max-insns 1000000
elapsed=$(($(date +%s) - start))
if [ $rc -eq $CAP_STATUS ] && [ $elapsed -lt 10 ]; then
    echo "PASS insn-cap-before-timeout"
else
    fail "insn-cap-before-timeout: status $rc after $elapsed s (the timeout is 20 s)"
fi
expect_cap insn-cap-suffix-M 1000000 -max-insns -max-insns 1M
expect_cap insn-cap-suffix-k 2000 -max-insns -max-insns 2k
expect_cap insn-cap-exact 1000 -max-insns -max-insns 1000
expect_cap insn-cap-exact-icount 1000 -max-insns -max-insns 1000 -icount shift=0
expect_cap insn-cap-exact-icount-odd 12345 -max-insns -max-insns 12345 -icount shift=3

# 0: no cap, so only the timeout stops the spinning guest.
run_trapeze 2 -kernel "$SPIN" -nographic -max-insns 0
if [ $rc -eq 124 ] && ! grep -q "instruction cap" "$tmp/err"; then
    echo "PASS insn-cap-zero-is-none"
else
    fail "insn-cap-zero-is-none: status $rc, want 124 (timeout); stderr: $(head -n 1 "$tmp/err")"
fi

# A guest that ends before its cap ends as it always did.
run_trapeze 20 -kernel "$G/exit0.elf" -nographic -max-insns 1M
[ $rc -eq $PASS_STATUS ] && echo "PASS insn-cap-guest-ends-first" ||
    fail "insn-cap-guest-ends-first: exit0 under -max-insns 1M: status $rc, want $PASS_STATUS"

# The environment's default, and -max-insns over it.  (Exported, then
# unset: POSIX leaves "VAR=x function" unspecified.)
export TRAPEZE_MAX_INSNS=1000
expect_cap insn-cap-env 1000 TRAPEZE_MAX_INSNS
expect_cap insn-cap-flag-over-env 5000 -max-insns -max-insns 5000
run_trapeze 20 -kernel "$G/exit0.elf" -nographic -max-insns 0
[ $rc -eq $PASS_STATUS ] && echo "PASS insn-cap-flag-zero-over-env" ||
    fail "insn-cap-flag-zero-over-env: TRAPEZE_MAX_INSNS=1000 -max-insns 0: status $rc, want $PASS_STATUS"
TRAPEZE_MAX_INSNS=
run_trapeze 20 -kernel "$G/exit0.elf" -nographic
[ $rc -eq $PASS_STATUS ] && echo "PASS insn-cap-env-empty-is-none" ||
    fail "insn-cap-env-empty-is-none: TRAPEZE_MAX_INSNS= : status $rc, want $PASS_STATUS"
TRAPEZE_MAX_INSNS=banana
expect_error insn-cap-bad-env 2 "^trapeze: TRAPEZE_MAX_INSNS=banana: not an instruction count" -kernel "$SPIN"
unset TRAPEZE_MAX_INSNS

# Bad values: one line, status 2.
for v in banana -5 1.5 5T 1e6 0x10 "" 99999999999999999999 20000000000G; do
    expect_error "insn-cap-bad-$(echo "x$v" | tr -c 'a-zA-Z0-9\n' '_')" 2 \
        "^trapeze: -max-insns $v: not an instruction count" -kernel "$SPIN" -max-insns "$v"
done
expect_error insn-cap-missing-argument 2 "^trapeze: -max-insns: needs an argument" -kernel "$SPIN" -max-insns

# The monitor: `c` stops at the cap and comes back to the prompt.
printf 'c\nc\ninfo registers\n' > "$tmp/cap.cmd"
timeout 20 "$TRAPEZE" -kernel "$SPIN" -display none -max-insns 5000 -monitor-script "$tmp/cap.cmd" \
    </dev/null >"$tmp/mon.out" 2>"$tmp/mon.err"
mrc=$?
if [ $mrc -ne $CAP_STATUS ]; then
    fail "insn-cap-monitor: exit status $mrc, want $CAP_STATUS (stderr: $(head -n 1 "$tmp/mon.err"))"
elif [ "$(cat "$tmp/mon.err")" != "$(cap_line 5000 -max-insns)" ]; then
    fail "insn-cap-monitor: stderr '$(tr '\n' '|' < "$tmp/mon.err")', want '$(cap_line 5000 -max-insns)'"
elif ! grep -qx "the guest ran its instruction cap (5000 instructions, -max-insns; exit status 8)" "$tmp/mon.out"; then
    fail "insn-cap-monitor: the shell does not say why the guest stopped: $(tr '\n' '|' < "$tmp/mon.out")"
elif ! grep -q "^error: nothing to run: the guest ran its instruction cap" "$tmp/mon.out"; then
    fail "insn-cap-monitor: a second c ran on: $(tr '\n' '|' < "$tmp/mon.out")"
elif ! grep -q "^eip " "$tmp/mon.out"; then
    fail "insn-cap-monitor: the shell did not stay (no info registers): $(tr '\n' '|' < "$tmp/mon.out")"
else
    echo "PASS insn-cap-monitor"
fi

# gdb: the continue that reaches the cap is answered SIGXCPU.
if ! command -v gdb >/dev/null 2>&1; then
    echo "SKIP insn-cap-gdb: gdb is not installed (apt-get install gdb)"
    exit $failed
fi
timeout 30 "$TRAPEZE" -kernel "$SPIN" -nographic -max-insns 100000 -S -gdb tcp::0 \
    </dev/null >"$tmp/stub.out" 2>"$tmp/stub.err" &
TPID=$!
pids="$pids $TPID"
PORT=""
for _ in $(seq 50); do
    PORT=$(sed -n 's/^trapeze: gdb stub listening on [^:]*:\([0-9]*\)$/\1/p' "$tmp/stub.err")
    [ -n "$PORT" ] && break
    sleep 0.1
done
if [ -z "$PORT" ]; then
    fail "insn-cap-gdb: the stub did not start: $(head -n 1 "$tmp/stub.err")"
    exit 1
fi
cat > "$tmp/cap.gdb" <<EOF
set confirm off
set pagination off
target remote 127.0.0.1:$PORT
continue
EOF
timeout 30 gdb -nx -batch -x "$tmp/cap.gdb" </dev/null >"$tmp/gdb.out" 2>&1
wait $TPID
src=$?
if [ $src -ne $CAP_STATUS ]; then
    fail "insn-cap-gdb: trapeze's exit status $src, want $CAP_STATUS ($(tr '\n' '|' < "$tmp/stub.err"))"
elif ! grep -qx "$(cap_line 100000 -max-insns)" "$tmp/stub.err"; then
    fail "insn-cap-gdb: no cap line on stderr: $(tr '\n' '|' < "$tmp/stub.err")"
elif ! grep -q "terminated with signal SIGXCPU" "$tmp/gdb.out"; then
    fail "insn-cap-gdb: gdb did not see SIGXCPU: $(tr '\n' '|' < "$tmp/gdb.out")"
else
    echo "PASS insn-cap-gdb"
fi
exit $failed
