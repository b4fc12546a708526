# Thin wrappers: CMake and CTest do the work. `make help` lists the targets.
BUILD ?= build
SAN ?= 0
JOBS ?= $(shell nproc)
ifeq ($(SAN),1)
  BUILD := $(BUILD)-san
  CMAKE_FLAGS += -DSMACERT_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
endif

.PHONY: all deps build test demo bench fmt fmt-check clean help

all: build

help:
	@echo "make deps    install the Debian packages the build and tests need"
	@echo "make build   configure and build (SAN=1 for ASan+UBSan in build-san/)"
	@echo "make test    deps + build + every test through CTest (SAN=1 supported)"
	@echo "make demo    deps + build + the main job"
	@echo "make bench   deps + build + benchmarks into bench/results/"
	@echo "make fmt     clang-format every C++ file"

deps:
	@scripts/install-deps.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja $(CMAKE_FLAGS)

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600

demo: build
	$(BUILD)/smacert demo

bench: build
	scripts/bench.sh $(BUILD)

fmt:
	find src tests bench -name '*.cpp' -o -name '*.h' | xargs clang-format -i

fmt-check:
	find src tests bench -name '*.cpp' -o -name '*.h' | xargs clang-format --dry-run --Werror

clean:
	rm -rf build build-san
