# tlsgate: the Makefile is the entry point for building, testing and installing.
#   make          build build/tlsgate
#   make deps     install the build and test dependencies (Debian 12, apt-get)
#   make check    install what is needed, build, run every test
#   make format   clang-format the sources
#   make check-asan / check-tsan   the unit tests under ASan+UBSan / TSan
#   make SANITIZE=address|thread    build everything into build-asan/ or build-tsan/
#   make fuzz [FUZZ_SECONDS=N]      run each libFuzzer target in t/fuzz for N seconds

CXX      ?= g++
CXXSTD   := -std=c++20
WARNINGS := -Wall -Wextra -Werror
CPPFLAGS += -I. -MMD -MP

# SANITIZE=address (ASan + UBSan, build-asan/) or SANITIZE=thread (TSan, build-tsan/):
# the same targets, built instrumented into their own directory, e.g.
# `make SANITIZE=address` gives build-asan/tlsgate for the integration tests. -O0: the
# build is most of the cost, and -O0 halves it (the unit tests then take ~20 s).
SANITIZE ?=
ifeq ($(SANITIZE),)
  BUILD     := build
  SAN_FLAGS :=
  CXXFLAGS  ?= -O2 -g
else ifeq ($(SANITIZE),address)
  BUILD     := build-asan
  SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
  CXXFLAGS  ?= -O0 -g
else ifeq ($(SANITIZE),thread)
  BUILD     := build-tsan
  SAN_FLAGS := -fsanitize=thread
  CXXFLAGS  ?= -O0 -g
else
  $(error SANITIZE must be empty, address or thread)
endif

POLICY_LIBS := $(shell pkg-config --libs inih libssl libcrypto 2>/dev/null || echo -linih -lssl -lcrypto)
MILTER_LIBS := -lmilter -pthread
GTEST_LIBS  := -lgtest -lgtest_main -pthread

