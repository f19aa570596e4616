# bench/bench.mk - included by the top Makefile: `make bench`.
#
# Builds the guests, tries to build build/trapeze (the report says
# "failed" for trapeze's rows if it cannot), then runs bench/run.sh, which
# times guests/compute and guests/exit0 under trapeze, QEMU (TCG) and Bochs.
# See bench/README.md for how to read the figures.

.PHONY: bench bench-run bench-nano report
bench: $(BUILD)/.deps
	$(Q)$(MAKE) --no-print-directory bench-run

bench-run: guests
	$(Q)$(MAKE) --no-print-directory $(BUILD)/trapeze || \
	    echo "bench: $(BUILD)/trapeze did not build; its rows will say failed" >&2
	$(Q)BUILD=$(BUILD) sh bench/run.sh

# bench-nano: only bench/run.sh's nanobench section, 3 runs a figure.
bench-nano: guests $(BUILD)/trapeze
	$(Q)BUILD=$(BUILD) BENCH_SECTION=nanobench BENCH_RUNS=$${BENCH_RUNS:-3} sh bench/run.sh

# report: bench/report.sh - guests/nanobench under every engine this host
# has, into $(BUILD)/report: REPORT.md, runs.tsv, counts.tsv and gnuplot's
# PNGs (bench/README.md, "make report").  REPORT_RUNS (5), REPORT_QUICK=1.
report: $(BUILD)/.deps guests $(BUILD)/trapeze
	$(Q)BUILD=$(BUILD) REPORT_COMMAND="make report" sh bench/report.sh
