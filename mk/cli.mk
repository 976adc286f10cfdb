# SPDX-License-Identifier: MIT
# The regnn command-line program (tools/): built by `make all`, tested by
# `make check` (tests/test_cli.sh), installed by `make install` with its
# manual page. It links the shared library like the examples do; the in-tree
# binary finds its build's lib/ through $ORIGIN, the installed one through $(libdir).
# make install-cli / uninstall-cli handle only the program and its manual.

bindir ?= $(exec_prefix)/bin
datarootdir ?= $(PREFIX)/share
mandir ?= $(datarootdir)/man

CLI_SRCS := $(sort $(wildcard tools/*.c))
CLI_OBJS := $(CLI_SRCS:tools/%.c=$(BUILD)/tools/obj/%.o) \
            $(BUILD)/tools/obj/exutil.o $(BUILD)/tools/obj/svgplot.o
CLI_BIN  := $(BUILD)/tools/regnn
CLI_INSTALL_BIN := $(BUILD)/tools/regnn.install
CLI_CFLAGS := $(WARN) $(CFLAGS) -Iinclude -Iexamples

.PHONY: cli test-cli install-cli uninstall-cli
all: cli
cli: $(CLI_BIN)

$(BUILD)/tools/obj/%.o: tools/%.c tools/cli.h include/regnn.h examples/exutil.h examples/svgplot.h
	@mkdir -p $(@D)
	$(call say,CC,$@)$(CC) $(CLI_CFLAGS) -c $< -o $@
$(BUILD)/tools/obj/%.o: examples/%.c examples/%.h
	@mkdir -p $(@D)
	$(call say,CC,$@)$(CC) $(CLI_CFLAGS) -c $< -o $@

$(CLI_BIN): $(CLI_OBJS) $(OUT)/libregnn.so
	$(call say,CCLD,$@)$(CC) $(CFLAGS) -o $@ $(CLI_OBJS) -L$(OUT) -lregnn -Wl,-rpath,'$$ORIGIN/../lib' -lm $(LDFLAGS)

# Relinked at every install: the run path is the libdir of this install,
# then ../lib next to the binary (a staged DESTDIR tree or a moved prefix).
$(CLI_INSTALL_BIN): $(CLI_OBJS) $(OUT)/libregnn.so FORCE
	$(call say,CCLD,$@)$(CC) $(CFLAGS) -o $@ $(CLI_OBJS) -L$(OUT) -lregnn -Wl,-rpath,'$(libdir):$$ORIGIN/../lib' -lm $(LDFLAGS)

test-cli: $(CLI_BIN)
	$(Q)sh tests/test_cli.sh $(CLI_BIN)

CHECK_TARGETS += test-cli

install: install-cli
uninstall: uninstall-cli

install-cli: $(CLI_INSTALL_BIN)
	install -d $(DESTDIR)$(bindir) $(DESTDIR)$(mandir)/man1
	install -m 755 $(CLI_INSTALL_BIN) $(DESTDIR)$(bindir)/regnn
	install -m 644 docs/regnn.1 $(DESTDIR)$(mandir)/man1/regnn.1

uninstall-cli:
	rm -f $(DESTDIR)$(bindir)/regnn $(DESTDIR)$(mandir)/man1/regnn.1
