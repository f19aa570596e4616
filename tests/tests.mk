# tests/tests.mk - included by the top Makefile.
#
# Test programs (each prints PASS/FAIL/SKIP lines, see tests/test.h):
#   tests/unit/test_*.c      host unit tests, linked with the emulator's objects ($(LIB))
#   tests/difftest/          the differential test against Unicorn
#   tests/guests/*.sh        guest kernels run under build/trapeze
#   tools/check_layers.sh    the layers point down only (includes, nm symbols)
# tests/run.sh runs them in parallel and prints "N passed, N failed, N skipped".

UNIT_SRCS  = $(wildcard tests/unit/test_*.c)
UNIT_BINS  = $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/unit/%)
GUEST_TESTS = $(wildcard tests/guests/*.sh)

DIFF_SRCS  = $(wildcard tests/difftest/*.c)
DIFF_BIN   = $(BUILD)/tests/difftest/difftest
DIFF_LIBS  = $(shell pkg-config --libs unicorn 2>/dev/null || echo -lunicorn)

$(BUILD)/tests/unit/%: tests/unit/%.c $(LIB) tests/test.h
	$(call say,CC,$<)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $(SANITIZE) -o $@ $< $(LIB) $(LDLIBS)

$(DIFF_BIN): $(DIFF_SRCS) $(LIB) tests/test.h
	$(call say,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $(SANITIZE) -o $@ $(DIFF_SRCS) $(LIB) $(DIFF_LIBS) $(LDLIBS)

# test_translator runs translated code under Unicorn, as the difftest does.
$(BUILD)/tests/unit/test_translator: LDLIBS += $(DIFF_LIBS)

TEST_BINS = $(UNIT_BINS) $(if $(DIFF_SRCS),$(DIFF_BIN))

# The loaders' fuzz target, standalone (tests/fuzz/fuzz_loader.c says how):
# a short run of its own mutator is a test program; make fuzz-loader runs
# a longer one (FUZZ_INPUTS, default 200000).
# (Named apart from fuzz-run's build of the same target with the driver.)
FUZZ_LOADER = $(BUILD)/tests/fuzz/standalone_loader
$(FUZZ_LOADER): tests/fuzz/fuzz_loader.c $(LIB)
	$(call say,CC,$<)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $(SANITIZE) -DFUZZ_STANDALONE -o $@ $< $(LIB) $(LDLIBS)
TEST_BINS += $(FUZZ_LOADER)

.PHONY: fuzz-loader
fuzz-loader: $(FUZZ_LOADER)
	$(FUZZ_LOADER) -n $(or $(FUZZ_INPUTS),200000)

.PHONY: test-programs test-run
test-programs: all $(TEST_BINS)

# BUILD is exported so the guest scripts find build/trapeze and the guests.
test-run: test-programs
	$(Q)BUILD=$(BUILD) sh tests/run.sh $(TEST_BINS) $(GUEST_TESTS) tools/check_layers.sh

test: $(BUILD)/.deps
	$(Q)$(MAKE) --no-print-directory test-run

asan: $(BUILD)/.deps
	$(Q)$(MAKE) --no-print-directory BUILD=build-asan OPT="-O1 -g -fno-omit-frame-pointer" \
	    SANITIZE="-fsanitize=address,undefined -fno-sanitize-recover=undefined" test-run fuzz-run

sweep: $(BUILD)/.deps
	$(Q)$(MAKE) --no-print-directory $(DIFF_BIN)
	$(DIFF_BIN) --sweep

# Fuzz targets (tests/fuzz/README.md): every tests/fuzz/fuzz_*.c, linked with
# the mutation driver; `make fuzz` runs each for FUZZ_SECONDS under ASan+UBSan
# on its seeds (tests/fuzz/seeds/NAME/ and $(BUILD)/tests/fuzz/seeds/NAME/).
FUZZ_SRCS = $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS = $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/tests/fuzz/%)
FUZZ_SECONDS ?= 20

$(BUILD)/tests/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/driver.c tests/fuzz/fuzz.h $(LIB) tests/test.h
	$(call say,CC,$<)
	$(Q)mkdir -p $(dir $@) $(BUILD)/tests/fuzz/seeds/$*
	$(Q)$(CC) $(CFLAGS) $(SANITIZE) -o $@ $< tests/fuzz/driver.c $(LIB) $(LDLIBS)

.PHONY: fuzz fuzz-run
fuzz-run: $(FUZZ_BINS)
	$(Q)for t in $(FUZZ_BINS); do n=$${t##*/fuzz_}; \
	    FUZZ_LAST=$(BUILD)/tests/fuzz/last-input-$$n $$t tests/fuzz/seeds/$$n $(BUILD)/tests/fuzz/seeds/$$n \
	        $(FUZZ_SECONDS) || { echo "FAIL fuzz_$$n: the input is $(BUILD)/tests/fuzz/last-input-$$n"; exit 1; }; \
	done

fuzz: $(BUILD)/.deps
	$(Q)$(MAKE) --no-print-directory BUILD=build-asan OPT="-O1 -g -fno-omit-frame-pointer" \
	    SANITIZE="-fsanitize=address,undefined -fno-sanitize-recover=undefined" fuzz-run
