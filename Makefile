# SPDX-License-Identifier: MIT
# libregnn build. Targets: all (default), check, demo, bench, install,
# uninstall, clean. Options: BLAS=openblas|builtin (default: openblas when
# pkg-config finds it), WERROR=1, CC=..., PREFIX=..., DESTDIR=...
# (CMakeLists.txt builds the library alone, for CMake projects that vendor
# this tree with add_subdirectory; this Makefile is the primary build.)

VERSION := 1.3.0
ABI     := 1

PREFIX      ?= /usr/local
exec_prefix ?= $(PREFIX)
libdir      ?= $(exec_prefix)/lib
includedir  ?= $(PREFIX)/include
pkgconfigdir ?= $(libdir)/pkgconfig
# Not configurable: regnnConfig.cmake finds the library at ../.. from here.
cmakedir    := $(libdir)/cmake/regnn
DESTDIR     ?=

CC      ?= cc
CFLAGS  ?= -O3 -g
PKG_CONFIG ?= pkg-config
WARN    := -std=c11 -Wall -Wextra -Wpedantic $(if $(filter 1,$(WERROR)),-Werror)

# Build lines are short ("  CC      src/train/fit.c"); V=1 prints the whole commands.
ifeq ($(V),1)
  Q   :=
  say  =
else
  Q   := @
  say  = @printf '  %-7s %s\n' '$(1)' '$(2)';
endif

# `make check` (or test-c) first gets what the tests need (scripts/check-deps.sh
# installs it with apt-get when it may, or stops with the command to run). At
# parse time, so that a pkg-config installed here already serves the BLAS
# detection below. Not under -n, and not in sub-makes of a make that did it.
ifneq ($(filter check test-c,$(MAKECMDGOALS)),)
  ifeq ($(findstring n,$(firstword -$(MAKEFLAGS)))$(REGNN_DEPS_DONE),)
    DEPS_STATUS := $(shell PKG_CONFIG='$(PKG_CONFIG)' CXX='$(CXX)' $(if $(PYTHON),PYTHON='$(PYTHON)') \
                     sh scripts/check-deps.sh --install >&2; echo $$?)
    ifneq ($(DEPS_STATUS),0)
      $(error make check: test dependencies are missing (see above))
    endif
    export REGNN_DEPS_DONE := 1
  endif
endif

ifeq ($(origin BLAS),undefined)
  BLAS := $(shell $(PKG_CONFIG) --exists openblas 2>/dev/null && echo openblas || echo builtin)
  ifeq ($(BLAS),builtin)
    ifeq ($(shell command -v $(PKG_CONFIG) 2>/dev/null),)
      $(info libregnn: no $(PKG_CONFIG), so no OpenBLAS (install pkg-config libopenblas-dev); using the built-in GEMM)
    else
      $(info libregnn: OpenBLAS not found (install libopenblas-dev); using the built-in GEMM)
    endif
  endif
endif
ifeq ($(BLAS),openblas)
  BLAS_CFLAGS := $(shell $(PKG_CONFIG) --cflags openblas) -DREGNN_USE_CBLAS
  BLAS_LIBS   := $(shell $(PKG_CONFIG) --libs openblas)
  PC_REQUIRES := openblas
else ifeq ($(BLAS),builtin)
  BLAS_CFLAGS :=
  BLAS_LIBS   :=
  PC_REQUIRES :=
else
  $(error BLAS must be openblas or builtin)
endif

