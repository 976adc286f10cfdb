# SPDX-License-Identifier: MIT
# Golden outputs (tests/golden/): the exact results of a fixed set of small
# trainings, compared byte for byte by `make check` (test-golden); `make
# golden-update` records them again after an intended change of numerics.
# See README.md, "Golden outputs".

GOLDEN_BIN := $(BUILD)/tests/golden

# Public API (include/ only), linked with the test build of the library for
# the GEMM kernel's name.
$(GOLDEN_BIN): tests/golden/golden.c tests/golden/sha256.h tests/dp_emulate.h $(BUILD)/libregnn_test.a
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CFLAGS) $(OPT_FLAGS) -DREGNN_STATIC -Iinclude -Itests -pthread -o $@ $< \
	    $(BUILD)/libregnn_test.a $(LIBS)

.PHONY: test-golden golden-update
test-golden: $(GOLDEN_BIN)
	OPENBLAS_NUM_THREADS=1 timeout 600 sh tests/test_golden.sh check $(GOLDEN_BIN)

golden-update: $(GOLDEN_BIN)
	OPENBLAS_NUM_THREADS=1 timeout 600 sh tests/test_golden.sh update $(GOLDEN_BIN)

CHECK_TARGETS += test-golden
