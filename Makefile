# tlsgate: the Makefile is the entry point for building, testing and installing.
#   make          build build/tlsgate
#   make deps     install the build and test dependencies (Debian 12, apt-get)
#   make check    install what is needed, build, run every test
#   make demo     tlsgate with the example rules in front of a real Postfix
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
	$(MAKE) unit golden bench-smoke format-check check-integration

# Real Postfix and Sendmail (podman containers), real TLS/SASL, rsyslog, swaks;
# needs root. The scripts install what they need (podman, debootstrap, swaks, ...)
# and build the container images on the first run.
check-integration: all
	t/integration/daemon.sh
	t/integration/smoke-container.sh
	t/integration/postfix-e2e.sh
	t/integration/sendmail-e2e.sh

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

format:
	clang-format -i $(POLICY_SRC) $(MILTER_SRC) $(UNIT_SRC) $(BENCH_SRC) $(wildcard policy/*.h milter/*.h t/unit/*.h)

format-check:
	clang-format --dry-run --Werror $(POLICY_SRC) $(MILTER_SRC) $(UNIT_SRC) $(BENCH_SRC) $(wildcard policy/*.h milter/*.h t/unit/*.h)

# tlsgate with etc/tlsgate.ini in front of a real Postfix (container, private
# network namespace), a few sessions, each SMTP answer beside tlsgate's log line.
demo: deps
	$(MAKE) all
	t/integration/demo.sh

clean:
	rm -rf $(BUILD)

-include $(BUILD)/t/bench/lookup_bench.d $(POLICY_OBJ:.o=.d) $(MILTER_OBJ:.o=.d) $(UNIT_OBJ:.o=.d)
