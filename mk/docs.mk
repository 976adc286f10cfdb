# SPDX-License-Identifier: MIT
# Documentation checks, part of `make check`:
#   check-docs         scripts/check-docs.py: docs/api.md names every function,
#                      enum constant, macro and type of include/regnn.h, with
#                      prototypes equal to the header's, and docs/scaling.md
#                      those of include/regnn_mpi.h; then
#                      tests/test_check_docs.sh, which shows the checker fails
#                      when the reference falls behind; and
#                      scripts/docs-toc.py: the contents of docs/api.md and
#                      docs/architecture.md are those of their headings (make
#                      docs-toc rewrites them).
#   test-docs-example  the persistence example of docs/api.md, compiled against
#                      $(BUILD)/lib/libregnn.so and run (tests/test_docs_example.sh).
# Python 3 standard library only; /usr/bin/python3 is preferred, DOCS_PYTHON=... overrides.

DOCS_PYTHON ?= $(if $(wildcard /usr/bin/python3),/usr/bin/python3,python3)

.PHONY: check-docs test-docs-example docs-toc
# The table of contents of docs/api.md, rewritten from its headings
# (check-docs fails when it is stale, or when a link to docs/api.md#... names
# no heading).
docs-toc:
	$(Q)$(DOCS_PYTHON) scripts/docs-toc.py --update docs/api.md
	$(Q)$(DOCS_PYTHON) scripts/docs-toc.py --update docs/architecture.md

check-docs:
	$(Q)$(DOCS_PYTHON) scripts/check-docs.py --header include/regnn.h --doc docs/api.md
	$(Q)$(DOCS_PYTHON) scripts/check-docs.py --header include/regnn_mpi.h --doc docs/scaling.md \
	    --api-macro REGNN_MPI_API
	$(Q)$(DOCS_PYTHON) scripts/docs-toc.py docs/api.md --links README.md $(wildcard docs/*.md) examples/README.md
	$(Q)$(DOCS_PYTHON) scripts/docs-toc.py docs/architecture.md --links README.md $(wildcard docs/*.md)
	$(Q)sh tests/test_check_docs.sh $(DOCS_PYTHON)

test-docs-example: $(OUT)/libregnn.so
	$(Q)CC='$(CC)' CFLAGS='$(WARN) $(CFLAGS)' LIBDIR=$(OUT) sh tests/test_docs_example.sh docs/api.md

CHECK_TARGETS += check-docs test-docs-example

# Numbers in the docs that come from a run (scripts/docs-numbers.py):
#   docs-numbers        reruns the runs and rewrites the docs' generated
#                       blocks, numbers and docs/figures/;
#   check-docs-numbers  reruns them (cached in $(BUILD)/docs-numbers by the
#                       bytes of the programs, library and data) and fails
#                       when a number differs; then tests/test_docs_numbers.sh.
# $(BUILD)/tests/gemm_kernel tells which GEMM arithmetic this CPU runs.
DOCS_NUMBERS = $(DOCS_PYTHON) scripts/docs-numbers.py --build $(BUILD)
DOCS_NUMBERS_DEPS = lib examples-build cli $(BUILD)/tests/gemm_kernel

$(BUILD)/tests/gemm_kernel: tests/gemm_kernel.c $(BUILD)/libregnn_test.a
	@mkdir -p $(@D)
	$(Q)$(CC) $(TEST_CFLAGS) -o $@ $< $(BUILD)/libregnn_test.a $(LIBS)

.PHONY: docs-numbers check-docs-numbers
docs-numbers: $(DOCS_NUMBERS_DEPS)
	$(Q)$(DOCS_NUMBERS) --update

check-docs-numbers: $(DOCS_NUMBERS_DEPS)
	$(Q)$(DOCS_NUMBERS)
	$(Q)sh tests/test_docs_numbers.sh $(DOCS_PYTHON) $(BUILD)

CHECK_TARGETS += check-docs-numbers

# The version: VERSION above, and every copy of it (scripts/check-version.sh),
# including what the built regnn program prints.
.PHONY: check-version
check-version: cli
	$(Q)sh scripts/check-version.sh --regnn $(CLI_BIN)

CHECK_TARGETS += check-version

# The README's lines for a program built against an installed library:
# make install into a temporary PREFIX, then the pkg-config line without and
# with the run path (tests/test_install.sh).
.PHONY: test-install
test-install: lib-build cli
	+$(Q)MAKE='$(MAKE)' CC='$(CC)' sh tests/test_install.sh BLAS=$(BLAS) $(if $(BUILDTAG),BUILDTAG=$(BUILDTAG))

CHECK_TARGETS += test-install

# SPDX identifiers: check-spdx fails when a source file lacks
# `SPDX-License-Identifier: MIT` (scripts/check-spdx.sh); test-check-spdx
# shows the script tells such a tree apart.
.PHONY: check-spdx test-check-spdx
check-spdx:
	$(Q)sh scripts/check-spdx.sh

test-check-spdx:
	$(Q)sh tests/test_check_spdx.sh

CHECK_TARGETS += check-spdx test-check-spdx

# Layers of src/ (docs/architecture.md): check-layers fails on an include
# upward or sideways, a call upward and any circle between files
# (scripts/check-layers.sh); test-check-layers shows it fails on such trees.
.PHONY: check-layers test-check-layers
check-layers:
	$(Q)CC='$(CC)' sh scripts/check-layers.sh

test-check-layers:
	$(Q)CC='$(CC)' sh tests/test_check_layers.sh

CHECK_TARGETS += check-layers test-check-layers

# No function of the library over 100 lines (scripts/check-function-length.sh).
.PHONY: check-function-length test-check-function-length
check-function-length:
	$(Q)sh scripts/check-function-length.sh

test-check-function-length:
	$(Q)sh tests/test_check_function_length.sh

CHECK_TARGETS += check-function-length test-check-function-length

# README's vendoring recipe, as written (tests/test_vendor.sh).
.PHONY: test-vendor
test-vendor:
	$(Q)sh tests/test_vendor.sh

CHECK_TARGETS += test-vendor
