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
