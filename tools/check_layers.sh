#!/bin/sh
# tools/check_layers.sh - the layers of DESIGN.md point down only: check it.
#
#   make check-layers        (make test runs it too, as one of its tests)
#   BUILD=build tools/check_layers.sh
#
# Three checks, each a test line (tests/test.h's PASS/FAIL), each offence
# one FAIL line naming the file and what it reaches:
#   layers-includes  every #include "DIR/FILE" in a layer folder's .c/.h
#                    names a folder the table below allows that layer;
#   layers-symbols   at link level: no object of a layer ($BUILD/DIR/*.o,
#                    read with nm) has an undefined symbol that only objects
#                    of layers it may not use define - a call made without
#                    the include (an extern declared by hand) is caught too;
#   layers-readmes   each folder's README.md has the line "May include: ..."
#                    naming, in backquotes, the folders of the table (a
#                    remark in parentheses after them is not read).
#
# The table, bottom to top (tests/, bench/, guests/ and tools/ may use
# anything and are not checked).  machine/bios is the board's BIOS, one
# layer with machine/.  cpu/ and devices/ may not use each other.
LAYERS="base mmu cpu devices machine machine/bios translator vmm monitor"
allowed() {
    case $1 in
    base)         echo "base" ;;
    mmu)          echo "base mmu" ;;
    cpu)          echo "base mmu cpu" ;;
    devices)      echo "base mmu devices" ;;
    machine|machine/bios)
                  echo "base mmu cpu devices machine machine/bios" ;;
    translator)   echo "base mmu cpu devices machine translator" ;;
    vmm)          echo "base mmu cpu devices machine translator vmm" ;;
    monitor)      echo "base mmu cpu devices machine translator vmm monitor" ;;
    esac
}

BUILD=${BUILD:-build}
cd "$(dirname "$0")/.." || exit 1
failed=0

# ---- includes ----------------------------------------------------------
bad=0
for layer in $LAYERS; do
    ok=" $(allowed "$layer") "
    for f in "$layer"/*.c "$layer"/*.h "$layer"/*.def; do
        [ -e "$f" ] || continue
        # '#include "dir/file"', any spacing; <system> headers are not ours.
        sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f" |
        while read -r inc; do
            case $inc in
            */*) dir=${inc%/*} ;;
            *) continue ;;   # a file next to this one
            esac
            case $ok in
            *" $dir "*) ;;
            *) echo "FAIL layers-includes: $f includes \"$inc\" ($layer may include: $(allowed "$layer"))" ;;
            esac
        done
    done
done > "${TMPDIR:-/tmp}/check_layers.$$"
if [ -s "${TMPDIR:-/tmp}/check_layers.$$" ]; then
    cat "${TMPDIR:-/tmp}/check_layers.$$"
    failed=1
else
    echo "PASS layers-includes"
fi
rm -f "${TMPDIR:-/tmp}/check_layers.$$"

# ---- symbols -----------------------------------------------------------
if ! command -v nm >/dev/null 2>&1; then
    echo "FAIL layers-symbols: nm is not installed (binutils)"
    failed=1
else
    listing=$(for layer in $LAYERS; do
        for o in "$BUILD/$layer"/*.o; do
            [ -e "$o" ] || continue
            # nm -P: "NAME TYPE VALUE SIZE"; -g: external symbols only.
            nm -P -g "$o" 2>/dev/null | awk -v layer="$layer" -v obj="$o" '{ print layer, obj, $1, $2 }'
        done
    done)
    if [ -z "$listing" ]; then
        echo "FAIL layers-symbols: no objects under $BUILD/ (build first: make)"
        failed=1
    else
        rules=$(for layer in $LAYERS; do echo "$layer $(allowed "$layer")"; done)
        out=$(printf '%s\n' "$rules" "--" "$listing" | awk '
            $1 == "--" { listing = 1; next }
            !listing { for (i = 2; i <= NF; i++) may[$1 " " $i] = 1; next }
            $4 == "U" { use[++n] = $0; next }
            $4 != "w" && $4 != "v" { defs[$3] = defs[$3] " " $1 }
            END {
                for (k = 1; k <= n; k++) {
                    split(use[k], u, " ")
                    if (!(u[3] in defs)) continue          # the C library, SDL, ...
                    m = split(defs[u[3]], where, " ")
                    fine = 0
                    for (j = 1; j <= m; j++) if ((u[1] " " where[j]) in may) fine = 1
                    if (!fine)
                        printf "FAIL layers-symbols: %s (%s) uses %s, defined in%s\n", u[2], u[1], u[3], defs[u[3]]
                }
            }')
        if [ -n "$out" ]; then
            printf '%s\n' "$out"
            failed=1
        else
            echo "PASS layers-symbols"
        fi
    fi
fi

# ---- the READMEs say the same ------------------------------------------
bad=0
for layer in $LAYERS; do
    readme=$layer/README.md
    line=$(grep -m 1 '^May include:' "$readme" 2>/dev/null)
    line=${line%%(*}   # a remark in parentheses may name other folders
    got=$(printf '%s\n' "$line" | grep -o '`[a-z/]*/`' | tr -d '`' | sed 's|/$||' | sort | tr '\n' ' ')
    want=$(for d in $(allowed "$layer"); do echo "$d"; done | sort | tr '\n' ' ')
    if [ "$got" != "$want" ]; then
        echo "FAIL layers-readmes: $readme: 'May include:' names '${got% }', the table '${want% }'"
        bad=1
    fi
done
if [ $bad -eq 0 ]; then
    echo "PASS layers-readmes"
else
    failed=1
fi
exit $failed
