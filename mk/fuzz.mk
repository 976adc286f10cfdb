# SPDX-License-Identifier: MIT
# Fuzzing with libFuzzer (clang). Targets:
#   fuzz         build build/fuzz/fuzz_<target> (-fsanitize=fuzzer,address,undefined)
#   fuzz-run     run each target for FUZZ_SECONDS (default 60); fails on any crash
#   fuzz-replay  replay the committed corpora with the normal compiler (part of check)
#   fuzz-seeds   regenerate the model-file and path-results seeds from fuzz/gen_seeds.c
# Crash reproducers go to build/fuzz/artifacts/; copy them to fuzz/regressions/<target>/
# once fixed, so that fuzz-replay keeps checking them.

FUZZ_TARGETS := model_load csv roundtrip path_load
FUZZ_CC      ?= $(firstword $(shell command -v clang-14 clang 2>/dev/null))
FUZZ_SECONDS ?= 60
FUZZ_OUT     := build/fuzz
FUZZ_CFLAGS  := $(WARN) -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
                -fno-omit-frame-pointer -DREGNN_STATIC -DREGNN_NO_CLONES -Iinclude -Isrc
FUZZ_BINS    := $(FUZZ_TARGETS:%=$(FUZZ_OUT)/fuzz_%)
FUZZ_REPLAY  := $(FUZZ_TARGETS:%=$(BUILD)/fuzz/replay_%)
# Committed inputs of target $$t (shell): its corpus plus fixed crash reproducers.
FUZZ_INPUTS = fuzz/corpus/$$t $$( [ -d fuzz/regressions/$$t ] && echo fuzz/regressions/$$t)

.PHONY: fuzz fuzz-run fuzz-replay fuzz-seeds

fuzz: $(FUZZ_BINS)

# The library sources are compiled into each target (built-in GEMM: nothing to link).
$(FUZZ_OUT)/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz_util.h $(SRCS) $(PRIV_HDRS) include/regnn.h
	@test -n "$(FUZZ_CC)" || { echo "make fuzz needs clang: apt-get install clang" >&2; exit 1; }
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(SRCS) -lm -lpthread

fuzz-run: $(FUZZ_BINS)
	@mkdir -p $(FUZZ_OUT)/artifacts
	@fail=0; for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_OUT)/corpus/$$t; \
	  echo "== fuzz_$$t for $(FUZZ_SECONDS) s"; \
	  ./$(FUZZ_OUT)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
	      -print_final_stats=1 -artifact_prefix=$(FUZZ_OUT)/artifacts/$$t- \
	      $(FUZZ_OUT)/corpus/$$t $(FUZZ_INPUTS) || fail=1; \
	done; \
	if [ $$fail -ne 0 ]; then \
	  echo "make fuzz-run: a target crashed; reproducers in $(FUZZ_OUT)/artifacts/" >&2; exit 1; fi

$(BUILD)/fuzz/replay_%: fuzz/fuzz_%.c fuzz/replay_main.c fuzz/fuzz_util.h $(BUILD)/libregnn_test.a
	@mkdir -p $(@D)
	$(call say,CCLD,$@)$(CC) $(TEST_CFLAGS) -o $@ $< fuzz/replay_main.c $(BUILD)/libregnn_test.a $(LIBS) $(LDFLAGS)

fuzz-replay: $(FUZZ_REPLAY)
	@for t in $(FUZZ_TARGETS); do \
	  $(TEST_RUNNER) ./$(BUILD)/fuzz/replay_$$t $(FUZZ_INPUTS) || exit 1; done

$(BUILD)/fuzz/gen_seeds: fuzz/gen_seeds.c fuzz/fuzz_util.h $(BUILD)/libregnn_test.a
	@mkdir -p $(@D)
	$(call say,CCLD,$@)$(CC) $(TEST_CFLAGS) -o $@ $< $(BUILD)/libregnn_test.a $(LIBS) $(LDFLAGS)

fuzz-seeds: $(BUILD)/fuzz/gen_seeds
	@mkdir -p fuzz/corpus/model_load fuzz/corpus/roundtrip fuzz/corpus/path_load
	./$(BUILD)/fuzz/gen_seeds fuzz/corpus/model_load
	./$(BUILD)/fuzz/gen_seeds fuzz/corpus/roundtrip
	./$(BUILD)/fuzz/gen_seeds --path fuzz/corpus/path_load

CHECK_TARGETS += fuzz-replay
