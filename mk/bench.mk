# make bench: benchmarks against the release build (static library, same flags).
# BENCH_ARGS=--quick shortens the large-network runs.
BENCH_SRCS := $(sort $(wildcard bench/*.c))
BENCH_BINS := $(BENCH_SRCS:bench/%.c=$(BUILD)/bench/%)
BENCH_ARGS ?=
PYTHON ?= $(shell test -x /usr/bin/python3 && echo /usr/bin/python3 || echo python3)

$(BUILD)/bench/%: bench/%.c $(STATIC)
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CFLAGS) $(OPT_FLAGS) -DREGNN_STATIC -Iinclude -Isrc $(BLAS_CFLAGS) -o $@ $< $(STATIC) $(LIBS)

.PHONY: bench bench-torch
bench: $(BENCH_BINS)
	@echo "== libregnn benchmark suite"
	$(BUILD)/bench/bench_train $(BENCH_ARGS)
	@echo
	@echo "== one training step vs its GEMMs alone"
	$(BUILD)/bench/bench_step 64
	$(BUILD)/bench/bench_step 256 64 512 512 512 1
	@echo "== built-in GEMM vs the build's BLAS, per product of a training step"
	$(BUILD)/bench/bench_gemm
	@if [ -x $(BUILD)/bench/bench_path ]; then echo; echo "== regularization path: serial vs parallel"; \
	  $(BUILD)/bench/bench_path; fi
	@echo
	@$(MAKE) --no-print-directory bench-torch

bench-torch: $(BUILD)/bench/bench_train
	@if $(PYTHON) -c "import torch" 2>/dev/null; then \
	  $(PYTHON) bench/compare_torch.py --regnn $(BUILD)/bench/bench_train $(BENCH_ARGS); \
	else echo "bench-torch: skipped, PyTorch is not installed (apt-get install python3-torch)"; fi
