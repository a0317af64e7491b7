# tlsgate: the Makefile is the entry point for building, testing and installing.
#   make          build build/tlsgate
#   make deps     install the build and test dependencies (Debian 12, apt-get)
#   make check    install what is needed, build, run every test
#   make format   clang-format the sources

CXX      ?= g++
CXXSTD   := -std=c++20
WARNINGS := -Wall -Wextra -Werror
CXXFLAGS ?= -O2 -g
CPPFLAGS += -I. -MMD -MP
BUILD    := build

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

# Debian packages the build and the tests need.
DEPS := g++ make pkg-config libinih-dev libssl-dev libmilter-dev libgtest-dev clang-format

.PHONY: all deps check unit golden format format-check clean demo bench bench-smoke check-integration

all: $(BUILD)/tlsgate

$(BUILD)/%.o: %.cc
	@mkdir -p $(@D)
	$(CXX) $(CXXSTD) $(WARNINGS) $(CXXFLAGS) $(CPPFLAGS) -c $< -o $@

$(BUILD)/libpolicy.a: $(POLICY_OBJ)
	$(AR) rcs $@ $^

$(BUILD)/tlsgate: $(MILTER_OBJ) $(BUILD)/libpolicy.a
	$(CXX) $(CXXFLAGS) -o $@ $^ $(POLICY_LIBS) $(MILTER_LIBS)

$(BUILD)/lookup_bench: $(BUILD)/t/bench/lookup_bench.o $(BUILD)/libpolicy.a
	$(CXX) $(CXXFLAGS) -o $@ $^ $(POLICY_LIBS)

$(BUILD)/gen_networks: $(BUILD)/t/bench/gen_networks.o
	$(CXX) $(CXXFLAGS) -o $@ $^

$(BUILD)/unit_tests: $(UNIT_OBJ) $(BUILD)/libpolicy.a
	$(CXX) $(CXXFLAGS) -o $@ $^ $(POLICY_LIBS) $(GTEST_LIBS)

# Idempotent: apt-get runs only when a package is missing.
deps:
	@missing=$$(for p in $(DEPS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing:" $$missing; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	fi

check: deps
	$(MAKE) unit golden bench-smoke format-check

# Real Postfix (podman container), real TLS/SASL, rsyslog, swaks. Not yet part of
# `make check`: it joins it with the full scenario matrix (issue: the milter).
check-integration: all
	t/integration/smoke-container.sh
	t/integration/milter-e2e.sh

# The benchmarks need Postfix's postmap and GNU time; need-tools.sh installs them
# (idempotent, starts no Postfix service).
BENCH_TOOLS := $(BUILD)/tlsgate $(BUILD)/lookup_bench $(BUILD)/gen_networks

# A tiny run of every benchmark (the same path: 300 netblocks, Postfix's cidr: peer
# included, every answer checked) so that they never rot; no timing is asserted.
bench-smoke: $(BENCH_TOOLS)
	t/bench/need-tools.sh
	BUILD=$(BUILD) t/bench/lookup.sh --smoke

# Every figure of BENCHMARKS.md, measured side by side in one run (a few minutes).
bench: $(BENCH_TOOLS)
	t/bench/need-tools.sh
	BUILD=$(BUILD) t/bench/lookup.sh

unit: $(BUILD)/unit_tests
	cd t/unit && ../../$(BUILD)/unit_tests --gtest_brief=1

golden: $(BUILD)/tlsgate
	t/golden/run.sh $(BUILD)/tlsgate

format:
	clang-format -i $(POLICY_SRC) $(MILTER_SRC) $(UNIT_SRC) $(BENCH_SRC) $(wildcard policy/*.h milter/*.h t/unit/*.h)

format-check:
	clang-format --dry-run --Werror $(POLICY_SRC) $(MILTER_SRC) $(UNIT_SRC) $(BENCH_SRC) $(wildcard policy/*.h milter/*.h t/unit/*.h)

demo:
	@echo "make demo arrives with the milter (issue: enforce the rules on live Postfix sessions)."
	@echo "Until then: build/tlsgate -n -c etc/tlsgate.ini and build/tlsgate --explain ADDR -c etc/tlsgate.ini"

clean:
	rm -rf $(BUILD)

-include $(BUILD)/t/bench/lookup_bench.d $(BUILD)/t/bench/gen_networks.d $(POLICY_OBJ:.o=.d) $(MILTER_OBJ:.o=.d) $(UNIT_OBJ:.o=.d)
