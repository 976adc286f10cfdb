# SPDX-License-Identifier: MIT
# libregnn_mpi (include/regnn_mpi.h, src/mpi/): the companion library for MPI,
# built by `make all` when $(MPICC) (default mpicc) is found, skipped with a
# message otherwise. libregnn itself never includes src/mpi/. Targets:
#   mpi         $(BUILD)/lib/libregnn_mpi.so, regnn_mpi.pc and the MPI examples
#   test-mpi    tests/test_mpi.sh: mpirun -np 1, 2, 4 of both jobs and of a
#               failing rank, each under `timeout` (part of `make check`;
#               skipped with a message when mpicc or mpirun is missing)
#   bench-mpi   scripts/measure-mpi.sh (1 vs 2 ranks) and scripts/cost-model.sh
#               (docs/scaling.md)

MPICC  ?= mpicc
MPIRUN ?= mpirun
HAVE_MPICC  := $(if $(shell command -v $(MPICC) 2>/dev/null),1)
HAVE_MPIRUN := $(if $(shell command -v $(MPIRUN) 2>/dev/null),1)

MPI_SO_REAL := $(OUT)/libregnn_mpi.so.$(VERSION)
MPI_SO_NAME := libregnn_mpi.so.$(ABI)
MPI_EXAMPLES := $(BUILD)/examples/mpi_path $(BUILD)/examples/mpi_fit
MPI_CHECK := $(BUILD)/tests/mpi_check
MPI_CFLAGS := $(WARN) $(CFLAGS) -Iinclude

.PHONY: mpi test-mpi bench-mpi install-mpi uninstall-mpi
all: mpi

ifeq ($(HAVE_MPICC),1)
mpi: $(MPI_SO_REAL) $(OUT)/libregnn_mpi.so.$(ABI) $(OUT)/libregnn_mpi.so $(OUT)/regnn_mpi.pc $(MPI_EXAMPLES)

$(BUILD)/mpi/regnn_mpi.o: src/mpi/regnn_mpi.c include/regnn_mpi.h include/regnn.h
	@mkdir -p $(@D)
	$(call say,CC,$@)$(MPICC) $(MPI_CFLAGS) -fPIC -fvisibility=hidden -c $< -o $@

$(MPI_SO_REAL): $(BUILD)/mpi/regnn_mpi.o src/mpi/libregnn_mpi.map $(OUT)/libregnn.so
	$(call say,CCLD,$@)$(MPICC) $(CFLAGS) -shared -Wl,-soname,$(MPI_SO_NAME) -Wl,--version-script=src/mpi/libregnn_mpi.map \
	    -Wl,--no-undefined -o $@ $< -L$(OUT) -lregnn $(LDFLAGS)
$(OUT)/libregnn_mpi.so.$(ABI): $(MPI_SO_REAL)
	$(Q)ln -sf libregnn_mpi.so.$(VERSION) $@
$(OUT)/libregnn_mpi.so: $(OUT)/libregnn_mpi.so.$(ABI)
	$(Q)ln -sf libregnn_mpi.so.$(ABI) $@

$(OUT)/regnn_mpi.pc: pkgconfig/regnn_mpi.pc.in
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(libdir)|' -e 's|@INCLUDEDIR@|$(includedir)|' \
	    -e 's|@VERSION@|$(VERSION)|' $< > $@

# Linked as a user would: -lregnn_mpi -lregnn, with mpicc.
$(BUILD)/examples/mpi_%: examples/mpi_%.c $(OUT)/libregnn_mpi.so
	@mkdir -p $(@D)
	$(call say,CCLD,$@)$(MPICC) $(MPI_CFLAGS) -o $@ $< -L$(OUT) -lregnn_mpi -lregnn -Wl,-rpath,'$$ORIGIN/../lib' -lm

$(MPI_CHECK): tests/mpi/mpi_check.c tests/dp_emulate.h $(OUT)/libregnn_mpi.so
	@mkdir -p $(@D)
	$(call say,CCLD,$@)$(MPICC) $(MPI_CFLAGS) -pthread -o $@ $< -L$(OUT) -lregnn_mpi -lregnn -Wl,-rpath,'$$ORIGIN/../lib' -lm

install-mpi: mpi
	install -d $(DESTDIR)$(libdir) $(DESTDIR)$(includedir) $(DESTDIR)$(pkgconfigdir)
	install -m 644 include/regnn_mpi.h $(DESTDIR)$(includedir)/regnn_mpi.h
	install -m 755 $(MPI_SO_REAL) $(DESTDIR)$(libdir)/
	ln -sf libregnn_mpi.so.$(VERSION) $(DESTDIR)$(libdir)/libregnn_mpi.so.$(ABI)
	ln -sf libregnn_mpi.so.$(ABI) $(DESTDIR)$(libdir)/libregnn_mpi.so
	install -m 644 $(OUT)/regnn_mpi.pc $(DESTDIR)$(pkgconfigdir)/regnn_mpi.pc
install: install-mpi

ifeq ($(HAVE_MPIRUN),1)
test-mpi: $(MPI_CHECK) $(CLI_BIN)
	$(Q)MPIRUN='$(MPIRUN)' sh tests/test_mpi.sh $(MPI_CHECK) $(BUILD)/examples
bench-mpi: mpi $(MPI_CHECK) $(BUILD)/bench/bench_step
	$(Q)MPIRUN='$(MPIRUN)' sh scripts/measure-mpi.sh $(BUILD)/examples $(MPI_CHECK)
	$(Q)MPIRUN='$(MPIRUN)' sh scripts/cost-model.sh $(BUILD)/bench/bench_step $(BUILD)/examples/mpi_fit
else
test-mpi bench-mpi:
	@echo "$@: skipped, $(MPIRUN) not found (apt-get install openmpi-bin libopenmpi-dev)"
endif
else
mpi test-mpi bench-mpi install-mpi:
	@echo "$@: skipped, $(MPICC) not found: libregnn_mpi is not built (apt-get install libopenmpi-dev openmpi-bin)"
endif

uninstall-mpi:
	rm -f $(DESTDIR)$(includedir)/regnn_mpi.h $(DESTDIR)$(libdir)/libregnn_mpi.so.$(VERSION) \
	      $(DESTDIR)$(libdir)/libregnn_mpi.so.$(ABI) $(DESTDIR)$(libdir)/libregnn_mpi.so \
	      $(DESTDIR)$(pkgconfigdir)/regnn_mpi.pc
uninstall: uninstall-mpi

CHECK_TARGETS += test-mpi
