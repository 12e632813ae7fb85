# probity - plain Makefile (LMDB style). Targets:
#   make          build/probity and build/libprobity.a (optimised)
#   make test     the Criterion suite and the fuzz smoke runs, built with
#                 -Werror under AddressSanitizer and UBSan
#   make demo     set-up, build, a demo register, a subject file, then serve it
#   make bench    benchmarks against SQLite and PostgreSQL (docs/BENCHMARKS.md)
#   make bench-serve  probity serve under wrk, beside redis-benchmark (bench/serve)
#   make fuzz     build the libFuzzer targets (clang)
#   make format   clang-format the tree

CC      ?= cc
PKGS    := lmdb jansson libsodium libxml-2.0 libcrypto libcurl libmicrohttpd
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-unused-parameter
CSTD    := -std=c11 -D_GNU_SOURCE
CFLAGS  ?= -O2 -g
ALL_CFLAGS = $(CSTD) $(WARN) $(CFLAGS) -Iinclude -Isrc/lib -Isrc/server $(PKG_CFLAGS) -pthread
LIBS    := $(PKG_LIBS) -pthread -lm

LIB_SRC := $(sort $(wildcard src/lib/*.c))
CLI_SRC := $(sort $(wildcard src/cli/*.c))
SRV_SRC := $(sort $(wildcard src/server/*.c))
TEST_SRC := $(sort $(wildcard tests/*.c))
HDRS    := include/probity.h $(wildcard src/lib/*.h) $(wildcard src/cli/*.h) $(wildcard src/server/*.h)

B       := build
LIB_OBJ := $(LIB_SRC:src/lib/%.c=$(B)/lib/%.o)
CLI_OBJ := $(CLI_SRC:src/cli/%.c=$(B)/cli/%.o)
SRV_OBJ := $(SRV_SRC:src/server/%.c=$(B)/server/%.o)
# Files of the tree built into the binaries (scripts/embed), so that an
# installed or moved binary needs nothing from the source tree: the
# default policy in the library, the OpenAPI document in the server.
GEN     := $(B)/gen
EMB_LIB := $(GEN)/default_policy.o
EMB_SRV := $(GEN)/openapi.o

# The test build: same sources, sanitizers on, its own object directory.
T       := build/san
SAN     := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
T_LIB_OBJ := $(LIB_SRC:src/lib/%.c=$(T)/lib/%.o)
T_CLI_OBJ := $(CLI_SRC:src/cli/%.c=$(T)/cli/%.o)
T_SRV_OBJ := $(SRV_SRC:src/server/%.c=$(T)/server/%.o)
T_TEST_OBJ := $(TEST_SRC:tests/%.c=$(T)/tests/%.o)

FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(B)/fuzz/%)

.PHONY: all test demo bench bench-serve fuzz format clean setup FORCE
all: $(B)/probity $(B)/libprobity.a

# What is linked from the wildcards' files must be linked again when one
# of them is removed, which makes no object newer: the test runner went
# on running a removed file's tests. Each build directory keeps the list
# of the sources in a file rewritten only when the list changes, and
# what is linked from them depends on it. The recipe runs under -n and
# -q too (+), so that make looks at the list again instead of taking it
# as rewritten: else `make -n` shows every link as to do and `make -q`
# never finds the build up to date.
SOURCES := $(LIB_SRC) $(CLI_SRC) $(SRV_SRC) $(TEST_SRC)
$(sort $(B)/sources $(T)/sources): FORCE
	+@mkdir -p $(@D)
	+@echo '$(SOURCES)' | cmp -s - $@ || echo '$(SOURCES)' >$@

$(B)/lib/%.o: src/lib/%.c $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c $< -o $@
$(B)/cli/%.o: src/cli/%.c $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c $< -o $@
$(B)/server/%.o: src/server/%.c $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c $< -o $@
$(GEN)/default_policy.c: policy/default.json scripts/embed
	@mkdir -p $(@D)
	scripts/embed prb_default_policy_json $< >$@.tmp && mv $@.tmp $@
$(GEN)/openapi.c: docs/openapi.json scripts/embed
	@mkdir -p $(@D)
	scripts/embed prb_openapi_json $< >$@.tmp && mv $@.tmp $@
$(GEN)/%.o: $(GEN)/%.c
	$(CC) $(CSTD) $(WARN) -c $< -o $@
$(B)/libprobity.a: $(LIB_OBJ) $(EMB_LIB) $(B)/sources
	rm -f $@ && ar rcs $@ $(filter %.o,$^)
$(B)/probity: $(CLI_OBJ) $(SRV_OBJ) $(EMB_SRV) $(B)/libprobity.a $(B)/sources
	$(CC) $(CFLAGS) -o $@ $(CLI_OBJ) $(SRV_OBJ) $(EMB_SRV) $(B)/libprobity.a $(LIBS)

$(T)/lib/%.o: src/lib/%.c $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(CSTD) $(WARN) $(SAN) -Iinclude -Isrc/lib $(PKG_CFLAGS) -pthread -c $< -o $@
$(T)/cli/%.o: src/cli/%.c $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(CSTD) $(WARN) $(SAN) -Iinclude -Isrc/lib -Isrc/server $(PKG_CFLAGS) -pthread -c $< -o $@
$(T)/server/%.o: src/server/%.c $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(CSTD) $(WARN) $(SAN) -Iinclude -Isrc/lib -Isrc/server $(PKG_CFLAGS) -pthread -c $< -o $@
$(T)/tests/%.o: tests/%.c $(HDRS) tests/helpers.h
	@mkdir -p $(@D)
	$(CC) $(CSTD) $(WARN) $(SAN) -Iinclude -Isrc/lib -Isrc/server -Itests $(PKG_CFLAGS) -pthread -c $< -o $@
# test_refused.c compiles refused.c's scans beside its index: a stale copy
# would hold the index to the old reading.
$(T)/tests/test_refused.o: src/lib/refused.c
$(T)/libprobity.a: $(T_LIB_OBJ) $(EMB_LIB) $(T)/sources
	rm -f $@ && ar rcs $@ $(filter %.o,$^)
$(T)/probity: $(T_CLI_OBJ) $(T_SRV_OBJ) $(EMB_SRV) $(T)/libprobity.a $(T)/sources
	$(CC) $(SAN) -o $@ $(T_CLI_OBJ) $(T_SRV_OBJ) $(EMB_SRV) $(T)/libprobity.a $(LIBS)
$(T)/run-tests: $(T_TEST_OBJ) $(T_SRV_OBJ) $(EMB_SRV) $(T)/libprobity.a $(T)/sources
	$(CC) $(SAN) -o $@ $(T_TEST_OBJ) $(T_SRV_OBJ) $(EMB_SRV) $(T)/libprobity.a $(LIBS) -lcriterion

# The fuzz targets run over their seed corpus plus a bounded number of
# generated inputs, so every `make test` exercises them. Undefined
# behaviour ends a run as a crash would (by default UBSan only prints and
# goes on, and libFuzzer counts the input as fine).
FUZZ_CC := clang $(CSTD) $(WARN) -O1 -g -fsanitize=fuzzer,address,undefined \
           -fno-sanitize-recover=undefined
$(B)/fuzz/%: tests/fuzz/%.c $(LIB_SRC) $(HDRS) $(GEN)/default_policy.c $(B)/sources
	@mkdir -p $(@D)
	$(FUZZ_CC) -Iinclude -Isrc/lib $(PKG_CFLAGS) \
	    -o $@ $< $(LIB_SRC) $(GEN)/default_policy.c $(LIBS)
# The server's own parsers need none of the engine.
$(B)/fuzz/fuzz_http: tests/fuzz/fuzz_http.c src/server/route.c src/server/route.h
	@mkdir -p $(@D)
	$(FUZZ_CC) -Isrc/server \
	    -o $@ tests/fuzz/fuzz_http.c src/server/route.c
$(B)/fuzz/fuzz_jsonarray: tests/fuzz/fuzz_jsonarray.c src/server/jsonarray.c src/server/jsonarray.h
	@mkdir -p $(@D)
	$(FUZZ_CC) -Isrc/server \
	    -o $@ tests/fuzz/fuzz_jsonarray.c src/server/jsonarray.c -ljansson
fuzz: $(FUZZ_BIN)

# Both entry points install what a fresh Debian machine lacks (idempotent,
# and quick when everything is there).
setup:
	@./scripts/setup

test: setup
	$(MAKE) $(T)/run-tests $(T)/probity $(FUZZ_BIN)
	@for f in $(FUZZ_BIN); do n=$$(basename $$f); c=$(T)/corpus/$${n#fuzz_}; \
	    mkdir -p $$c; echo "fuzz: $$n, 20000 runs from tests/fuzz/corpus/$${n#fuzz_}"; \
	    $$f -runs=20000 -max_len=4096 -seed=1 -artifact_prefix=$(T)/ $$c \
	        tests/fuzz/corpus/$${n#fuzz_} >$(T)/$$n.log 2>&1 \
	        || { tail -40 $(T)/$$n.log; exit 1; }; done
	@# The tests' temporary directories go under two of the run's own,
	@# removed whatever the outcome: a test stopped midway (a failed
	@# assertion, its timeout) cannot clean up after itself. A leak is
	@# found as a test's worker exits, after Criterion has counted the
	@# test as passed, so the run's output is read for sanitizer reports
	@# too: any one fails `make test`.
	tmp=$$(mktemp -d /tmp/prbrun.XXXXXX) || exit 1; \
	shm=$$(mktemp -d /dev/shm/prbrun.XXXXXX 2>/dev/null); \
	trap 'rm -rf "$$tmp" $${shm:+"$$shm"}' EXIT; trap 'exit 130' INT TERM; \
	{ TMPDIR=$$tmp PROBITY_TEST_SHM=$$shm \
	  PROBITY_BIN=$(abspath $(T)/probity) PROBITY_SRC=$(CURDIR) \
	    ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	    $(T)/run-tests -j2 2>&1; echo $$? >$$tmp/status; } | tee $(T)/run-tests.log; \
	st=$$(cat $$tmp/status); \
	if grep -q -e 'ERROR: LeakSanitizer' -e 'ERROR: AddressSanitizer' -e 'runtime error:' \
	    $(T)/run-tests.log; then \
	    echo "make test: a sanitizer reported an error above ($(T)/run-tests.log)" >&2; exit 1; \
	fi; exit $$st

demo: setup
	$(MAKE) all
	./scripts/demo

$(B)/bench-core: bench/core.c $(B)/libprobity.a $(HDRS)
	$(CC) $(ALL_CFLAGS) -o $@ bench/core.c $(B)/libprobity.a $(LIBS)
$(B)/bench-peers: bench/peers.c
	$(CC) $(ALL_CFLAGS) $(shell pkg-config --cflags libpq) -o $@ bench/peers.c -lsqlite3 -lpq -ljansson

# The same engine with the audit log compiled out, only for the bench to
# measure what the log costs an ingest (issue 4 asks for at most 15%).
NA      := build/noaudit
NA_LIB_OBJ := $(LIB_SRC:src/lib/%.c=$(NA)/lib/%.o)
$(NA)/lib/%.o: src/lib/%.c $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -DPRB_NO_AUDIT -c $< -o $@
$(B)/probity-noaudit: $(CLI_OBJ) $(SRV_OBJ) $(EMB_SRV) $(NA_LIB_OBJ) $(EMB_LIB) $(B)/sources
	$(CC) $(CFLAGS) -o $@ $(CLI_OBJ) $(SRV_OBJ) $(EMB_SRV) $(NA_LIB_OBJ) $(EMB_LIB) $(LIBS)

bench: all $(B)/bench-core $(B)/bench-peers $(B)/probity-noaudit
	./bench/run

bench-serve: all
	BENCH_SERVE_PROBITY=$(B)/probity ./bench/serve

format:
	clang-format -i include/*.h src/*/*.c src/*/*.h tests/*.c tests/*.h tests/fuzz/*.c bench/*.c

clean:
	rm -rf build
