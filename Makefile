# The two commands of the README: `make run` and `make test`. Both install what is missing.
PRESET    ?= release
BUILD_DIR := build/$(PRESET)
BIN       := $(BUILD_DIR)/src/bookspace
PG_DIR    ?= /tmp/bookspace-test-pg
PG_PORT   ?= 55432
JOBS      ?= $(shell nproc)
# Let ccache hit across clones of the repository (CI builds a fresh clone each time).
export CCACHE_BASEDIR  := $(CURDIR)
export CCACHE_NOHASHDIR := 1

.PHONY: run test build deps test-deps configure asan fuzz perf format clean

run: deps build
	$(BIN) serve

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

configure:
	@test -f $(BUILD_DIR)/build.ninja || cmake --preset $(PRESET)

deps:
	./docker/install-deps.sh build

test-deps:
	./docker/install-deps.sh test

# Builds, starts a throw-away PostgreSQL cluster, runs every test on SQLite and PostgreSQL.
test: test-deps build
	@url=$$(tests/support/pg-cluster.sh start $(PG_DIR) $(PG_PORT)) || exit 1; \
	 BOOKSPACE_TEST_PG=$$url ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS) --timeout 600; \
	 rc=$$?; tests/support/pg-cluster.sh stop $(PG_DIR); exit $$rc

asan:
	$(MAKE) test PRESET=asan

fuzz:
	./docker/install-deps.sh fuzz
	cmake --preset fuzz && cmake --build build/fuzz -j $(JOBS) --target fuzz_http_request fuzz_jwt fuzz_files_rules fuzz_search_query
	mkdir -p build/fuzz/corpus build/fuzz/corpus-jwt
	build/fuzz/tests/fuzz/fuzz_http_request -max_total_time=60 build/fuzz/corpus tests/fuzz/corpus
	build/fuzz/modules/auth/fuzz_jwt -max_total_time=60 build/fuzz/corpus-jwt modules/auth/tests/fuzz-corpus
	mkdir -p build/fuzz/corpus-files
	build/fuzz/modules/files/fuzz_files_rules -max_total_time=60 build/fuzz/corpus-files modules/files/tests/fuzz-corpus
	mkdir -p build/fuzz/corpus-search
	build/fuzz/modules/search/fuzz_search_query -max_total_time=60 build/fuzz/corpus-search modules/search/tests/fuzz-corpus

perf: test-deps build
	tests/perf/ratios.sh $(BUILD_DIR)
	tests/perf/budget.sh $(BUILD_DIR)
	tests/perf/hardening.sh $(BIN)
	tests/perf/run.sh $(BUILD_DIR)
	tests/perf/auth.sh $(BUILD_DIR)
	tests/perf/documents.sh $(BUILD_DIR)

format:
	git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

clean:
	rm -rf build
