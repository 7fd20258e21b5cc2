# Thin wrapper over CMake/CTest; see README.md.
#   make        build build/cairn (release, -O2)
#   make run    install missing Debian packages, build, start a single-node server
#   make test   install missing packages, build with ASan+UBSan, run every test
#   make fuzz   build libFuzzer targets with clang and run each for FUZZ_SECONDS
JOBS        ?= $(shell nproc)
DATA_DIR    ?= $(HOME)/.cairn/server
LISTEN      ?= 127.0.0.1:6443
FUZZ_SECONDS ?= 30

.PHONY: all build deps run test test-fast fuzz bench clean

all: build

deps:
	@scripts/deps

build/Makefile:
	cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: build/Makefile
	cmake --build build -j$(JOBS)

run: deps build
	build/cairn server --data-dir $(DATA_DIR) --listen $(LISTEN)

build-asan/Makefile:
	CC=$${CC:-gcc} cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DCAIRN_SANITIZE=ON

test: deps build-asan/Makefile
	cmake --build build-asan -j$(JOBS)
	scripts/check-source build-asan
	cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j$(JOBS) $(CTEST_ARGS)

fuzz: deps
	CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DCAIRN_FUZZ=ON -DCAIRN_SANITIZE=ON
	cmake --build build-fuzz -j$(JOBS)
	@for t in build-fuzz/fuzz_*; do case $$t in *_replay) continue;; esac; \
	  n=$$(basename $$t); mkdir -p build-fuzz/corpus/$$n; \
	  echo "== $$n ($(FUZZ_SECONDS)s)"; \
	  $$t -max_total_time=$(FUZZ_SECONDS) -max_len=65536 build-fuzz/corpus/$$n tests/fuzz/corpus/$$n || exit 1; \
	done

bench: deps build
	bench/run

clean:
	rm -rf build build-asan build-fuzz
