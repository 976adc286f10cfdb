# SPDX-License-Identifier: MIT
# make times: how long `make demo` (from clean), its study alone, the example
# test and `make demo BLAS=builtin` take here, TIMES_RUNS runs each (default
# 3), measured in a clean temporary copy of the tree; writes TIMES_OUT
# (default docs/times.md) with the ranges and the machine. Takes minutes.

TIMES_RUNS ?= 3
TIMES_OUT  ?= docs/times.md

.PHONY: times
times:
	sh scripts/measure-times.sh -n $(TIMES_RUNS) -o $(TIMES_OUT)
