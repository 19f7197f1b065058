# libFuzzer targets (tests/fuzz/README.md). Included from the Makefile, after
# LIB_SRC, CPPFLAGS_ALL, LIBS and WARN are defined.
#
#   make fuzz                      build, then run each target FUZZ_SECONDS (60)
#   make fuzz FUZZ_TARGETS=expr    only some targets
#   make fuzz FUZZ_MERGE=1         also merge new coverage into the committed corpus
#   make fuzz-replay               build, run the committed corpus once (make test)
#   make fuzz-build                build only (also make build/fuzz/fuzz_expr)
#
# Targets are built with clang (libFuzzer, ASan, UBSan) into build/fuzz/. The
# daemon sources are compiled again with clang, instrumented for coverage,
# into build/fuzz/obj/. New inputs go to build/fuzz/new/<x>/, crashes to
# build/fuzz/artifacts/<x>/, logs to build/fuzz/log/<x>.log.

_fuzz_default_goal := $(.DEFAULT_GOAL)
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_MERGE   ?= 0
FUZZ_NICE    ?= nice -n 10
FUZZ_TARGETS ?= event headers schema rules expr config record jsonfast
FUZZ_TIMEOUT ?= 25

FZ        := build/fuzz
FUZZ_SAN  := -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
# gcc-only flags clang refuses; -Werror only on our own fuzz sources, so that a
# clang-only warning in a daemon file does not stop make test.
FUZZ_WARN := $(filter-out -Wno-format-truncation -Werror,$(WARN)) -Wno-missing-field-initializers
FUZZ_OBJ  := $(LIB_SRC:daemon/%.c=$(FZ)/obj/%.o)
FUZZ_BINS := $(FUZZ_TARGETS:%=$(FZ)/fuzz_%)

# Largest input per target: an event message, its headers with the message,
# a schema with its instance, a rule file, an expression (EXPR_MAX_SOURCE)
# with its environment bytes, a config file, a record, a JSON text (room
# for jansson's 2048 levels of nesting).
FUZZ_MAXLEN_event  := 8192
FUZZ_MAXLEN_headers := 8192
FUZZ_MAXLEN_schema := 16384
FUZZ_MAXLEN_rules  := 16384
FUZZ_MAXLEN_expr   := 4400
FUZZ_MAXLEN_config := 8192
FUZZ_MAXLEN_record := 16384
FUZZ_MAXLEN_jsonfast := 16384

.PHONY: fuzz fuzz-build fuzz-replay

# clang and its libFuzzer runtime (Debian: clang, libclang-rt-14-dev) link?
$(FZ)/.checked:
	@command -v $(FUZZ_CC) >/dev/null || { echo "fuzz: $(FUZZ_CC) not found (apt-get install clang)" >&2; exit 1; }
	@mkdir -p $(FZ)
	@printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' >$(FZ)/check.c
	@$(FUZZ_CC) -fsanitize=fuzzer,address,undefined $(FZ)/check.c -o $(FZ)/check 2>$(FZ)/check.err || { \
	  cat $(FZ)/check.err >&2; \
	  echo "fuzz: $(FUZZ_CC) cannot link libFuzzer (apt-get install libclang-rt-14-dev)" >&2; exit 1; }
	@touch $@

$(FZ)/obj/%.o: daemon/%.c | $(FZ)/.checked
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_WARN) $(CPPFLAGS_ALL) $(FUZZ_SAN) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(FZ)/libhearth.a: $(FUZZ_OBJ)
	ar rcs $@ $^

$(FZ)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_util.h $(FZ)/libhearth.a
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(filter-out -Wno-format-truncation,$(WARN)) $(CPPFLAGS_ALL) $(FUZZ_SAN) -fsanitize=fuzzer -MMD -MP \
	  -o $@ $< $(FZ)/libhearth.a $(LIBS)

fuzz-build: $(FUZZ_BINS)

