# Documentation checks, part of `make check`:
#   check-docs         scripts/check-docs.py: docs/api.md names every function,
#                      enum constant, macro and type of include/regnn.h, with
#                      prototypes equal to the header's, and docs/scaling.md
#                      those of include/regnn_mpi.h; then
#                      tests/test_check_docs.sh, which shows the checker fails
#                      when the reference falls behind.
#   test-docs-example  the persistence example of docs/api.md, compiled against
#                      $(BUILD)/lib/libregnn.so and run (tests/test_docs_example.sh).
# Python 3 standard library only; /usr/bin/python3 is preferred, DOCS_PYTHON=... overrides.

DOCS_PYTHON ?= $(if $(wildcard /usr/bin/python3),/usr/bin/python3,python3)

.PHONY: check-docs test-docs-example
check-docs:
	$(Q)$(DOCS_PYTHON) scripts/check-docs.py --header include/regnn.h --doc docs/api.md
	$(Q)$(DOCS_PYTHON) scripts/check-docs.py --header include/regnn_mpi.h --doc docs/scaling.md \
	    --api-macro REGNN_MPI_API
	$(Q)sh tests/test_check_docs.sh $(DOCS_PYTHON)

test-docs-example: $(OUT)/libregnn.so
	$(Q)CC='$(CC)' CFLAGS='$(WARN) $(CFLAGS)' LIBDIR=$(OUT) sh tests/test_docs_example.sh docs/api.md

CHECK_TARGETS += check-docs test-docs-example
