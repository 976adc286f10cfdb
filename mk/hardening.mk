# SPDX-License-Identifier: MIT
# Header hygiene, exported symbols, ABI gate, sanitizers, coverage and static analysis.

CXX ?= c++
HDR_FLAGS := -Wall -Wextra -Wpedantic -Werror -Iinclude -c -o /dev/null

.PHONY: test-header test-exports abi-dump abi-check coverage analyze tsan
test-header:
	$(Q)$(CC) -std=c99 $(HDR_FLAGS) tests/header_test.c
	$(Q)$(CC) -std=c11 $(HDR_FLAGS) tests/header_test.c
	$(Q)$(CXX) -std=c++11 -x c++ $(HDR_FLAGS) tests/header_test.c
	@echo "test-header: regnn.h compiles alone as C99, C11 and C++11"

test-exports: $(SO_REAL)
	$(Q)scripts/check-exports.sh $(SO_REAL) include/regnn.h

CHECK_TARGETS += test-header test-exports

# The rounding functions of the C library the shared library calls are those
# docs/reproducibility.md lists (scripts/check-libm.sh); test-check-libm shows
# the check fails on a table with a row missing or one too many.
.PHONY: check-libm test-check-libm
check-libm: $(SO_REAL)
	$(Q)CC='$(CC)' sh scripts/check-libm.sh $(SO_REAL)

test-check-libm: $(SO_REAL)
	$(Q)CC='$(CC)' sh tests/test_check_libm.sh $(SO_REAL)

CHECK_TARGETS += check-libm test-check-libm

# ThreadSanitizer (clang): the thread suite plus the model and fit suites.
TSAN_SUITES := check_threads check_pool check_model check_fit check_path
tsan:
	$(MAKE) --no-print-directory CC=clang BUILDTAG=tsan WERROR=$(WERROR) \
	    CFLAGS="-O1 -g -fsanitize=thread" $(TSAN_SUITES:%=build/$(BLAS)-tsan/tests/%)
	@for t in $(TSAN_SUITES); do echo "== tsan $$t"; \
	  OPENBLAS_NUM_THREADS=1 TSAN_OPTIONS="halt_on_error=1 exitcode=66" CK_FORK=no \
	    build/$(BLAS)-tsan/tests/$$t || exit 1; done

# Line and branch coverage of src/ by the C suites (gcovr). Atomic counters:
# the thread and path suites update them from several threads.
COV_MIN_LINES ?= 90
COV_MIN_BRANCHES ?= 75
coverage:
	rm -rf build/$(BLAS)-cov
	$(MAKE) --no-print-directory BUILDTAG=cov CFLAGS="-O0 -g --coverage -fprofile-update=atomic" test-c
	gcovr -r . --object-directory build/$(BLAS)-cov/tobj --filter 'src/' --exclude-unreachable-branches \
	    --print-summary --txt build/$(BLAS)-cov/coverage.txt \
	    --fail-under-line $(COV_MIN_LINES) --fail-under-branch $(COV_MIN_BRANCHES)

# Static analysis: cppcheck and gcc's analyzer over the library sources.
analyze:
	cppcheck --enable=warning,style,performance,portability --std=c11 --inline-suppr \
	    --error-exitcode=1 --quiet --suppress=missingIncludeSystem -Iinclude -Isrc -DREGNN_BUILDING src/
	@for f in $(SRCS); do \
	  gcc -std=c11 -O1 -fanalyzer -Werror -Iinclude -Isrc $(BLAS_CFLAGS) -c $$f -o /dev/null || exit 1; \
	done
	@echo "analyze: cppcheck and gcc -fanalyzer found nothing"

# ABI gate: the committed baseline abi/libregnn.abi (libabigail) against a fresh
# -g build of the shared library. Additions pass; any other change fails.
ABI_SO := build/abi/libregnn.so
$(ABI_SO): $(SRCS) include/regnn.h $(PRIV_HDRS) src/libregnn.map
	@mkdir -p $(@D)
	$(call say,CCLD,$@)$(CC) $(WARN) -O2 -g $(OPT_FLAGS) -fPIC -fvisibility=hidden -DREGNN_BUILDING -Iinclude $(BLAS_CFLAGS) \
	    -shared -Wl,-soname,$(SO_NAME) -Wl,--version-script=src/libregnn.map -o $@ $(SRCS) $(LIBS)

abi-dump: $(ABI_SO)
	@mkdir -p abi
	abidw --headers-dir include --drop-private-types --no-comp-dir-path --no-corpus-path \
	    --short-locs --out-file abi/libregnn.abi $(ABI_SO)
	@echo "abi-dump: wrote abi/libregnn.abi; commit it with the API change"

abi-check: $(ABI_SO)
	@readelf -S $(ABI_SO) | grep -q '\.debug_info' || { echo "abi-check: no DWARF in $(ABI_SO)"; exit 1; }
	@test -f abi/libregnn.abi || { echo "abi-check: abi/libregnn.abi is missing (make abi-dump)"; exit 1; }
	abidiff --no-added-syms --drop-private-types --headers-dir2 include abi/libregnn.abi $(ABI_SO) \
	    && echo "abi-check: compatible with abi/libregnn.abi"
