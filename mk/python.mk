# SPDX-License-Identifier: MIT
# Python binding: `make test-python` runs python/tests/ (unittest,
# with numpy and, in a subprocess, without it) against $(BUILD)/lib/libregnn.so, and
# compares the binding's results bit for bit with python/tests/c_reference.c,
# built here against the shared library exactly as a user program would be.
# Part of `make check`. Debian's /usr/bin/python3 is preferred (it sees
# python3-numpy / python3-matplotlib, and python3-sklearn, -pandas, -distributed and
# -mpi4py, whose tests skip with a message when missing); PYTHON=... overrides.

PYTHON ?= $(if $(wildcard /usr/bin/python3),/usr/bin/python3,python3)
PY_REF := $(BUILD)/python/c_reference

$(PY_REF): python/tests/c_reference.c include/regnn.h $(OUT)/libregnn.so
	@mkdir -p $(@D)
	$(call say,CCLD,$@)$(CC) $(WARN) $(CFLAGS) -Iinclude -o $@ $< -L$(OUT) -lregnn -Wl,-rpath,'$$ORIGIN/../lib' -lm $(LDFLAGS)

.PHONY: test-python
test-python: lib $(PY_REF)
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 6))' || { \
	  echo "make test-python needs Python >= 3.6: sudo apt-get install python3 python3-numpy" >&2; exit 1; }
	$(Q)REGNN_LIBRARY=$(abspath $(OUT)/libregnn.so) REGNN_C_REFERENCE=$(abspath $(PY_REF)) \
	REGNN_C_DIABETES=$(abspath $(BUILD)/examples/diabetes) \
	REGNN_C_REGULARIZERS=$(abspath $(BUILD)/examples/regularizers) PYTHONDONTWRITEBYTECODE=1 \
	    $(PYTHON) python/tests/run_tests.py -q

CHECK_TARGETS += test-python

# The pip package: wheel and `pip install .` into fresh venvs, offline, then the
# suite against the installed copy from outside the tree (tests/test_pip_install.sh;
# skips when python3 lacks venv, pip, setuptools or wheel).
.PHONY: test-pip
test-pip:
	$(Q)PYTHON=$(PYTHON) sh tests/test_pip_install.sh

CHECK_TARGETS += test-pip
