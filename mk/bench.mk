# SPDX-License-Identifier: MIT
# make bench: benchmarks against the release build (static library, same flags).
# BENCH_ARGS=--quick shortens the large-network runs.
#
# With OpenBLAS, the built-in build's bench programs are built too (in
# build/builtin, from a sub-make: it leaves lib/ alone), and bench/targets.py
# prints issue 15's target table from both builds' figures of this run. The
# GEMM comparison adds libxsmm's JIT kernels when its header is installed
# (Debian: libxsmm-dev). BENCH_PATH_SEEDS: seeds of the whole-study run
# (bench_path, 6 lambdas, 100 epochs), per build.
#
# What ran: OpenBLAS at its own choice of kernels for this CPU (BENCH_ENV
# removes OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE; the C programs also restart
# themselves without them, bench/benchreport.h), every row naming the kernels
# of its products, and the figures as JSON lines in $(BUILD)/bench/*.jsonl.
# The OpenBLAS column of issue 15's table runs the OpenBLAS build with
# BENCH_OPENBLAS_ENV: REGNN_OPENBLAS_LARGE=1, and on AVX-512 CPUs (where the
# library keeps every product on its AVX-512 kernel) REGNN_GEMM_KERNEL=avx2-fma,
# the only settings under which the library gives products to OpenBLAS.
BENCH_SRCS := $(sort $(wildcard bench/*.c))
BENCH_BINS := $(BENCH_SRCS:bench/%.c=$(BUILD)/bench/%)
BENCH_ARGS ?=
BENCH_PATH_SEEDS ?= 3
PYTHON ?= $(shell test -x /usr/bin/python3 && echo /usr/bin/python3 || echo python3)
XSMM_INC := $(shell $(PKG_CONFIG) --variable=includedir libxsmm 2>/dev/null)
XSMM_OK  := $(if $(XSMM_INC),$(wildcard $(XSMM_INC)/libxsmm.h))
XSMM_CFLAGS := $(if $(XSMM_OK),-DREGNN_BENCH_LIBXSMM $(shell $(PKG_CONFIG) --cflags libxsmm))
XSMM_LIBS   := $(if $(XSMM_OK),$(shell $(PKG_CONFIG) --libs libxsmm) $(if $(filter openblas,$(BLAS)),,-lxsmmnoblas))
BENCH_ENV := env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE
BENCH_OPENBLAS_ENV = REGNN_OPENBLAS_LARGE=1 $$(grep -qw avx512f /proc/cpuinfo && echo REGNN_GEMM_KERNEL=avx2-fma)
BENCH_JSON = $(BUILD)/bench/train.jsonl $(BUILD)/bench/openblas-large.jsonl $(BUILD)/bench/gemm.jsonl \
    $(BUILD)/bench/threads.jsonl
BENCH_CC = $(CC) $(WARN) $(CFLAGS) $(OPT_FLAGS) -DREGNN_STATIC -Iinclude -Isrc $(BLAS_CFLAGS)

$(BUILD)/bench/%: bench/%.c bench/benchutil.h bench/benchreport.h $(STATIC)
	@mkdir -p $(@D)
	$(call say,CCLD,$@)$(BENCH_CC) -o $@ $< $(STATIC) $(LIBS)

# Rebuilt when libxsmm comes or goes.
$(BUILD)/bench/.xsmm: FORCE
	@mkdir -p $(@D)
	@echo '$(XSMM_OK)' | cmp -s - $@ || echo '$(XSMM_OK)' > $@

$(BUILD)/bench/bench_gemm: bench/bench_gemm.c bench/benchutil.h bench/benchreport.h $(STATIC) $(BUILD)/bench/.xsmm
	@mkdir -p $(@D)
	$(call say,CCLD,$@)$(BENCH_CC) $(XSMM_CFLAGS) -o $@ bench/bench_gemm.c $(STATIC) $(XSMM_LIBS) $(LIBS)

BUILTIN_BENCH := build/builtin/bench/bench_train build/builtin/bench/bench_path

.PHONY: bench bench-builtin bench-torch bench-build
# The bench programs without running them (CI builds them so they keep compiling).
bench-build: $(BENCH_BINS)

bench-builtin:
	+@$(if $(filter openblas,$(BLAS)),$(MAKE) --no-print-directory BLAS=builtin BUILDTAG= $(BUILTIN_BENCH),:)

bench: $(BENCH_BINS) bench-builtin
	@echo "== libregnn benchmark suite ($(BLAS) build)"
	$(BENCH_ENV) $(BUILD)/bench/bench_train $(BENCH_ARGS) --csv-file $(BUILD)/bench/train.csv --json $(BUILD)/bench/train.jsonl
	@echo
	@echo "== issue 15 targets: built-in vs OpenBLAS builds, this run"
	$(if $(filter openblas,$(BLAS)),build/builtin/bench/bench_train --csv $(BENCH_ARGS) > build/builtin/bench/train.csv)
	$(if $(filter openblas,$(BLAS)),$(BENCH_ENV) $(BENCH_OPENBLAS_ENV) $(BUILD)/bench/bench_train --csv $(BENCH_ARGS) \
	    --json $(BUILD)/bench/openblas-large.jsonl > $(BUILD)/bench/openblas-large.csv)
	$(BENCH_ENV) $(PYTHON) bench/targets.py --train $(BLAS)=$(BUILD)/bench/$(if $(filter openblas,$(BLAS)),openblas-large,train).csv --peak $(BUILD)/bench/bench_peak \
	    --path $(BLAS)=$(BUILD)/bench/bench_path --path-seeds $(BENCH_PATH_SEEDS) \
	    $(if $(filter openblas,$(BLAS)),--train builtin=build/builtin/bench/train.csv --path builtin=build/builtin/bench/bench_path)
	@echo
	@echo "== built-in GEMM vs OpenBLAS vs libxsmm, per product of a training step"
	$(BENCH_ENV) $(BUILD)/bench/bench_gemm --json $(BUILD)/bench/gemm.jsonl
	@echo "== one-row predict of the study network vs its products alone, reading its weights, two cores"
	$(BUILD)/bench/bench_predict
	@echo
	@echo "== one training step vs its GEMMs alone"
	$(BUILD)/bench/bench_step 64
	$(BUILD)/bench/bench_step 256 64 512 512 512 1
	@echo
	@rm -f $(BUILD)/bench/torch.json
	@$(MAKE) --no-print-directory bench-torch BENCH_CSV=$(BUILD)/bench/train.csv BENCH_TORCH_JSON=$(BUILD)/bench/torch.json
	@echo
	@echo "== issue 13 targets: one model on 2 threads, this run"
	$(BENCH_ENV) $(PYTHON) bench/thread_targets.py --threads $(BUILD)/bench/threads.csv --torch $(BUILD)/bench/torch.json
	@echo
	@echo "== oversubscription: 64 threads vs one per usable CPU, target <= 1.25x"
	$(BUILD)/bench/bench_oversub
	@echo
	@echo "== results as JSON lines (CPU, kernels, OpenBLAS core, threads, load average, figures):"
	@for f in $(BENCH_JSON); do if test -f $$f; then echo "  $$f"; fi; done

bench-torch: $(BUILD)/bench/bench_train
	@if $(PYTHON) -c "import torch" 2>/dev/null; then \
	  $(BENCH_ENV) $(PYTHON) bench/compare_torch.py $(if $(BENCH_CSV),--regnn-csv $(BENCH_CSV),--regnn $(BUILD)/bench/bench_train) $(if $(BENCH_TORCH_JSON),--json-out $(BENCH_TORCH_JSON)) $(BENCH_ARGS); \
	else echo "bench-torch: skipped, PyTorch is not installed (apt-get install python3-torch)"; fi

# What the bench says it ran, without timing (tests/test_bench.sh): the results
# file's fields, each product's kernel by the library's rule, and
# OPENBLAS_CORETYPE kept away from OpenBLAS.
.PHONY: test-bench
test-bench: $(BUILD)/bench/bench_gemm
	$(Q)PYTHON=$(PYTHON) timeout 900 sh tests/test_bench.sh $(BUILD)/bench/bench_gemm

CHECK_TARGETS += test-bench

# Interleaved A/B training speed against another revision (bench/bench_ab.c,
# best of REPS): make bench-ab AB_BASE=v1.2.0
.PHONY: bench-ab
bench-ab:
	BLAS=$(BLAS) sh scripts/ab-speed.sh $(if $(AB_BASE),$(AB_BASE),$(error bench-ab: set AB_BASE=<revision>))
