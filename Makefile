# Thin wrapper over CMake/CTest. The README's two commands:
#   make demo   - install what is missing, build, run the end-to-end demo
#   make test   - install what is missing, build (-Werror), run every test,
#                 then again under AddressSanitizer + UndefinedBehaviorSanitizer
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
BUILD ?= build
ASAN_BUILD ?= build-asan
CTEST_FLAGS ?= --output-on-failure --timeout 600 -j $(JOBS)
FUZZ_SECONDS ?= 300
COV_BUILD ?= build-cov
PREFIX ?= /usr/local

.PHONY: all bootstrap bootstrap-build build install abi deb test test-release test-asan test-loaded demo fuzz coverage bench bench-loops conformance clean valgrind
PYTHON ?= /usr/bin/python3

all: build

# What the tests need (packages, node ws): make test. Building needs only
# bootstrap-build, which does nothing (and needs no root) once the build
# packages are installed.
bootstrap:
	@scripts/bootstrap test

bootstrap-build:
	@scripts/bootstrap build

build: bootstrap-build
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWSC_WERROR=ON >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

test: bootstrap test-release test-asan

# Every test but the `long` ones, then wsc's full conformance runs once,
# here: the client's 517 cases and the server's 523 (large messages and
# permessage-deflate included, about 8 minutes together).
test-release: build
	ctest --test-dir $(BUILD) $(CTEST_FLAGS) -LE long
	ctest --test-dir $(BUILD) --output-on-failure --timeout 1200 -R '^conformance\.wsc_(server_)?full$$'

test-asan: bootstrap
	CC=clang cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DWSC_WERROR=ON \
	    -DWSC_SANITIZE=ON -DWSC_FUZZ=ON -DWSC_BENCH=OFF -DWSC_FUZZ_SECONDS=10 >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    ctest --test-dir $(ASAN_BUILD) $(CTEST_FLAGS) -LE long

# `make test` RUNS times on fresh clones of HEAD beside `stress-ng --cpu 2`
# (STREAMS of them side by side): the suite must not flake on a loaded
# machine (scripts/loaded-test; results in ./loaded-test.log). Long: about
# 35 minutes per run on 2 cores.
RUNS ?= 5
STREAMS ?= 1
test-loaded:
	scripts/loaded-test $(RUNS) $(STREAMS)

demo: build
	@scripts/demo $(BUILD)

# Installs headers, libwsc (shared and static), libwsc-proto, pkg-config
# files, the CMake package, the wsc command and the man pages under PREFIX
# (default /usr/local), staged under DESTDIR if set:
#   make install PREFIX=$$HOME/.local      make install DESTDIR=/tmp/stage PREFIX=/usr
install: build
	DESTDIR="$(DESTDIR)" cmake --install $(BUILD) --prefix $(PREFIX)

# Records the shared libraries' ABI in abi/ after a deliberate change (the
# abi.check tests compare against it; rules in abi/README.md).
abi: build
	scripts/abi-record $(BUILD)

# Debian packages libwsc0, libwsc-dev and wsc into ../ (dpkg-buildpackage).
deb: bootstrap
	dpkg-buildpackage -us -uc -b

# Longer fuzzing campaign: every harness (or FUZZ_HARNESSES="engine store")
# for FUZZ_SECONDS each (default 300: about 75 minutes for the 15), one
# after the other on one core (fuzz/campaign, pinned with taskset, niced).
# The corpora they grow are kept in $(ASAN_BUILD)/fuzz-corpus/ (out of git);
# the table of executions reached, exec/s and the time to 10^8 executions is
# printed and written to $(ASAN_BUILD)/fuzz-campaign.txt. docs/FUZZING.md
# has the figures reached.
FUZZ_HARNESSES ?=
fuzz: bootstrap
	CC=clang cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DWSC_SANITIZE=ON -DWSC_FUZZ=ON \
	    -DWSC_BENCH=OFF >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS) --target fuzzers
	fuzz/campaign $(ASAN_BUILD) $(FUZZ_SECONDS) $(FUZZ_HARNESSES)