BUILD   := build/$(BLAS)$(if $(BUILDTAG),-$(BUILDTAG))
# src/<layer>/*.c (src/mpi is the separate libregnn_mpi; docs/architecture.md).
SRCS    := $(sort $(filter-out src/mpi/%,$(wildcard src/*/*.c)))
PRIV_HDRS := $(sort $(wildcard src/*.h src/*/*.h))
OBJS    := $(SRCS:src/%.c=$(BUILD)/obj/%.o)
TOBJS   := $(SRCS:src/%.c=$(BUILD)/tobj/%.o)
LIBS    := $(BLAS_LIBS) -lm -lpthread

# Each build has its own library in $(BUILD)/lib, which its programs load
# (run path $ORIGIN/../lib), so builds of both BLAS choices can coexist. An
# untagged build's `make lib` also copies its library into the top-level lib/:
# lib/ holds the library of the last such build (as before: `make` leaves
# lib/libregnn.so*; pip and the Python binding use it).
OUT     := $(BUILD)/lib
SO_REAL := $(OUT)/libregnn.so.$(VERSION)
SO_NAME := libregnn.so.$(ABI)
STATIC  := $(OUT)/libregnn.a
OUT_FILES := $(SO_REAL) $(OUT)/libregnn.so.$(ABI) $(OUT)/libregnn.so $(STATIC) $(OUT)/regnn.pc
TOP_FILES := lib/libregnn.so.$(VERSION) lib/libregnn.so.$(ABI) lib/libregnn.so lib/libregnn.a lib/regnn.pc

# No errno from sqrtf/expf: lets the compiler vectorize the optimizer and
# activations. No FMA contraction: the same bits whichever SIMD clone runs.
OPT_FLAGS   := -fno-math-errno -ffp-contract=off
LIB_CFLAGS  := $(WARN) $(CFLAGS) $(OPT_FLAGS) -fPIC -fvisibility=hidden -DREGNN_BUILDING -Iinclude $(BLAS_CFLAGS)
TEST_CFLAGS := $(WARN) $(CFLAGS) $(OPT_FLAGS) -DREGNN_TESTING -DREGNN_STATIC -Iinclude -Isrc $(BLAS_CFLAGS)

.PHONY: all lib lib-build check check-deps test-c demo bench install uninstall clean FORCE
all: lib examples-build

lib: lib-build $(if $(BUILDTAG),,$(TOP_FILES))
lib-build: $(OUT_FILES)

# Which build lib/ was copied from: a change of BLAS copies again.
lib/.blas: FORCE
	@mkdir -p lib
	@echo '$(BUILD)' | cmp -s - $@ || echo '$(BUILD)' > $@

$(BUILD)/obj/%.o: src/%.c $(PRIV_HDRS) include/regnn.h
	@mkdir -p $(@D)
	$(call say,CC,$<)$(CC) $(LIB_CFLAGS) -c $< -o $@

$(BUILD)/tobj/%.o: src/%.c $(PRIV_HDRS) include/regnn.h
	@mkdir -p $(@D)
	$(call say,CC,$< (tests))$(CC) $(TEST_CFLAGS) -c $< -o $@

$(SO_REAL): $(OBJS) src/libregnn.map
	@mkdir -p $(@D)
	$(call say,LD,$@)$(CC) $(CFLAGS) -shared -Wl,-soname,$(SO_NAME) -Wl,--version-script=src/libregnn.map \
	    -Wl,--no-undefined -o $@ $(OBJS) $(LIBS) $(LDFLAGS)

$(OUT)/libregnn.so.$(ABI): $(SO_REAL)
	$(Q)ln -sf libregnn.so.$(VERSION) $@
$(OUT)/libregnn.so: $(OUT)/libregnn.so.$(ABI)
	$(Q)ln -sf libregnn.so.$(ABI) $@

$(STATIC): $(OBJS)
	@mkdir -p $(@D)
	$(call say,AR,$@)rm -f $@
	$(Q)$(AR) rcs $@ $(OBJS)

# Copied through a temporary name: a process that has lib/ loaded keeps its copy.
lib/libregnn.so.$(VERSION) lib/libregnn.a lib/regnn.pc: lib/%: $(OUT)/% lib/.blas
	$(call say,CP,$@)cp -f $< $@.tmp && mv -f $@.tmp $@
lib/libregnn.so.$(ABI): lib/libregnn.so.$(VERSION)
	$(Q)ln -sf libregnn.so.$(VERSION) $@
lib/libregnn.so: lib/libregnn.so.$(ABI)
	$(Q)ln -sf libregnn.so.$(ABI) $@

$(BUILD)/libregnn_test.a: $(TOBJS)
	$(call say,AR,$@)rm -f $@
	$(Q)$(AR) rcs $@ $(TOBJS)

define make_pc
	sed -e 's|@PREFIX@|$(1)|' -e 's|@LIBDIR@|$(2)|' -e 's|@INCLUDEDIR@|$(3)|' \
	    -e 's|@VERSION@|$(VERSION)|' -e 's|@REQUIRES_PRIVATE@|$(PC_REQUIRES)|' \
	    -e 's|@LIBS_PRIVATE@|-lm -lpthread|' pkgconfig/regnn.pc.in
endef

$(OUT)/regnn.pc: pkgconfig/regnn.pc.in
	@mkdir -p $(@D)
	$(call say,GEN,$@)$(call make_pc,$(PREFIX),$(libdir),$(includedir)) > $@

# CMake package (find_package(regnn)), from cmake/*.in. Its paths are relative
# to its own location, so a DESTDIR staging or a moved prefix still works.
empty :=
space := $(empty) $(empty)
CMAKE_SUBST = -e 's|@VERSION@|$(VERSION)|g' -e 's|@ABI@|$(ABI)|g' -e 's|@BLAS@|$(BLAS)|g' \
    -e 's|@INCLUDEDIR_FROM_LIBDIR@|$(shell realpath -m --relative-to=$(libdir) $(includedir) 2>/dev/null || echo $(includedir))|' \
    -e 's|@STATIC_LIBS@|$(subst $(space),;,$(strip $(BLAS_LIBS) Threads::Threads m))|' \
    -e 's|@SIZEOF_VOID_P@|$(shell printf '__SIZEOF_POINTER__\n' | $(CC) -x c -E -P - 2>/dev/null | tr -d ' \n')|'

# ---- tests ----
TEST_SRCS := $(sort $(wildcard tests/check_*.c))
TEST_BINS := $(TEST_SRCS:tests/%.c=$(BUILD)/tests/%)
TEST_HDRS := $(wildcard tests/*.h)

# The gate for targets that build test programs without going through `make
# check` (e.g. a single suite): says what to install instead of failing in cc.
check-deps:
	@$(PKG_CONFIG) --exists check 2>/dev/null || { \
	  echo "the C test suites need the Check unit-test framework: sudo apt-get install -y check pkg-config" >&2; \
	  echo "(make check installs it by itself when it may)" >&2; \
	  exit 1; }

$(BUILD)/tests/%: tests/%.c $(BUILD)/libregnn_test.a $(TEST_HDRS) | check-deps
	@mkdir -p $(@D)
	$(call say,CCLD,$@)$(CC) $(TEST_CFLAGS) -Itests $(shell $(PKG_CONFIG) --cflags check) -o $@ $< \
	    $(BUILD)/libregnn_test.a $(shell $(PKG_CONFIG) --libs check) $(LIBS)

# Runs every suite even when one fails, then fails if any did.
test-c: check-deps $(TEST_BINS)
	@fail=0; for t in $(TEST_BINS); do \
	  echo "== $$t"; $(TEST_RUNNER) ./$$t || fail=1; done; \
	  if [ $$fail -ne 0 ]; then echo "make check: C test suites FAILED" >&2; exit 1; fi

CHECK_TARGETS := test-c

# scripts/check-deps.sh against stand-ins for apt-get, sudo and pkg-config.
.PHONY: test-deps
test-deps:
	$(Q)sh tests/test_deps.sh

CHECK_TARGETS += test-deps

# CMakeLists.txt and the installed CMake package, used from a CMake project
# (skips when cmake is not installed).
.PHONY: test-cmake
test-cmake: lib
	$(Q)bash tests/test_cmake.sh

CHECK_TARGETS += test-cmake

# Each build's programs load that build's library: this build and one of the
# other BLAS (the built-in one again when OpenBLAS is absent), side by side
# (tests/test_build_libs.sh). The other build is tagged, so lib/ is left alone.
OTHER_BLAS = $(if $(filter openblas,$(BLAS)),builtin,$(shell $(PKG_CONFIG) --exists openblas 2>/dev/null && echo openblas || echo builtin))
.PHONY: test-build-libs
test-build-libs: cli examples-build
	+$(MAKE) --no-print-directory BLAS=$(OTHER_BLAS) BUILDTAG=libs-test CFLAGS='-O0 -g' cli examples-build
	$(Q)sh tests/test_build_libs.sh $(BUILD) build/$(OTHER_BLAS)-libs-test

CHECK_TARGETS += test-build-libs

# ---- examples ----
# examples/mpi_*.c need mpicc: mk/mpi.mk builds them.
EXAMPLE_MPI := $(wildcard examples/mpi_*.c)
EXAMPLE_MAINS := $(filter-out $(EXAMPLE_MPI),$(shell grep -l '^int main' examples/*.c 2>/dev/null))
EXAMPLE_LIBSRC := $(filter-out $(EXAMPLE_MAINS) $(EXAMPLE_MPI),$(wildcard examples/*.c))
EXAMPLE_BINS := $(EXAMPLE_MAINS:examples/%.c=$(BUILD)/examples/%)
EXAMPLE_CFLAGS := $(WARN) $(CFLAGS) -Iinclude

examples-build: $(EXAMPLE_BINS)

# Examples link the shared library exactly as a user would (-lregnn).
$(BUILD)/examples/%: examples/%.c $(EXAMPLE_LIBSRC) $(wildcard examples/*.h) $(OUT)/libregnn.so
	@mkdir -p $(@D)
	$(call say,CCLD,$@)$(CC) $(EXAMPLE_CFLAGS) -o $@ $< $(EXAMPLE_LIBSRC) -L$(OUT) -lregnn -Wl,-rpath,'$$ORIGIN/../lib' -lm

# Fragments in mk/ add targets and append to CHECK_TARGETS.
-include $(sort $(wildcard mk/*.mk))

# One suite after the other, each announced, all run even when one fails; then
# a table of the suites' counts and times (scripts/check-suites.sh).
check: check-deps lib
	+@sh scripts/check-suites.sh $(BUILD)/check '$(MAKE) --no-print-directory BLAS=$(BLAS)' $(CHECK_TARGETS)
	@echo "make check: all tests passed ($(BLAS) GEMM)"

# ---- install ----
install: lib-build
	install -d $(DESTDIR)$(libdir) $(DESTDIR)$(includedir) $(DESTDIR)$(pkgconfigdir)
	install -m 644 include/regnn.h $(DESTDIR)$(includedir)/regnn.h
	install -m 755 $(SO_REAL) $(DESTDIR)$(libdir)/
	ln -sf libregnn.so.$(VERSION) $(DESTDIR)$(libdir)/libregnn.so.$(ABI)
	ln -sf libregnn.so.$(ABI) $(DESTDIR)$(libdir)/libregnn.so
	install -m 644 $(STATIC) $(DESTDIR)$(libdir)/
	$(call make_pc,$(PREFIX),$(libdir),$(includedir)) > $(DESTDIR)$(pkgconfigdir)/regnn.pc
	install -d $(DESTDIR)$(cmakedir)
	sed $(CMAKE_SUBST) cmake/regnnConfig.cmake.in > $(DESTDIR)$(cmakedir)/regnnConfig.cmake
	sed $(CMAKE_SUBST) cmake/regnnConfigVersion.cmake.in > $(DESTDIR)$(cmakedir)/regnnConfigVersion.cmake

uninstall:
	rm -f $(DESTDIR)$(includedir)/regnn.h $(DESTDIR)$(libdir)/libregnn.so.$(VERSION) \
	      $(DESTDIR)$(libdir)/libregnn.so.$(ABI) $(DESTDIR)$(libdir)/libregnn.so \
	      $(DESTDIR)$(libdir)/libregnn.a $(DESTDIR)$(pkgconfigdir)/regnn.pc \
	      $(DESTDIR)$(cmakedir)/regnnConfig.cmake $(DESTDIR)$(cmakedir)/regnnConfigVersion.cmake
	-rmdir $(DESTDIR)$(cmakedir) 2>/dev/null

clean:
	rm -rf build lib out dist python/*.egg-info *.egg-info

FORCE:
