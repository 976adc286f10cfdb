#!/bin/sh
# SPDX-License-Identifier: MIT
# The layers of src/ (docs/architecture.md). Fails when
#  - a source file is outside a layer folder, or a folder is not in LAYERS;
#  - an #include names a header of a higher layer, or a .c file includes
#    anything private but its own layer's header (src/L/L.h) and the
#    layer-internal headers of its folder (src/L/<name>_impl.h: a module's
#    struct, seen only by that module's files), or a layer header includes
#    anything private but the headers of lower layers;
#  - a file calls a function defined in a higher layer, or files call each
#    other in a circle (from the symbol tables of the compiled objects: nm);
#  - two files share a name (the static library stores members by name);
#  - the layer table of docs/architecture.md differs from LAYERS.
# There is no exceptions list. Usage: check-layers.sh [ROOT] (default .);
# CC compiles (default cc). `check-layers.sh --table` prints the table rows.
set -eu

# The one home of the layer order, lowest first: a layer uses only those before it.
LAYERS="base kernels parallel data optim model train path io"
# Folders that use the public headers only (include/).
PUBLIC_ONLY="mpi"

table() {
    below=""
    for l in $LAYERS; do
        printf '| `%s` | `src/%s/` | %s |\n' "$l" "$l" "${below:-nothing (the C library)}"
        below="${below:+$below, }$l"
    done
    for l in $PUBLIC_ONLY; do
        printf '| `%s` | `src/%s/` | %s |\n' "$l" "$l" "the public API only (include/)"
    done
}
if [ "${1:-}" = "--table" ]; then
    table
    exit 0
fi

root=${1:-.}
cd "$root"
fail=0
bad() {
    echo "check-layers: $*" >&2
    fail=1
}

rank() { # rank of layer $1 (1 = lowest), 0 when it is not a layer
    _r=0 _i=0
    for _l in $LAYERS; do
        _i=$((_i + 1))
        [ "$_l" = "$1" ] && _r=$_i
    done
    echo $_r
}
is_public_only() {
    for _l in $PUBLIC_ONLY; do [ "$_l" = "$1" ] && return 0; done
    return 1
}