# Line coverage of src/ and src/proto/ from the fuzz corpora: the harnesses
# built with clang's source-based coverage in $(COV_BUILD), each replaying
# its seeds and the corpus `make fuzz` grew, then llvm-profdata + llvm-cov
# report (fuzz/coverage; the summary lands in $(COV_BUILD)/coverage.txt).
# FUZZ_GROWN=DIR replays the corpora grown in DIR/NAME instead.
coverage: bootstrap
	CC=clang cmake -S . -B $(COV_BUILD) -DCMAKE_BUILD_TYPE=Debug -DWSC_FUZZ=ON -DWSC_FUZZ_COVERAGE=ON \
	    -DWSC_BENCH=OFF >/dev/null
	cmake --build $(COV_BUILD) -j $(JOBS) --target fuzzers
	fuzz/coverage $(COV_BUILD) $(or $(FUZZ_GROWN),$(ASAN_BUILD)/fuzz-corpus)

# The release unit and integration test programs (the C ones: tests/unit,
# tests/integration/test_*.c) under valgrind's memcheck, one after the other,
# at low priority: any error or definite leak fails (exit status 99).
# Slow (several minutes), so not part of `make test`.
VALGRIND ?= valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
	--show-leak-kinds=definite --track-fds=no --num-callers=30
valgrind: build
	@command -v valgrind >/dev/null || { echo "valgrind is not installed (apt-get install valgrind)"; exit 1; }
	@pass=0; fail=0; failed=""; \
	for t in $$(ls $(BUILD)/tests/test_* $(BUILD)/tests/integration/test_* 2>/dev/null); do \
	  [ -x "$$t" ] || continue; \
	  case "$$(basename $$t)" in \
	    test_scenario) runs="epoll poll libuv libevent glib";; \
	    test_scenario_libev) runs="libev";; \
	    *) runs="-";; \
	  esac; \
	  for arg in $$runs; do \
	    [ "$$arg" = - ] && set -- || set -- "$$arg"; \
	    log="$$t$${1:+.$$1}.valgrind.log"; \
	    if [ -n "$$1" ] && ! ctest --test-dir $(BUILD) -N -R "^scenario\.$$1$$" | grep -q "scenario\.$$1"; then continue; fi; \
	    echo "== valgrind $$t $$*"; \
	    if WSC_SOURCE_DIR=$(CURDIR) WSC_PYTHON=$(PYTHON) \
	       WSC_NODE=$$(command -v node) WSC_BUILD_DIR=$(CURDIR)/$(BUILD) WSC_VALGRIND=1 \
	       nice $(VALGRIND) "$$t" "$$@" >"$$log" 2>&1; \
	    then pass=$$((pass+1)); else fail=$$((fail+1)); failed="$$failed $$t$${1:+:$$1}"; tail -n 40 "$$log"; fi; \
	  done; \
	done; \
	echo "valgrind: $$pass passed, $$fail failed$${failed:+ ($$failed)}"; \
	echo "$$pass passed, $$fail failed"; [ $$fail -eq 0 ]

# Both full suites against wsc (client: `wsc --echo`, 517 cases; server:
# `wsc serve --echo`, 523 cases), then the suites' own validation with
# node ws on every case (about 25 minutes).
conformance: build
	$(PYTHON) tests/conformance/run.py --client-cmd '$(CURDIR)/$(BUILD)/wsc --echo {url}' --jobs 2
	$(PYTHON) tests/conformance/run_server.py --server-cmd '$(CURDIR)/$(BUILD)/wsc serve --port 0 --echo'
	ctest --test-dir $(BUILD) --output-on-failure --timeout 1800 -L long

# Side by side with libwebsockets, wslay, node ws, Python websockets and a
# raw-TCP floor (about 15 minutes; `make bench BENCH_ARGS=--quick` for < 1).
bench: build
	@scripts/bootstrap bench
	$(PYTHON) bench/run.py --wsc $(BUILD)/wsc $(BENCH_ARGS)

# wsc's loop backends (epoll, poll) and the libuv, libevent, GLib and libev
# adapters side by side: rates, instructions and system calls per round trip
# (bench/loops.py, a few minutes; `make bench-loops BENCH_LOOPS_ARGS=--quick`
# for < 1). The table is in docs/PERFORMANCE.md, "Loop backends and adapters".
# Needs the adapters' libraries (the test packages), valgrind and strace.
bench-loops: bootstrap build
	$(PYTHON) bench/loops.py --build $(BUILD) $(BENCH_LOOPS_ARGS)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