POLICY_SRC := $(wildcard policy/*.cc)
MILTER_SRC := $(wildcard milter/*.cc)
UNIT_SRC   := $(wildcard t/unit/*.cc)
BENCH_SRC  := $(wildcard t/bench/*.cc)

POLICY_OBJ := $(POLICY_SRC:%.cc=$(BUILD)/%.o)
MILTER_OBJ := $(MILTER_SRC:%.cc=$(BUILD)/%.o)
UNIT_OBJ   := $(UNIT_SRC:%.cc=$(BUILD)/%.o)

# Debian packages the build and the tests need (clang and its compiler-rt: libFuzzer).
DEPS := g++ make pkg-config libinih-dev libssl-dev libmilter-dev libgtest-dev clang-format \
        clang libclang-rt-14-dev

# libFuzzer targets (t/fuzz/NAME.cc, seeds in t/fuzz/corpus/NAME/), built with clang,
# ASan and UBSan into build-fuzz/. What a run finds goes to build-fuzz/corpus/NAME/
# (the checked-in seeds are only read) and crashes to build-fuzz/crashes/.
FUZZ_CXX      ?= clang++
FUZZ_BUILD    := build-fuzz
FUZZ_SAN      := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CXXFLAGS := -O1 -g -fno-omit-frame-pointer $(FUZZ_SAN)
FUZZ_SRC      := $(wildcard t/fuzz/*.cc)
FUZZ_TARGETS  := $(notdir $(FUZZ_SRC:.cc=))
# What the targets exercise: the policy engine, the log formats and the session
# (none of which includes libmilter).
FUZZ_LIB_SRC  := $(POLICY_SRC) milter/log_format.cc milter/session.cc
FUZZ_LIB_OBJ  := $(FUZZ_LIB_SRC:%.cc=$(FUZZ_BUILD)/%.o)
FUZZ_SECONDS  ?= 300
FUZZ_SMOKE_SECONDS ?= 30

.PHONY: all deps check unit golden format format-check clean demo bench bench-smoke check-integration \
        check-asan check-tsan fuzz fuzz-smoke fuzz-build

all: $(BUILD)/tlsgate

$(BUILD)/%.o: %.cc
	@mkdir -p $(@D)
	$(CXX) $(CXXSTD) $(WARNINGS) $(CXXFLAGS) $(SAN_FLAGS) $(CPPFLAGS) -c $< -o $@

$(BUILD)/libpolicy.a: $(POLICY_OBJ)
	$(AR) rcs $@ $^

$(BUILD)/tlsgate: $(MILTER_OBJ) $(BUILD)/libpolicy.a
	$(CXX) $(CXXFLAGS) $(SAN_FLAGS) -o $@ $^ $(POLICY_LIBS) $(MILTER_LIBS)

$(BUILD)/lookup_bench: $(BUILD)/t/bench/lookup_bench.o $(BUILD)/libpolicy.a
	$(CXX) $(CXXFLAGS) $(SAN_FLAGS) -o $@ $^ $(POLICY_LIBS)

$(BUILD)/unit_tests: $(UNIT_OBJ) $(BUILD)/milter/log_format.o $(BUILD)/libpolicy.a
	$(CXX) $(CXXFLAGS) $(SAN_FLAGS) -o $@ $^ $(POLICY_LIBS) $(GTEST_LIBS)

# Idempotent: apt-get runs only when a package is missing.
deps:
	@missing=$$(for p in $(DEPS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing:" $$missing; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	fi

check: deps
	$(MAKE) unit golden bench-smoke format-check check-asan fuzz-smoke

# The unit tests built with ASan + UBSan (any finding aborts the test run) and with
# TSan. `make SANITIZE=... all` builds the daemon the same way for the integration tests.
check-asan: deps
	$(MAKE) SANITIZE=address unit

check-tsan: deps
	$(MAKE) SANITIZE=thread unit

# Real Postfix (podman container), real TLS/SASL, rsyslog, swaks. Not yet part of
# `make check`: it joins it with the full scenario matrix (issue: the milter).
check-integration: all
	t/integration/smoke-container.sh
	t/integration/milter-e2e.sh

# A tiny run of the lookup benchmark so that it never rots; no timing is asserted.
bench-smoke: $(BUILD)/lookup_bench
	$(BUILD)/lookup_bench 1000

bench: $(BUILD)/lookup_bench
	$(BUILD)/lookup_bench 1000
	$(BUILD)/lookup_bench 100000
	$(BUILD)/lookup_bench 1000000

unit: $(BUILD)/unit_tests
	cd t/unit && ../../$(BUILD)/unit_tests --gtest_brief=1

golden: $(BUILD)/tlsgate
	t/golden/run.sh $(BUILD)/tlsgate

FORMATTED := $(POLICY_SRC) $(MILTER_SRC) $(UNIT_SRC) $(BENCH_SRC) $(FUZZ_SRC) \
             $(wildcard policy/*.h milter/*.h t/unit/*.h t/fuzz/*.h)

format:
	clang-format -i $(FORMATTED)

format-check:
	clang-format --dry-run --Werror $(FORMATTED)

# ---- fuzzing ----
$(FUZZ_BUILD)/%.o: %.cc
	@mkdir -p $(@D)
	$(FUZZ_CXX) $(CXXSTD) $(WARNINGS) $(FUZZ_CXXFLAGS) -fsanitize=fuzzer-no-link $(CPPFLAGS) -c $< -o $@

$(FUZZ_BUILD)/libfuzzlib.a: $(FUZZ_LIB_OBJ)
	$(AR) rcs $@ $^

$(FUZZ_TARGETS:%=$(FUZZ_BUILD)/%): $(FUZZ_BUILD)/%: $(FUZZ_BUILD)/t/fuzz/%.o $(FUZZ_BUILD)/libfuzzlib.a
	$(FUZZ_CXX) $(FUZZ_CXXFLAGS) -fsanitize=fuzzer -o $@ $^ $(POLICY_LIBS)

fuzz-build: $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/%)

# Each target for FUZZ_SECONDS (default 300) s, growing build-fuzz/corpus/; `make
# fuzz-smoke` (part of `make check`) for FUZZ_SMOKE_SECONDS (30) s from the checked-in
# seeds alone (a fresh scratch corpus, so that its time does not grow from run to run).
# t/fuzz/run.sh prints each target's exec count.
fuzz: deps fuzz-build
	t/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-smoke: deps fuzz-build
	FUZZ_FRESH=1 t/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SMOKE_SECONDS) $(FUZZ_TARGETS)

demo:
	@echo "make demo arrives with the milter (issue: enforce the rules on live Postfix sessions)."
	@echo "Until then: build/tlsgate -n -c etc/tlsgate.ini and build/tlsgate --explain ADDR -c etc/tlsgate.ini"

clean:
	rm -rf build build-asan build-tsan $(FUZZ_BUILD)

-include $(BUILD)/t/bench/lookup_bench.d $(POLICY_OBJ:.o=.d) $(MILTER_OBJ:.o=.d) $(UNIT_OBJ:.o=.d)
-include $(FUZZ_LIB_OBJ:.o=.d) $(FUZZ_SRC:%.cc=$(FUZZ_BUILD)/%.d)
