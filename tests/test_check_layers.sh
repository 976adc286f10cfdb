#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/test_check_layers.sh - scripts/check-layers.sh fails, naming the
# files, on an include of a higher layer's header, on a .c file including a
# lower layer's header directly, on a call upward, on files calling each
# other in a circle, on a file outside a layer folder, an unknown folder, a
# shared file name and a layer table in the docs that differs from its order.
# Run by `make check` (test-check-layers in mk/docs.mk).

set -u
TMP=$(mktemp -d "${TMPDIR:-/tmp}/regnn-layers.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT INT TERM
. "$(dirname "$0")/testlib.sh"
CHECK=$(pwd)/scripts/check-layers.sh

# run "description" tree expected-exit text-the-output-must-contain
run() {
    sh "$CHECK" "$2" > "$TMP/out" 2>&1
    rc=$?
    if [ $rc -eq "$3" ] && grep -qF -- "$4" "$TMP/out"; then ok "$1"; else
        ko "$1 (exit $rc)"; cat "$TMP/out"; fi
}

# A copy of the real tree with a bad include and a circle.
real=$TMP/real
mkdir -p "$real"
git ls-files src include | tar -cf - -T - | tar -xf - -C "$real"
run "a copy of the library passes" "$real" 0 "no circle"
printf '#include "../model/model.h"\n' >> "$real/src/kernels/loss.c"
cat > "$real/src/model/ring_a.c" <<'EOF'
/* SPDX-License-Identifier: MIT */
#include "model.h"
int rg_ring_b(int n);
int rg_ring_a(int n) { return n > 0 ? rg_ring_b(n - 1) : 0; }
EOF
cat > "$real/src/model/ring_b.c" <<'EOF'
/* SPDX-License-Identifier: MIT */
#include "model.h"
int rg_ring_a(int n);
int rg_ring_b(int n) { return n > 0 ? rg_ring_a(n - 1) : 1; }
EOF
run "the copy with an include upward fails, naming it" "$real" 1 \
    'src/kernels/loss.c: includes "../model/model.h" of layer model, above kernels'
run "the copy with two files calling each other fails, naming them" "$real" 1 \
    "files call each other in a circle: src/model/ring_"
grep -q 'ring_a.c' "$TMP/out" && grep -q 'ring_b.c' "$TMP/out" &&
    ok "the circle's message names both files" || { ko "the circle names both files"; cat "$TMP/out"; }

# A small tree of two layers for the other rules.
t=$TMP/small
fresh() {
    rm -rf "$t"
    mkdir -p "$t/include" "$t/src/base" "$t/src/kernels"
    printf '/* SPDX-License-Identifier: MIT */\nint regnn_pub(void);\n' > "$t/include/regnn.h"
    printf '#include "regnn.h"\nint rg_low(void);\n' > "$t/src/base/base.h"
    printf '#include "../base/base.h"\nint rg_high(void);\n' > "$t/src/kernels/kernels.h"
    printf '#include "base.h"\nint rg_low(void) { return 1; }\n' > "$t/src/base/low.c"
    printf '#include "kernels.h"\nint rg_high(void) { return rg_low() + 1; }\n' > "$t/src/kernels/high.c"
}
fresh
run "a two-layer tree passes" "$t" 0 "no circle"
fresh
printf '#include "base.h"\nint rg_high(void);\nint rg_up(void) { return rg_high(); }\n' > "$t/src/base/up.c"
run "a call to a higher layer fails, even without its header" "$t" 1 \
    "src/base/up.c calls src/kernels/high.c, a higher layer"
fresh
printf '#include "kernels.h"\n#include "../base/base.h"\nint rg_k2(void) { return 2; }\n' > "$t/src/kernels/k2.c"
run "a .c file including a lower layer's header directly fails" "$t" 1 \
    "src/kernels/k2.c: includes \"../base/base.h\": a .c file includes its own layer's header"
fresh
printf '#include "../kernels/kernels.h"\nint rg_low(void);\n' > "$t/src/base/base.h"
run "a layer header including a higher one fails" "$t" 1 \
    'src/base/base.h: includes "../kernels/kernels.h" of layer kernels, above base'
fresh
printf 'int rg_flat(void) { return 0; }\n' > "$t/src/flat.c"
run "a source file outside the layer folders fails" "$t" 1 "src/flat.c: every source file belongs in a layer folder"
fresh
mkdir -p "$t/src/extra"
run "a folder that is not a layer fails" "$t" 1 "src/extra: not a layer"
fresh
printf '#include "kernels.h"\nint rg_other(void) { return 3; }\n' > "$t/src/kernels/low.c"
run "two files of one name fail" "$t" 1 "source files share a name: low.c"
fresh
printf '#include "base.h"\nstruct rg_s { int a; };\n' > "$t/src/base/low_impl.h"
printf '#include "low_impl.h"\nint rg_low(void) { struct rg_s s = {1}; return s.a; }\n' > "$t/src/base/low.c"
run "a layer-internal header included by its folder's .c files passes" "$t" 0 "no circle"
printf '#include "../base/base.h"\n#include "../base/low_impl.h"\nint rg_high(void);\n' > "$t/src/kernels/kernels.h"
run "a layer-internal header included from a higher layer fails" "$t" 1 \
    'src/kernels/kernels.h: includes "../base/low_impl.h": a layer-internal header'
fresh
printf '#include "base.h"\nstruct rg_s { int a; };\n' > "$t/src/base/low_impl.h"
printf '#include "regnn.h"\n#include "low_impl.h"\nint rg_low(void);\n' > "$t/src/base/base.h"
run "a layer header including its layer-internal header fails" "$t" 1 \
    'src/base/base.h: includes "low_impl.h": a layer-internal header'
fresh
mkdir -p "$t/docs"
{ echo '<!-- layers -->'; sh "$CHECK" --table; echo '<!-- /layers -->'; } > "$t/docs/architecture.md"
run "a docs table from the layer order passes" "$t" 0 "no circle"
sed -i 's/`parallel` |/`parallelism` |/' "$t/docs/architecture.md"
run "a docs table that differs from the order fails" "$t" 1 "docs/architecture.md: the layer table differs"

echo "test_check_layers: $pass passed, $fail failed"
[ $fail -eq 0 ]
