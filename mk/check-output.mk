# SPDX-License-Identifier: MIT
# What `make check` prints (scripts/check-suites.sh runs the suites and ends
# with their table; build lines are short unless V=1): tests/test_check_output.sh.
.PHONY: test-check-output
test-check-output:
	$(Q)sh tests/test_check_output.sh

CHECK_TARGETS += test-check-output
