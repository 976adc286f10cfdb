# SPDX-License-Identifier: MIT
# make bench, part: data-parallel training at 1 and 2 threads (bench/bench_threads.c).
# OpenBLAS gets one thread, as docs/api.md advises when the pool trains.
.PHONY: bench-threads
bench-threads: $(BUILD)/bench/bench_threads
	@echo "== data-parallel training inside one process"
	$(BENCH_ENV) OPENBLAS_NUM_THREADS=1 $(BUILD)/bench/bench_threads $(BENCH_ARGS) --csv-file $(BUILD)/bench/threads.csv \
	    --json $(BUILD)/bench/threads.jsonl
	@echo

bench: bench-threads