# Runs each target for FUZZ_SECONDS over its committed corpus, writing new
# inputs to the scratch folder, then prints executions, coverage and crashes
# per target. Fails if any target found something.
fuzz: fuzz-build
	@mkdir -p $(FZ)/log; fail=0; \
	for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(FZ)/new/$$t $(FZ)/artifacts/$$t; \
	  case $$t in event) ml=$(FUZZ_MAXLEN_event);; headers) ml=$(FUZZ_MAXLEN_headers);; \
	    schema) ml=$(FUZZ_MAXLEN_schema);; \
	    rules) ml=$(FUZZ_MAXLEN_rules);; expr) ml=$(FUZZ_MAXLEN_expr);; \
	    record) ml=$(FUZZ_MAXLEN_record);; jsonfast) ml=$(FUZZ_MAXLEN_jsonfast);; \
	    *) ml=$(FUZZ_MAXLEN_config);; esac; \
	  echo "== fuzz_$$t: $(FUZZ_SECONDS)s, -max_len=$$ml, log $(FZ)/log/$$t.log"; \
	  touch $(FZ)/log/$$t.start; \
	  HEARTH_ROOT=$(CURDIR) $(FUZZ_NICE) $(FZ)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) \
	    -max_len=$$ml -timeout=$(FUZZ_TIMEOUT) -rss_limit_mb=2048 -print_final_stats=1 \
	    $$([ -s tests/fuzz/$$t.dict ] && echo -dict=tests/fuzz/$$t.dict) \
	    -artifact_prefix=$(FZ)/artifacts/$$t/ \
	    $(FZ)/new/$$t tests/fuzz/corpus/$$t >$(FZ)/log/$$t.log 2>&1; rc=$$?; \
	  execs=$$(sed -n 's/^stat::number_of_executed_units: *//p' $(FZ)/log/$$t.log | tail -1); \
	  cov=$$(grep -o 'cov: [0-9]*' $(FZ)/log/$$t.log | tail -1 | cut -d' ' -f2); \
	  echo "   executions $${execs:-?}, cov $${cov:-?}, exit $$rc"; \
	  find $(FZ)/artifacts/$$t -type f -newer $(FZ)/log/$$t.start | sed 's/^/   finding: /'; \
	  if [ $$rc != 0 ]; then fail=1; grep -m3 -E 'ERROR:|runtime error|oracle' $(FZ)/log/$$t.log | sed 's/^/   /'; fi; \
	  if [ "$(FUZZ_MERGE)" = 1 ]; then \
	    HEARTH_ROOT=$(CURDIR) $(FUZZ_NICE) $(FZ)/fuzz_$$t -merge=1 -use_counters=0 -max_len=$$ml \
	      -timeout=$(FUZZ_TIMEOUT) \
	      tests/fuzz/corpus/$$t $(FZ)/new/$$t >>$(FZ)/log/$$t.log 2>&1 \
	      && echo "   merged into tests/fuzz/corpus/$$t: $$(ls tests/fuzz/corpus/$$t | wc -l) files"; \
	  fi; \
	done; exit $$fail

# Replays the committed corpus once per target (make test): every input is
# run through its oracle. Prints TAP lines; fails on any finding.
fuzz-replay: fuzz-build
	@mkdir -p $(FZ)/log; fail=0; i=0; \
	for t in $(FUZZ_TARGETS); do \
	  i=$$((i + 1)); n=$$(ls tests/fuzz/corpus/$$t | wc -l); \
	  mkdir -p $(FZ)/artifacts/$$t; \
	  if HEARTH_ROOT=$(CURDIR) $(FZ)/fuzz_$$t -runs=0 -timeout=$(FUZZ_TIMEOUT) -rss_limit_mb=2048 \
	       -artifact_prefix=$(FZ)/artifacts/$$t/replay- tests/fuzz/corpus/$$t \
	       >$(FZ)/log/replay-$$t.log 2>&1; then \
	    echo "ok $$i - fuzz_$$t replays $$n corpus inputs"; \
	  else \
	    fail=1; echo "not ok $$i - fuzz_$$t corpus replay (log $(FZ)/log/replay-$$t.log)"; \
	    grep -m5 -E 'ERROR:|runtime error|oracle|Test unit written' $(FZ)/log/replay-$$t.log | sed 's/^/# /'; \
	  fi; \
	done; exit $$fail

-include $(wildcard $(FZ)/obj/*.d $(FZ)/*.d)
# Wherever the Makefile includes this file, plain `make` still builds `all`.
.DEFAULT_GOAL := $(_fuzz_default_goal)
