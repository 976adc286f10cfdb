# SPDX-License-Identifier: MIT
# Examples: `make demo` runs the diabetes regularization study and the
# comparison of regularizers, and leaves their figures and tables in $(DEMO_OUT)/; `make check` also runs
# tests/test_examples.sh, which asserts the study's qualitative result.
#
# BLAS threads do not pay off for these small matrices, so diabetes calls
# regnn_set_blas_threads(1) and lets regnn_regularization_path train
# independent runs on the cores (--jobs, default: one per CPU).
# Extra options: make demo DEMO_ARGS='--seeds 3'.

DEMO_OUT  ?= out
DEMO_ARGS ?=

# The build runs in parallel, one job per CPU: demo-build does it in a sub-make
# first, then lib and examples-build find nothing left to do. A make given its
# own -j (or -j1) builds them itself as usual.
DEMO_JOBS = $(shell nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)

.PHONY: demo demo-build demo-prereqs test-examples
demo: demo-build lib examples-build
	$(BUILD)/examples/diabetes --out $(DEMO_OUT) $(DEMO_ARGS)
	$(BUILD)/examples/regularizers --out $(DEMO_OUT)
	@echo "make demo: figures in $(DEMO_OUT)/study.svg, $(DEMO_OUT)/lambda_sweep.svg and $(DEMO_OUT)/regularizers.svg, tables in $(DEMO_OUT)/lambda_table.md and $(DEMO_OUT)/regularizers.md"

demo-build:
	+@$(if $(filter -j%,$(MAKEFLAGS)),:,echo "make demo: building with -j$(DEMO_JOBS)"; \
	  $(MAKE) --no-print-directory -j$(DEMO_JOBS) BLAS=$(BLAS) demo-prereqs)

# A recipe, so that an up-to-date build prints nothing.
demo-prereqs: lib examples-build
	@:

test-examples: lib examples-build
	$(Q)sh tests/test_examples.sh $(BUILD)/examples

CHECK_TARGETS += test-examples
