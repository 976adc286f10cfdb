# SPDX-License-Identifier: MIT
# ARM64: `make check-arm64` cross-builds the library (built-in GEMM: the NEON
# and portable kernels) with Debian's aarch64 gcc, then runs the C test suites
# and the golden program under qemu-user, the golden outputs of both kernels
# compared byte for byte with tests/golden/expected (recorded on x86-64). Static
# binaries, so qemu needs no ARM64 C library. Needs (arm64-deps says so):
#   dpkg --add-architecture arm64 && apt-get update
#   apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static \
#       check:arm64 libsubunit-dev:arm64
#   ARM64_SUITES  the suites to run (default: every tests/check_*.c)
#   ARM64_CC      the cross compiler (clang --target=aarch64-linux-gnu works too,
#                 with ARM64_BUILD=build/arm64-clang)
# See docs/reproducibility.md.

ARM64_CC      ?= aarch64-linux-gnu-gcc
ARM64_QEMU    ?= qemu-aarch64-static
ARM64_BUILD   ?= build/arm64
ARM64_SUITES  ?= $(TEST_SRCS:tests/%.c=%)
ARM64_CFLAGS  := $(WARN) -O3 -g $(OPT_FLAGS) -DREGNN_TESTING -DREGNN_STATIC -Iinclude -Isrc
ARM64_LIBS    := -static -lm -lpthread
ARM64_CHECK   := -lcheck -lsubunit -lrt -lm -pthread

ARM64_OBJS := $(SRCS:src/%.c=$(ARM64_BUILD)/obj/%.o)

.PHONY: arm64-deps
arm64-deps:
	@command -v $(firstword $(ARM64_CC)) >/dev/null && command -v $(ARM64_QEMU) >/dev/null && \
	  test -f /usr/lib/aarch64-linux-gnu/libcheck.a || { \
	  echo "make check-arm64 needs: dpkg --add-architecture arm64 && apt-get update &&" >&2; \
	  echo "  apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static check:arm64 libsubunit-dev:arm64" >&2; \
	  exit 1; }

$(ARM64_BUILD)/obj/%.o: src/%.c $(PRIV_HDRS) include/regnn.h | arm64-deps
	@mkdir -p $(@D)
	$(ARM64_CC) $(ARM64_CFLAGS) -c $< -o $@

$(ARM64_BUILD)/libregnn_test.a: $(ARM64_OBJS)
	rm -f $@
	$(AR) rcs $@ $^

$(ARM64_BUILD)/tests/golden: tests/golden/golden.c tests/golden/sha256.h tests/dp_emulate.h \
    $(ARM64_BUILD)/libregnn_test.a
	@mkdir -p $(@D)
	$(ARM64_CC) $(WARN) -O3 -g $(OPT_FLAGS) -DREGNN_STATIC -Iinclude -Itests -pthread -o $@ $< \
	    $(ARM64_BUILD)/libregnn_test.a $(ARM64_LIBS)

$(ARM64_BUILD)/tests/check_%: tests/check_%.c $(ARM64_BUILD)/libregnn_test.a $(TEST_HDRS)
	@mkdir -p $(@D)
	$(ARM64_CC) $(ARM64_CFLAGS) -Itests -o $@ $< $(ARM64_BUILD)/libregnn_test.a -static \
	    $(ARM64_CHECK)

.PHONY: check-arm64 arm64-build
arm64-build: $(ARM64_BUILD)/tests/golden $(ARM64_SUITES:%=$(ARM64_BUILD)/tests/%)

# Each suite and the golden run under a time limit: qemu is far slower.
check-arm64: arm64-build
	@fail=0; for t in $(ARM64_SUITES); do echo "== arm64 $$t"; \
	  CK_DEFAULT_TIMEOUT=600 REGNN_TEST_RUNNER=$(ARM64_QEMU) timeout 900 $(ARM64_QEMU) $(ARM64_BUILD)/tests/$$t || fail=1; done; \
	  if [ $$fail -ne 0 ]; then echo "check-arm64: C test suites FAILED" >&2; exit 1; fi
	GOLDEN_RUNNER=$(ARM64_QEMU) timeout 600 \
	    sh tests/test_golden.sh check $(ARM64_BUILD)/tests/golden
