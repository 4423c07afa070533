# libtractor front door. Each target installs what it needs, configures and builds.
#   make demo   - run the main demo (a real actor tree)
#   make test   - build everything and run every test (ends with ctest's summary)
#   make bench  - run the benchmarks and print a table
#   make test-asan / test-tsan - C suites under sanitizers

BUILD      ?= build
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
DEB_PKGS    = build-essential cmake pkg-config libuv1-dev libmsgpack-dev swig catch2 \
              lua5.4 liblua5.4-dev python3-pytest python3-setuptools python3-dev python3-pip \
              python3-wheel nlohmann-json3-dev abigail-tools
CTEST_ARGS ?=
# sanitizer builds: the library at -O1, the (Catch2-heavy) tests at -O0 so
# they compile in reasonable time on two cores
SAN_FLAGS   = -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS_DEBUG="-O1 -g" -DCMAKE_CXX_FLAGS_DEBUG="-O0 -g"

.PHONY: all deps configure build demo test test-asan test-tsan bench install clean abi-baseline

all: build

deps:
	@missing=""; for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

$(BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo

configure: deps $(BUILD)/CMakeCache.txt

build: configure
	cmake --build $(BUILD) -j $(JOBS)

demo: build
	$(BUILD)/examples/c/tractor-demo

test: build
	cd $(BUILD) && ctest --output-on-failure --timeout 300 -j $(JOBS) $(CTEST_ARGS)

test-asan: deps
	cmake -S . -B build-asan -DTR_SANITIZE=address -DTR_BUILD_BINDINGS=OFF $(SAN_FLAGS)
	cmake --build build-asan -j $(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure --timeout 300 -j $(JOBS) -L 'unit|integration'

test-tsan: deps
	cmake -S . -B build-tsan -DTR_SANITIZE=thread -DTR_BUILD_BINDINGS=OFF $(SAN_FLAGS)
	cmake --build build-tsan -j $(JOBS)
	cd build-tsan && TSAN_OPTIONS=suppressions=$(CURDIR)/tests/tsan.supp ctest --output-on-failure --timeout 300 -j $(JOBS) -L 'unit|integration'

bench: build
	cmake --build $(BUILD) -j $(JOBS) --target bench-all
	$(BUILD)/bench/run-bench

# Record the ABI baseline of a new major release (docs/c-api.md "ABI policy").
# Only together with a SONAME bump: a minor release keeps the old baseline.
abi-baseline: build
	v=$$(sed -n 's/^project(tractor VERSION \([0-9]*\.[0-9]*\).*/\1/p' CMakeLists.txt); \
	mkdir -p abi/$$v/include/tractor && cp include/tractor/tractor.h abi/$$v/include/tractor/ && \
	abidw --headers-dir include/tractor --drop-private-types --exported-interfaces-only \
	  --no-corpus-path --no-comp-dir-path --no-show-locs --type-id-style hash \
	  $(BUILD)/lib/libtractor.so --out-file abi/libtractor-$$v.abi && echo "recorded abi/libtractor-$$v.abi"

install: build
	cmake --install $(BUILD)

clean:
	rm -rf $(BUILD) build-asan build-tsan
