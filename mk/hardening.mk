# Header hygiene, exported symbols, ABI gate, sanitizers, coverage and static analysis.

CXX ?= c++
HDR_FLAGS := -Wall -Wextra -Wpedantic -Werror -Iinclude -c -o /dev/null

.PHONY: test-header test-exports abi-dump abi-check coverage analyze tsan
test-header:
	$(CC) -std=c99 $(HDR_FLAGS) tests/header_test.c
	$(CC) -std=c11 $(HDR_FLAGS) tests/header_test.c
	$(CXX) -std=c++11 -x c++ $(HDR_FLAGS) tests/header_test.c
	@echo "test-header: regnn.h compiles alone as C99, C11 and C++11"

test-exports: $(SO_REAL)
	scripts/check-exports.sh $(SO_REAL) include/regnn.h

CHECK_TARGETS += test-header test-exports

# ThreadSanitizer (clang): the thread suite plus the model and fit suites.
TSAN_SUITES := check_threads check_model check_fit
tsan:
	$(MAKE) --no-print-directory CC=clang BUILDTAG=tsan WERROR=$(WERROR) \
	    CFLAGS="-O1 -g -fsanitize=thread" $(TSAN_SUITES:%=build/$(BLAS)-tsan/tests/%)
	@for t in $(TSAN_SUITES); do echo "== tsan $$t"; \
	  OPENBLAS_NUM_THREADS=1 TSAN_OPTIONS="halt_on_error=1 exitcode=66" CK_FORK=no \
	    build/$(BLAS)-tsan/tests/$$t || exit 1; done
