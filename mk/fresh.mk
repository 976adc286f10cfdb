# SPDX-License-Identifier: MIT
# make fresh-check: the README's quick start (make demo, make check) on a
# freshly bootstrapped minimal Debian 12, then again after the README's
# optional apt-get line (scripts/fresh-check.sh; needs root and the Debian
# mirror; CI runs it). FRESH_TIMEOUT: seconds for the whole check.
FRESH_TIMEOUT ?= 2400

.PHONY: fresh-check
fresh-check:
	timeout -k 60 $(FRESH_TIMEOUT) sh scripts/fresh-check.sh

# Its reading of README.md and of the apt sources, without root (part of make check).
.PHONY: test-fresh-plan
test-fresh-plan:
	$(Q)sh tests/test_fresh_plan.sh

CHECK_TARGETS += test-fresh-plan
