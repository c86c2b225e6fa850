# Thin wrapper over CMake/CTest. The README's two commands:
#   make demo   - install what is missing, build, run the end-to-end demo
#   make test   - install what is missing, build (-Werror), run every test,
#                 then again under AddressSanitizer + UndefinedBehaviorSanitizer
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
BUILD ?= build
ASAN_BUILD ?= build-asan
CTEST_FLAGS ?= --output-on-failure --timeout 600 -j $(JOBS)
FUZZ_SECONDS ?= 300
PREFIX ?= /usr/local

.PHONY: all bootstrap bootstrap-build build install abi deb test test-release test-asan demo fuzz bench conformance clean
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
	    -DWSC_SANITIZE=ON -DWSC_FUZZ=ON -DWSC_BENCH=OFF >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    ctest --test-dir $(ASAN_BUILD) $(CTEST_FLAGS) -LE long

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

# Longer fuzzing campaign: every harness for FUZZ_SECONDS.
fuzz: bootstrap
	CC=clang cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DWSC_SANITIZE=ON -DWSC_FUZZ=ON \
	    -DWSC_BENCH=OFF -DWSC_FUZZ_SECONDS=$(FUZZ_SECONDS) >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	ctest --test-dir $(ASAN_BUILD) -R '^fuzz\.' --output-on-failure --timeout 0 -j $(JOBS)

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

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
