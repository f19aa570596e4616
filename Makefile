# trapeze - one non-recursive Makefile.  Output goes under build/.
#
#   make            build build/trapeze and the guests
#   make run        build and boot the demo guest (installs missing Debian packages)
#   make test       the whole test suite (installs missing Debian packages)
#   make asan       the test suite under AddressSanitizer + UBSan
#   make bench      the benchmark report
#   make report     what each virtualization technique costs: build/report/REPORT.md + plots
#   make sweep      the long random differential sweep against Unicorn
#   make check-layers  the layers point down only (tools/check_layers.sh; make test runs it)
#   V=1             show the commands
#
# Folder fragments (guests/guests.mk, tests/tests.mk, bench/bench.mk) are
# included here, not run by a recursive make.

BUILD   ?= build
CC      ?= cc
V       ?= 0
Q       := $(if $(filter 1,$(V)),,@)
say      = $(if $(filter 1,$(V)),,@printf '  %-6s %s\n' $(1) $(2);)

CSTD     = -std=c11 -D_GNU_SOURCE
WARN     = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wno-unused-parameter -Wpointer-arith -Wvla -Wformat=2
OPT     ?= -O2 -g
CFLAGS  += $(CSTD) $(WARN) $(OPT) -I. -MMD -MP
SANITIZE =

PKG_CFLAGS := $(shell pkg-config --cflags sdl2 capstone 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs sdl2 capstone 2>/dev/null) -lreadline
CFLAGS  += $(PKG_CFLAGS)
LDLIBS  += $(PKG_LIBS) -lm

# The emulator proper: every layer's .c files; monitor/main.c holds main().
LAYERS   = base cpu mmu devices machine machine/bios vmm monitor translator
LIB_SRCS = $(filter-out monitor/main.c,$(foreach d,$(LAYERS),$(wildcard $(d)/*.c)))
LIB_OBJS = $(LIB_SRCS:%.c=$(BUILD)/%.o) $(BUILD)/machine/bios/bios_rom.o
# Linked as objects, not an archive, so every object's definitions count.
LIB      = $(LIB_OBJS)

.PHONY: all run test asan bench sweep clean deps check-tools check-layers
all: $(BUILD)/trapeze guests

$(BUILD)/%.o: %.c
	$(call say,CC,$<)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $(SANITIZE) -c $< -o $@

$(BUILD)/trapeze: $(BUILD)/monitor/main.o $(LIB)
	$(call say,LD,$@)
	$(Q)$(CC) $(CFLAGS) $(SANITIZE) -o $@ $^ $(LDLIBS)

# Debian packages: .deps-run what building and running needs (make run),
# .deps also what the tests and the benchmark need (make test, asan, bench,
# sweep).  Installs the missing ones (as root, or through sudo) and
# remembers it in the stamp.
deps: $(BUILD)/.deps
$(BUILD)/.deps-run: tools/deps.sh
	$(Q)mkdir -p $(BUILD)
	$(Q)sh tools/deps.sh run
	$(Q)touch $@
$(BUILD)/.deps: tools/deps.sh $(BUILD)/.deps-run
	$(Q)sh tools/deps.sh test
	$(Q)touch $@

include guests/guests.mk
include machine/bios/bios.mk
include tests/tests.mk
include bench/bench.mk

# The demo guest ends by writing 0x10 to isa-debug-exit: status (0x10<<1)|1 = 33.
run: $(BUILD)/.deps-run
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(BUILD)/trapeze -kernel $(BUILD)/guests/hello.elf -nographic; status=$$?; \
	    echo "trapeze exited with status $$status (33: the guest wrote 0x10 to isa-debug-exit, its pass value)"; \
	    [ $$status -eq 33 ]

# DESIGN.md's arrows point down: every layer's includes, and its objects'
# undefined symbols (nm), against the table in tools/check_layers.sh.
check-layers: all
	$(Q)BUILD=$(BUILD) sh tools/check_layers.sh

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
