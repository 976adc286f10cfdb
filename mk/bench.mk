# make bench: benchmarks against the release build (static library, same flags).
BENCH_SRCS := $(sort $(wildcard bench/*.c))
BENCH_BINS := $(BENCH_SRCS:bench/%.c=$(BUILD)/bench/%)

$(BUILD)/bench/%: bench/%.c $(STATIC)
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CFLAGS) -DREGNN_STATIC -Iinclude -Isrc $(BLAS_CFLAGS) -o $@ $< $(STATIC) $(LIBS)

.PHONY: bench
bench: $(BENCH_BINS)
	@echo "== one training step vs its GEMMs alone (study network 10-128x6-1, batch 64)"
	OPENBLAS_NUM_THREADS=1 $(BUILD)/bench/bench_step 64
	@echo "== 64-512-512-512-1 at batch 256"
	OPENBLAS_NUM_THREADS=1 $(BUILD)/bench/bench_step 256 64 512 512 512 1
