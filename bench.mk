# `make bench`: hearth's benchmark (tests/bench/README.md). Included by the
# Makefile. BENCH_EVENTS events over BENCH_HOUSEHOLDS households on the
# test broker, a local redis-server and the normal ./hearthd; prints a table
# and a JSON line, writes build/bench/results-<events>x<households>/ (with
# the PNG plot when gnuplot is installed). Other knobs (BENCH_SCALE,
# BENCH_LAT_SECONDS...) are listed in tests/bench/README.md.
#   make bench                                             the full run (~30 min)
#   make bench BENCH_EVENTS=10000 BENCH_HOUSEHOLDS=1000    tiny (~2 min)
#   make bench-scale                                       the scale-out step alone
#   make bench-callgrind                                   hearthd's instructions per event
# Included anywhere, it leaves the Makefile's default goal alone.
_bench_default_goal := $(.DEFAULT_GOAL)
BENCH_EVENTS     ?= 1000000
BENCH_HOUSEHOLDS ?= 100000
BENCH_FLAGS      := -std=c17 -Wall -Wextra -Wstrict-prototypes -Werror -Wno-format-truncation -O2 -g
BENCH_CPPFLAGS    = -D_GNU_SOURCE $(shell pkg-config --cflags rdkafka jansson hiredis 2>/dev/null)
BENCH_LIBS        = $(shell pkg-config --libs rdkafka jansson hiredis 2>/dev/null) -lm
BENCH_BIN        := build/bench/bgen build/bench/bconsume build/bench/bdecode build/bench/blat \
                    build/bench/bdrain

.PHONY: bench bench-build bench-callgrind bench-preview bench-scale

build/bench/%: tests/bench/%.c tests/bench/bcommon.c tests/bench/bcommon.h
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_FLAGS) $(BENCH_CPPFLAGS) -o $@ $< tests/bench/bcommon.c $(BENCH_LIBS)

# bdrain reads a Redis Cluster through hearth's own client (daemon/redis.h).
build/bench/bdrain: tests/bench/bdrain.c tests/bench/bcommon.c tests/bench/bcommon.h \
                    build/libhearth.a
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_FLAGS) $(BENCH_CPPFLAGS) -Idaemon -o $@ $< tests/bench/bcommon.c \
		build/libhearth.a $(LIBS)

bench-build: $(BENCH_BIN)

bench: bench-build hearthd build/testbroker
	BENCH_EVENTS=$(BENCH_EVENTS) BENCH_HOUSEHOLDS=$(BENCH_HOUSEHOLDS) tests/bench/run.sh

# Step 5 of `make bench` alone: 1, 2, 3 hearthd on one Redis and on a Redis
# Cluster (BENCH_INSTANCES, BENCH_INST_EVENTS, BENCH_INST_HOUSEHOLDS), with
# the partitions of a BENCH_EVENTS run.
bench-scale: bench-build hearthd build/testbroker
	BENCH_EVENTS=$(BENCH_EVENTS) BENCH_HOUSEHOLDS=$(BENCH_HOUSEHOLDS) tests/bench/scale.sh

# hearthd's instructions per event under callgrind, from the first event to
# drained (BENCH_CG_EVENTS, 20000; ~2 min): a figure that repeats, for
# weighing a change to the hot path (tests/bench/README.md).
bench-callgrind: bench-build hearthd build/testbroker
	tests/bench/callgrind.sh

# hearthctl preview's rate at 100,000 and 1,000,000 households
# (PREVIEW_SIZES="100000 1000000"); the table goes to build/bench/preview.txt.
bench-preview: hearthctl build/hload
	PREVIEW_SIZES="$(PREVIEW_SIZES)" tests/bench/preview.sh

PREVIEW_SIZES ?= 100000 1000000

.DEFAULT_GOAL := $(_bench_default_goal)