# ---- folders ----
for f in src/*.c; do
    [ -e "$f" ] && bad "$f: every source file belongs in a layer folder (src/<layer>/)"
done
for d in src/*/; do
    d=${d%/}
    l=${d#src/}
    if is_public_only "$l"; then continue; fi
    if [ "$(rank "$l")" = 0 ]; then
        bad "$d: not a layer (add it to LAYERS in scripts/check-layers.sh)"
    elif [ ! -f "$d/$l.h" ]; then
        bad "$d: no layer header $d/$l.h"
    fi
done
dups=$(for f in src/*/*.c; do basename "$f"; done | sort | uniq -d)
[ -z "$dups" ] || bad "source files share a name: $(echo $dups)"

# ---- includes ----
for f in src/*/*.c src/*/*.h; do
    [ -e "$f" ] || continue
    dir=${f%/*}
    l=${dir#src/}
    r=$(rank "$l")
    sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f" >"${TMPDIR:-/tmp}/check-layers.$$"
    while IFS= read -r inc; do
        if [ -f "$dir/$inc" ]; then
            target=$(cd "$(dirname "$dir/$inc")" && pwd -P)/$(basename "$inc")
            top=$(pwd -P)/src/
            case $target in
            "$top"*) rel=${target#"$top"} ;;
            *)
                bad "$f: includes \"$inc\", outside src/"
                continue
                ;;
            esac
            tl=${rel%%/*}
            th=${rel#*/}
            if is_public_only "$l"; then
                bad "$f: includes \"$inc\": src/$l uses the public headers only"
                continue
            fi
            tr=$(rank "$tl")
            impl=0
            case $th in */*) ;; *_impl.h) impl=1 ;; esac
            if [ "$tr" -gt "$r" ] || { [ "$tr" = "$r" ] && [ "$tl" != "$l" ]; }; then
                bad "$f: includes \"$inc\" of layer $tl, above $l"
            elif [ "$impl" = 1 ]; then
                if [ "$tl" != "$l" ] || [ "${f%.c}" = "$f" ]; then
                    bad "$f: includes \"$inc\": a layer-internal header (<name>_impl.h) is included by .c files of its own folder only"
                fi
            elif [ "$th" != "$tl.h" ]; then
                bad "$f: includes \"$inc\": only the layer headers src/<layer>/<layer>.h are shared"
            elif [ "${f%.c}" != "$f" ] && [ "$tl" != "$l" ]; then
                bad "$f: includes \"$inc\": a .c file includes its own layer's header ($l.h) only"
            elif [ "${f%.h}" != "$f" ] && [ "$tl" = "$l" ] && [ "${f%_impl.h}" = "$f" ]; then
                bad "$f: includes itself"
            fi
        elif [ -f "include/$inc" ]; then
            : # public header
        else
            bad "$f: includes \"$inc\", which is neither next to it nor in include/"
        fi
    done <"${TMPDIR:-/tmp}/check-layers.$$"
done
rm -f "${TMPDIR:-/tmp}/check-layers.$$"

# ---- calls: from the objects' symbol tables ----
obj=$(mktemp -d "${TMPDIR:-/tmp}/check-layers.XXXXXX")
trap 'rm -rf "$obj"' EXIT
for l in $LAYERS; do
    for f in src/$l/*.c; do
        [ -e "$f" ] && echo "$f"
    done
done | xargs -P "$(nproc 2>/dev/null || echo 2)" -I{} sh -c \
    'f=$1; o=$2/$(basename "$(dirname "$f")").$(basename "$f" .c).o
     ${CC:-cc} -std=c11 -O0 -w -DREGNN_BUILDING -Iinclude -c "$f" -o "$o" ||
         { echo "check-layers: $f: does not compile on its own" >&2; : >"$2/failed"; }' sh {} "$obj"
[ ! -e "$obj/failed" ] || fail=1
# "file symbol kind" for every global symbol, defined or used.
for o in "$obj"/*.o; do
    [ -e "$o" ] || continue
    n=$(basename "$o" .o)
    nm -P "$o" | awk -v n="$n" '$2 ~ /^[TDBRVWGSC]$/ || $2 == "U" { print n, $1, $2 }'
done >"$obj/syms"
# "caller callee" pairs of files (layer.file): definitions first, then uses.
awk 'FNR == NR { if ($3 != "U") def[$2] = $1; next }
     $3 == "U" && ($2 in def) && def[$2] != $1 { print $1, def[$2] }' "$obj/syms" "$obj/syms" |
    sort -u >"$obj/edges"
while read -r from to; do
    fl=${from%%.*} tl=${to%%.*}
    if [ "$(rank "$tl")" -gt "$(rank "$fl")" ]; then
        bad "src/$fl/${from#*.}.c calls src/$tl/${to#*.}.c, a higher layer"
    fi
done <"$obj/edges"
if ! tsort "$obj/edges" >/dev/null 2>"$obj/loop"; then
    bad "files call each other in a circle: $(sed -n 's/^tsort: //p' "$obj/loop" |
        grep -v 'input contains a loop' | sed 's|^\([a-z]*\)\.\(.*\)|src/\1/\2.c|' | tr '\n' ' ')"
fi

# ---- the table of docs/architecture.md ----
if [ -f docs/architecture.md ]; then
    sed -n '/<!-- layers -->/,/<!-- \/layers -->/p' docs/architecture.md | grep '^| `' |
        cut -d'|' -f1-4 | sed 's/ *$/ |/' >"$obj/doc"
    table >"$obj/want"
    if ! cmp -s "$obj/doc" "$obj/want"; then
        bad "docs/architecture.md: the layer table differs from LAYERS (want, first columns):"
        cat "$obj/want" >&2
    fi
fi

[ "$fail" = 0 ] || exit 1
echo "check-layers: $(echo $LAYERS | wc -w) layers, $(wc -l <"$obj/edges") calls between files, no include upward or sideways, no circle"
