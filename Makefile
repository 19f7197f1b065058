# hearth: build, deps, test, demo, lint. `make help` lists the targets.

CC      ?= cc
PKGS    := rdkafka hiredis jansson yaml-0.1 libsystemd libmicrohttpd libzstd
# Debian 12 packages the build, the tests and the demo need.
DEBS    := build-essential pkg-config librdkafka-dev libhiredis-dev libjansson-dev libyaml-dev libzstd-dev \
           libsystemd-dev libmicrohttpd-dev libcmocka-dev redis-server redis-tools kcat clang \
           json-schema-test-suite valgrind jq gnuplot-nox libclang-rt-14-dev

WARN    := -std=c17 -Wall -Wextra -Wstrict-prototypes -Werror -Wno-format-truncation
CPPFLAGS_ALL = -D_GNU_SOURCE -Idaemon $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
CFLAGS  ?= -O2 -g
LIBS     = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm
SANFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all \
            -DHEARTH_TEST_HOOKS

B  := build
BS := build/san

LIB_SRC  := $(filter-out daemon/main.c daemon/hearthctl.c,$(wildcard daemon/*.c))
UNIT_SRC := $(wildcard tests/unit/test_*.c)

LIB_OBJ   := $(LIB_SRC:daemon/%.c=$(B)/obj/%.o)
LIB_OBJ_S := $(LIB_SRC:daemon/%.c=$(BS)/obj/%.o)
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(BS)/%)

.PHONY: all san test demo deps lint lint-banned lint-refs lint-asyncapi format format-check clean \
        help unit integration

all: hearthd hearthctl $(B)/testbroker $(B)/notifylisten $(B)/gen $(B)/hload $(B)/outcheck $(B)/recset

help:
	@echo "make            build hearthd, hearthctl and the test broker"
	@echo "make deps       install the Debian packages that are missing (as root)"
	@echo "make test       deps + build + ASan/UBSan build + every unit and integration test"
	@echo "make demo       run hearthd on an embedded test broker and a local redis-server"
	@echo "make lint       banned functions, schemas/asyncapi.yaml (official parser, via npm)"
	@echo "make format-check  clang-format check"

# --- normal build -----------------------------------------------------------
$(B)/obj/%.o: daemon/%.c
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(CPPFLAGS_ALL) $(CFLAGS) -MMD -MP -c $< -o $@

$(B)/libhearth.a: $(LIB_OBJ)
	ar rcs $@ $^

hearthd: $(B)/obj/main.o $(B)/libhearth.a
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

hearthctl: $(B)/obj/hearthctl.o $(B)/libhearth.a
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

$(B)/%: tests/%.c $(B)/libhearth.a
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(CPPFLAGS_ALL) $(CFLAGS) -MMD -MP -o $@ $< $(B)/libhearth.a $(LIBS)

# --- sanitizer build (make test) --------------------------------------------
$(BS)/obj/%.o: daemon/%.c
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(CPPFLAGS_ALL) $(SANFLAGS) -MMD -MP -c $< -o $@

$(BS)/libhearth.a: $(LIB_OBJ_S)
	ar rcs $@ $^

$(BS)/hearthd: $(BS)/obj/main.o $(BS)/libhearth.a
	$(CC) $(SANFLAGS) -o $@ $^ $(LIBS)

$(BS)/hearthctl: $(BS)/obj/hearthctl.o $(BS)/libhearth.a
	$(CC) $(SANFLAGS) -o $@ $^ $(LIBS)

$(BS)/test_%: tests/unit/test_%.c $(BS)/libhearth.a
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(CPPFLAGS_ALL) $(SANFLAGS) -MMD -MP -o $@ $< $(BS)/libhearth.a $(LIBS) -lcmocka

san: $(BS)/hearthd $(BS)/hearthctl $(UNIT_BIN)

# --- tests ------------------------------------------------------------------
test: deps
	$(MAKE) all
	$(MAKE) san
	$(MAKE) lint-banned lint-refs
	$(MAKE) bench BENCH_EVENTS=10000 BENCH_HOUSEHOLDS=1000 BENCH_INSTANCES=2
	$(MAKE) fuzz-replay
	$(MAKE) faults-tools
	tests/run.sh

unit: san
	TESTS=unit tests/run.sh

integration: all san
	TESTS=integration tests/run.sh

demo: deps
	$(MAKE) all
	tests/demo.sh

# --- deps: install only what is missing; apt-get update only when needed ----
deps:
	@missing=""; for p in $(DEBS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" != 0 ]; then echo "make deps: run as root to install:$$missing" >&2; exit 1; fi; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	fi

# --- hygiene ----------------------------------------------------------------
# make lint = the three below. make test runs lint-banned and lint-refs only:
# lint-asyncapi needs npm and the registry, which make test must not.
lint: lint-banned lint-refs lint-asyncapi

BANNED := \b(sprintf|vsprintf|strcpy|strcat|strtok|atoi|atol|atoll|gets|strncpy)\s*\(
lint-banned:
	@if grep -nPr '$(BANNED)' daemon tests --include='*.c' --include='*.h'; then \
	  echo "lint: banned functions above (use snprintf, checked parsers)"; exit 1; \
	else echo "lint: OK"; fi
	@# hearthd's batch arena (daemon/arena.h): text json_dumps allocates
	@# inside a batch would come from the region, and free() of it crashes.
	@if grep -nP '(?<![a-z_])json_dumps\(' daemon/*.c | grep -v '^daemon/arena\.c:'; then \
	  echo "lint: json_dumps in daemon/ above (use arena_json_dumps, arena.h)"; exit 1; \
	else echo "lint: no json_dumps in daemon/ outside arena.c"; fi

# schemas/asyncapi.yaml names every schema file, and every file it names exists.
lint-refs:
	@fail=0; \
	for r in $$(grep -oE "\\$$ref: '\./[^']+'" schemas/asyncapi.yaml | sed -E "s/.*'\.\/(.*)'/\1/" | sort -u); do \
	  [ -f "schemas/$$r" ] || { echo "schemas/asyncapi.yaml: \$$ref ./$$r: no such file"; fail=1; }; \
	done; \
	for f in schemas/*.json schemas/out/*.json; do \
	  grep -qF "'./$${f#schemas/}'" schemas/asyncapi.yaml || { echo "schemas/asyncapi.yaml: $$f is not referenced"; fail=1; }; \
	done; \
	[ $$fail = 0 ] && echo "lint: asyncapi.yaml references every schema file"

# The official AsyncAPI parser, pinned, installed on demand into build/npm.
ASYNCAPI_PARSER := 3.6.6
NPM_DIR := $(B)/npm
$(NPM_DIR)/.parser-$(ASYNCAPI_PARSER):
	@command -v npm >/dev/null && command -v node >/dev/null || \
	  { echo "lint-asyncapi: needs node (18 or later) and npm" >&2; exit 1; }
	@mkdir -p $(NPM_DIR)
	npm install --prefix $(NPM_DIR) --no-save --no-audit --no-fund --loglevel=error \
	  @asyncapi/parser@$(ASYNCAPI_PARSER)
	@touch $@

lint-asyncapi: $(NPM_DIR)/.parser-$(ASYNCAPI_PARSER)
	@node tests/lint/asyncapi.mjs schemas/asyncapi.yaml $(NPM_DIR)/node_modules

format-check:
	@clang-format --dry-run --Werror daemon/*.c daemon/*.h tests/*.c tests/unit/*.c && echo "format: OK"

format:
	clang-format -i daemon/*.c daemon/*.h tests/*.c tests/unit/*.c

clean:
	rm -rf build hearthd hearthctl

include deploy/install.mk
include bench.mk
include fuzz.mk
include faults.mk

-include $(wildcard $(B)/obj/*.d $(BS)/obj/*.d $(B)/*.d $(BS)/*.d)
