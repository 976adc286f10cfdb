# Examples: `make demo` runs the diabetes regularization study and
# leaves its figures and tables in $(DEMO_OUT)/; `make check` also runs
# tests/test_examples.sh, which asserts the study's qualitative result.
#
# BLAS threads do not pay off for these small matrices, so diabetes calls
# regnn_set_blas_threads(1) and lets regnn_regularization_path train
# independent runs on the cores (--jobs, default: one per CPU).
# Extra options: make demo DEMO_ARGS='--seeds 3'.

DEMO_OUT  ?= out
DEMO_ARGS ?=

.PHONY: demo test-examples
demo: lib examples-build
	$(BUILD)/examples/diabetes --out $(DEMO_OUT) $(DEMO_ARGS)
	@echo "make demo: figures in $(DEMO_OUT)/study.svg and $(DEMO_OUT)/lambda_sweep.svg, table in $(DEMO_OUT)/lambda_table.md"

test-examples: lib examples-build
	sh tests/test_examples.sh $(BUILD)/examples

CHECK_TARGETS += test-examples
