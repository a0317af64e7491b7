# tlsgate: the Makefile is the entry point for building, testing and installing.
#   make          build build/tlsgate
#   make deps     install the build dependencies (Debian 12, apt-get): what make and make install need
#   make test-deps  install the test dependencies too (make check does)
#   make test     unit tests, golden outputs, fuzz seeds: the quick loop (no root)
#   make check    install what is needed, build, run every test
#   make demo     tlsgate with the example rules in front of a real Postfix
#   make stress   the fault and load tests (kill -9, reloads, 1,000 sessions, a stopped tlsgate),
#                 milter and policy service (make check runs the policy service's)
#   make format   clang-format the sources
#   make install  install (PREFIX, SYSCONFDIR, SYSTEMDUNITDIR, ..., DESTDIR: see below)
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

POLICY_LIBS := $(shell pkg-config --libs inih libssl libcrypto libidn2 2>/dev/null || echo -linih -lssl -lcrypto -lidn2)
# sd_notify (engine/notify.cc) for a Type=notify unit.
ENGINE_LIBS := $(shell pkg-config --libs libsystemd 2>/dev/null || echo -lsystemd)
MILTER_LIBS := -lmilter -pthread
GTEST_LIBS  := -lgtest -lgtest_main -pthread

# Each folder is a library, its sources whatever .cc files it holds:
#   policy/  the pure rules (netblocks, config, decisions)
#   engine/  what runs them, libmilter-free: the session, its log line and CSV row,
#            the policy store and its reload, syslog, the daemon's files and checks
#   milter/  the libmilter glue and the program (main)
POLICY_SRC := $(wildcard policy/*.cc)
ENGINE_SRC := $(wildcard engine/*.cc)
MILTER_SRC := $(wildcard milter/*.cc)
# The rollout report (tlsgate report): libmilter-free, linked into the same binary.
REPORT_SRC := $(wildcard report/*.cc)
REPORT_LIBS := -lz
UNIT_SRC   := $(wildcard t/unit/*.cc)
BENCH_SRC  := $(wildcard t/bench/*.cc)

POLICY_OBJ := $(POLICY_SRC:%.cc=$(BUILD)/%.o)
ENGINE_OBJ := $(ENGINE_SRC:%.cc=$(BUILD)/%.o)
MILTER_OBJ := $(MILTER_SRC:%.cc=$(BUILD)/%.o)
REPORT_OBJ := $(REPORT_SRC:%.cc=$(BUILD)/%.o)
UNIT_OBJ   := $(UNIT_SRC:%.cc=$(BUILD)/%.o)

# Debian packages `make` and `make install` need (make deps) ...
DEPS := g++ make pkg-config libinih-dev libssl-dev libmilter-dev libboost-dev libsystemd-dev \
        zlib1g-dev libidn2-dev
# ... and what the tests need besides (make test-deps; make check installs both):
# GoogleTest, clang-format, clang and its compiler-rt (libFuzzer), nss_wrapper (the
# golden tests' fixed users and groups), and for check-install man page lint, unit
# and sysusers/tmpfiles checks, logrotate -d, m4 + Sendmail's cf files to expand the
# .mc snippet; for tlsgate report's HTML page Debian's Chart.js and chromium (its
# test opens the page) and libcsv (the reference its CSV reader is fuzzed against).
TEST_DEPS := libgtest-dev clang-format clang libclang-rt-14-dev libnss-wrapper \
             mandoc groff-base systemd logrotate m4 sendmail-cf \
             libjs-chart.js chromium libcsv-dev

# libFuzzer targets (t/fuzz/NAME.cc, seeds in t/fuzz/corpus/NAME/), built with clang,
# ASan and UBSan into build-fuzz/. What a run finds goes to build-fuzz/corpus/NAME/
# (the checked-in seeds are only read) and crashes to build-fuzz/crashes/.
FUZZ_CXX      ?= clang++
FUZZ_BUILD    := build-fuzz
FUZZ_SAN      := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CXXFLAGS := -O1 -g -fno-omit-frame-pointer $(FUZZ_SAN)
FUZZ_SRC      := $(wildcard t/fuzz/*.cc)
FUZZ_TARGETS  := $(notdir $(FUZZ_SRC:.cc=))
# What the targets exercise: the policy, the engine and the report (none includes
# libmilter).
FUZZ_LIB_SRC  := $(POLICY_SRC) $(ENGINE_SRC) $(REPORT_SRC)
FUZZ_LIB_OBJ  := $(FUZZ_LIB_SRC:%.cc=$(FUZZ_BUILD)/%.o)
FUZZ_SECONDS  ?= 300

# Installation. `make install` never overwrites $(SYSCONFDIR)/tlsgate/tlsgate.ini (nor
# legacy-networks.txt): the example goes there only if there is none, and always
# beside it as tlsgate.ini.example. The unit gets $(SBINDIR) and $(SYSCONFDIR).
PREFIX         = /usr/local
SBINDIR        = $(PREFIX)/sbin
MANDIR         = $(PREFIX)/share/man
DOCDIR         = $(PREFIX)/share/doc/tlsgate
SYSCONFDIR     = /etc
CONFDIR        = $(SYSCONFDIR)/tlsgate
LOGROTATEDIR   = $(SYSCONFDIR)/logrotate.d
SYSTEMDUNITDIR = $(PREFIX)/lib/systemd/system
SYSUSERSDIR    = $(PREFIX)/lib/sysusers.d
TMPFILESDIR    = $(PREFIX)/lib/tmpfiles.d
INSTALL        = install

.PHONY: all deps test-deps test check unit golden check-docs docs-golden format format-check clean demo bench bench-smoke check-integration check-stress-policy stress \
        install uninstall check-install check-systemd deb check-deb check-asan check-tsan check-asan-integration fuzz fuzz-smoke fuzz-build

all: $(BUILD)/tlsgate

$(BUILD)/%.o: %.cc
	@mkdir -p $(@D)
	$(CXX) $(CXXSTD) $(WARNINGS) $(CXXFLAGS) $(SAN_FLAGS) $(CPPFLAGS) -c $< -o $@

$(BUILD)/libpolicy.a: $(POLICY_OBJ)
	$(AR) rcs $@ $^

$(BUILD)/libengine.a: $(ENGINE_OBJ)
	$(AR) rcs $@ $^

$(BUILD)/libreport.a: $(REPORT_OBJ)
	$(AR) rcs $@ $^

$(BUILD)/tlsgate: $(MILTER_OBJ) $(BUILD)/libreport.a $(BUILD)/libengine.a $(BUILD)/libpolicy.a
	$(CXX) $(CXXFLAGS) $(SAN_FLAGS) $(LDFLAGS) -o $@ $^ $(POLICY_LIBS) $(ENGINE_LIBS) $(MILTER_LIBS) $(REPORT_LIBS)

$(BUILD)/lookup_bench: $(BUILD)/t/bench/lookup_bench.o $(BUILD)/libpolicy.a
	$(CXX) $(CXXFLAGS) $(SAN_FLAGS) -o $@ $^ $(POLICY_LIBS)

$(BUILD)/gen_networks: $(BUILD)/t/bench/gen_networks.o
	$(CXX) $(CXXFLAGS) -o $@ $^

$(BUILD)/gen_partners: $(BUILD)/t/bench/gen_partners.o
	$(CXX) $(CXXFLAGS) -o $@ $^

$(BUILD)/metrics_bench: $(BUILD)/t/bench/metrics_bench.o $(BUILD)/libengine.a $(BUILD)/libpolicy.a
	$(CXX) $(CXXFLAGS) $(SAN_FLAGS) -o $@ $^ $(POLICY_LIBS) $(ENGINE_LIBS) -pthread

# tlsgate report's benchmark data (writes rows with engine/log_format, the daemon's own code).
$(BUILD)/gen_accounting: $(BUILD)/t/bench/gen_accounting.o $(BUILD)/engine/log_format.o $(BUILD)/libpolicy.a
	$(CXX) $(CXXFLAGS) -o $@ $^

# The report's CSV reader against Debian's libcsv, on the same file.
$(BUILD)/csv_reader_bench: $(BUILD)/t/bench/csv_reader_bench.o $(BUILD)/libreport.a
	$(CXX) $(CXXFLAGS) -o $@ $^ -lcsv $(REPORT_LIBS)

$(BUILD)/milter_load: $(BUILD)/t/bench/milter_load.o
	$(CXX) $(CXXFLAGS) -o $@ $^ -pthread

# The no-op milter (C): the floor any milter pays, for the end-to-end benchmark.
$(BUILD)/noop_milter: t/bench/noop_milter.c
	@mkdir -p $(@D)
	$(CC) -std=c11 $(WARNINGS) $(CFLAGS) -O2 -g -o $@ $< $(MILTER_LIBS)

$(BUILD)/unit_tests: $(UNIT_OBJ) $(BUILD)/libreport.a $(BUILD)/libengine.a $(BUILD)/libpolicy.a
	$(CXX) $(CXXFLAGS) $(SAN_FLAGS) -o $@ $^ $(POLICY_LIBS) $(ENGINE_LIBS) $(GTEST_LIBS) $(REPORT_LIBS)

# Idempotent: apt-get runs only when a package is missing (dpkg-query: `dpkg -s`
# also succeeds for a removed package whose configuration files remain).
define apt_install
@missing=$$(for p in $(1); do \
  [ "$$(dpkg-query -W -f='$${db:Status-Status}' $$p 2>/dev/null)" = installed ] || echo $$p; \
done); \
if [ -n "$$missing" ]; then \
  echo "installing:" $$missing; \
  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
fi
endef

deps:
	$(call apt_install,$(DEPS))

test-deps: deps
	$(call apt_install,$(TEST_DEPS))

# The loop a contributor runs on every change: the unit tests, the golden outputs
# and every fuzz target over its seeds and regression inputs. No root, no apt (it
# needs what make test-deps installs), well under a minute once built.
test: $(BUILD)/unit_tests $(BUILD)/tlsgate fuzz-build
	cd t/unit && ../../$(BUILD)/unit_tests --gtest_brief=1
	t/golden/run.sh $(BUILD)/tlsgate
	t/fuzz/run.sh $(FUZZ_BUILD) replay $(FUZZ_TARGETS)

check: test-deps
	$(MAKE) unit golden bench-smoke check-docs format-check check-install check-deb check-asan fuzz-smoke check-integration check-stress-policy check-asan-integration

# The unit tests built with ASan + UBSan (any finding aborts the test run) and with
# TSan. `make SANITIZE=... all` builds the daemon the same way for the integration tests.
check-asan: test-deps
	$(MAKE) SANITIZE=address unit

# check-tsan also runs the Postfix matrix against a TSan build (not in make check: a
# few minutes); halt_on_error makes any race in tlsgate end it. Races inside
# libmilter (not instrumented) are suppressed in t/integration/tsan.supp.
check-tsan: test-deps
	$(MAKE) SANITIZE=thread unit all
	TSAN_OPTIONS="halt_on_error=1 suppressions=$(CURDIR)/t/integration/tsan.supp" \
	  TLSGATE=$(CURDIR)/build-tsan/tlsgate t/integration/postfix-e2e.sh

# The Postfix scenario matrix against tlsgate built with ASan + UBSan (root, podman).
check-asan-integration: test-deps
	$(MAKE) SANITIZE=address all
	TLSGATE=$(CURDIR)/build-asan/tlsgate t/integration/postfix-e2e.sh

# Real Postfix and Sendmail (podman containers), real TLS/SASL, rsyslog, swaks;
# needs root. The scripts install what they need (podman, mmdebstrap, swaks, ...)
# and build the container images on the first run.
check-integration: all
	t/integration/daemon.sh
	t/integration/smoke-container.sh
	t/integration/postfix-e2e.sh
	TG_FRONT=policy t/integration/postfix-e2e.sh
	t/integration/sendmail-e2e.sh
	t/integration/partner-e2e.sh
	t/integration/bypass.sh
	t/integration/docker-compose.sh
	t/integration/report-e2e.sh
	t/integration/report-html.sh

# The policy service under fault and load (part of make check, about 3 minutes):
# kill -9 under load, 100 reloads, 1,000 concurrent connections.
check-stress-policy: all
	@rc=0; for t in kill reload concurrency; do \
	  echo "TG_FRONT=policy t/integration/stress-$$t.sh"; \
	  TG_FRONT=policy t/integration/stress-$$t.sh || rc=1; \
	done; exit $$rc

# The fault and load tests, against real Postfix containers (root, podman; a few
# minutes; not part of make check): SIGKILL of tlsgate under load with a second
# Postfix retrying, 100 reloads during a stream, a stopped tlsgate behind Postfix's
# milter timeouts, 1,000 concurrent sessions; then the same (but the milter
# timeouts) with Postfix asking tlsgate as its policy service. Each prints its counts.
stress: all
	@rc=0; for t in kill reload slow concurrency policy:kill policy:reload policy:concurrency; do \
	  front=$${t%%:*}; [ "$$front" = policy ] || front=milter; t=$${t#policy:}; \
	  echo "TG_FRONT=$$front t/integration/stress-$$t.sh"; \
	  TG_FRONT=$$front t/integration/stress-$$t.sh || rc=1; \
	done; exit $$rc

# The benchmarks need Postfix (postmap, smtp-source, smtp-sink), postfwd and GNU time;
# need-tools.sh installs them (idempotent, starts no service).
BENCH_TOOLS := $(BUILD)/tlsgate $(BUILD)/lookup_bench $(BUILD)/gen_networks $(BUILD)/gen_partners \
               $(BUILD)/milter_load $(BUILD)/noop_milter
BENCH_TOOLS += $(BUILD)/gen_accounting $(BUILD)/csv_reader_bench

# A tiny run of every benchmark (the same paths: 300 netblocks with Postfix's cidr:
# peer, every answer checked; the milter driver against tlsgate and the no-op milter,
# every reply checked; a private Postfix, every message counted at the sink; tlsgate
# report and mawk on 20,000 rows, every count checked) so that they never rot; no
# timing is asserted.
bench-smoke: $(BENCH_TOOLS)
	t/bench/need-tools.sh
	BUILD=$(BUILD) t/bench/lookup.sh --smoke
	BUILD=$(BUILD) t/bench/milter.sh --smoke
	BUILD=$(BUILD) t/bench/postfix.sh --smoke
	BUILD=$(BUILD) t/bench/report.sh --smoke

# Every figure of BENCHMARKS.md, measured side by side in one run (~17 minutes):
# netblock lookup, milter protocol + memory, end-to-end through Postfix, tlsgate report,
# then one summary.
bench: $(BENCH_TOOLS)
	t/bench/need-tools.sh
	BUILD=$(BUILD) t/bench/run-all.sh

unit: $(BUILD)/unit_tests
	cd t/unit && ../../$(BUILD)/unit_tests --gtest_brief=1

golden: $(BUILD)/tlsgate
	t/golden/run.sh $(BUILD)/tlsgate

# The docs are tested (t/docs/check.py): each command README and the man pages show
# that runs without an MTA, their main.cf and .mc snippets (postconf, m4), INI
# examples (tlsgate -n) and sample log lines (made by tlsgate for real). After an
# intended change of a command's output: make docs-golden, and review the diff.
check-docs: $(BUILD)/tlsgate
	t/bench/need-tools.sh
	python3 t/docs/check.py $(BUILD)/tlsgate

docs-golden: $(BUILD)/tlsgate
	python3 t/docs/check.py --update $(BUILD)/tlsgate

FORMATTED := t/bench/noop_milter.c $(POLICY_SRC) $(MILTER_SRC) $(UNIT_SRC) $(BENCH_SRC) $(FUZZ_SRC) \
             $(ENGINE_SRC) $(REPORT_SRC) $(wildcard policy/*.h engine/*.h milter/*.h report/*.h t/unit/*.h t/fuzz/*.h)

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
	$(FUZZ_CXX) $(FUZZ_CXXFLAGS) -fsanitize=fuzzer -o $@ $^ $(POLICY_LIBS) $(ENGINE_LIBS)

# The report's reader is checked against Debian's libcsv; .gz input needs zlib.
$(FUZZ_BUILD)/fuzz_report_reader: POLICY_LIBS += -lcsv $(REPORT_LIBS)

fuzz-build: $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/%)

# Each target for FUZZ_SECONDS (default 300) s with random seeds, growing
# build-fuzz/corpus/; `make fuzz-smoke` (part of `make check`) replays the
# checked-in seeds and t/fuzz/regressions/ and then runs a fixed number of inputs
# (t/fuzz/smoke-runs) from seed 1: the same inputs on every run, so a green CI means
# the same thing twice. t/fuzz/run.sh prints each target's exec count.
fuzz: test-deps fuzz-build
	t/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-smoke: test-deps fuzz-build
	t/fuzz/run.sh $(FUZZ_BUILD) smoke $(FUZZ_TARGETS)

# tlsgate with etc/tlsgate.ini in front of a real Postfix (container, private
# network namespace), a few sessions, each SMTP answer beside tlsgate's log line.
# One line per step; the steps' output goes to build/demo.log, shown when one fails.
DEMO_LOG := build/demo.log
demo:
	@mkdir -p build && : >$(DEMO_LOG)
	@t/step.sh $(DEMO_LOG) "build packages (apt-get, when missing)" $(MAKE) --no-print-directory deps
	@t/step.sh $(DEMO_LOG) "building tlsgate" $(MAKE) --no-print-directory all
	@t/step.sh $(DEMO_LOG) "test packages and the Postfix image (the first run takes minutes)" \
	  t/integration/demo.sh --prepare
	@t/integration/demo.sh

# The example configuration files, installed as NAME.example always and as NAME only if
# absent; uninstall removes NAME only if it is still the example.
EXAMPLE_CONFIGS := tlsgate.ini legacy-networks.txt

install: $(BUILD)/tlsgate
	$(INSTALL) -D -m 0755 $(BUILD)/tlsgate $(DESTDIR)$(SBINDIR)/tlsgate
	$(INSTALL) -D -m 0644 contrib/man/tlsgate.8 $(DESTDIR)$(MANDIR)/man8/tlsgate.8
	$(INSTALL) -D -m 0644 contrib/man/tlsgate.ini.5 $(DESTDIR)$(MANDIR)/man5/tlsgate.ini.5
	@for f in $(EXAMPLE_CONFIGS); do \
	  echo "$(INSTALL) -D -m 0644 etc/$$f $(DESTDIR)$(CONFDIR)/$$f.example"; \
	  $(INSTALL) -D -m 0644 etc/$$f $(DESTDIR)$(CONFDIR)/$$f.example || exit 1; \
	  if [ -e $(DESTDIR)$(CONFDIR)/$$f ]; then \
	    echo "keeping $(DESTDIR)$(CONFDIR)/$$f (the new example is $$f.example)"; \
	  else \
	    echo "$(INSTALL) -m 0644 etc/$$f $(DESTDIR)$(CONFDIR)/$$f"; \
	    $(INSTALL) -m 0644 etc/$$f $(DESTDIR)$(CONFDIR)/$$f || exit 1; \
	  fi; \
	done
	@mkdir -p $(BUILD)/contrib
	sed -e 's|/usr/sbin/tlsgate|$(SBINDIR)/tlsgate|g' -e 's|/etc/tlsgate/|$(CONFDIR)/|g' \
	  contrib/systemd/tlsgate.service >$(BUILD)/contrib/tlsgate.service
	$(INSTALL) -D -m 0644 $(BUILD)/contrib/tlsgate.service $(DESTDIR)$(SYSTEMDUNITDIR)/tlsgate.service
	$(INSTALL) -D -m 0644 contrib/systemd/tlsgate.sysusers $(DESTDIR)$(SYSUSERSDIR)/tlsgate.conf
	$(INSTALL) -D -m 0644 contrib/systemd/tlsgate.tmpfiles $(DESTDIR)$(TMPFILESDIR)/tlsgate.conf
	$(INSTALL) -D -m 0644 contrib/logrotate/tlsgate $(DESTDIR)$(LOGROTATEDIR)/tlsgate
	$(INSTALL) -D -m 0644 contrib/postfix/main.cf $(DESTDIR)$(DOCDIR)/examples/postfix-main.cf
	$(INSTALL) -D -m 0644 contrib/sendmail/tlsgate.mc $(DESTDIR)$(DOCDIR)/examples/sendmail-tlsgate.mc

# Removes what install put, except a configuration that differs from the example it
# was installed as (it was edited): that stays, and so does its directory.
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/tlsgate \
	  $(DESTDIR)$(MANDIR)/man8/tlsgate.8 $(DESTDIR)$(MANDIR)/man5/tlsgate.ini.5 \
	  $(DESTDIR)$(SYSTEMDUNITDIR)/tlsgate.service \
	  $(DESTDIR)$(SYSUSERSDIR)/tlsgate.conf $(DESTDIR)$(TMPFILESDIR)/tlsgate.conf \
	  $(DESTDIR)$(LOGROTATEDIR)/tlsgate \
	  $(DESTDIR)$(DOCDIR)/examples/postfix-main.cf $(DESTDIR)$(DOCDIR)/examples/sendmail-tlsgate.mc
	@for f in $(EXAMPLE_CONFIGS); do \
	  installed=$(DESTDIR)$(CONFDIR)/$$f; \
	  example=$$installed.example; [ -e $$example ] || example=etc/$$f; \
	  if [ -e $$installed ] && ! cmp -s $$installed $$example; then \
	    echo "keeping $$installed: it differs from the example (edited)"; \
	  else \
	    echo "rm -f $$installed"; rm -f $$installed; \
	  fi; \
	  echo "rm -f $$installed.example"; rm -f $$installed.example; \
	done
	@for d in $(DESTDIR)$(CONFDIR) $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR); do \
	  if [ -d $$d ] && rmdir $$d 2>/dev/null; then echo "rmdir $$d"; fi; \
	done

# The Debian package: contrib/debian/ becomes debian/ in a copy of the sources
# under build/deb/tlsgate/, dpkg-buildpackage -us -uc -b builds it there (-nc: the
# copy keeps its objects, so a rebuild compiles only what changed), and
# tlsgate_VERSION_ARCH.deb lands here, checked by lintian. DEB_VERSION=V builds
# version V instead (a changelog entry is added to the copy: the upgrade test).
DEB_DEPS    := build-essential debhelper dpkg-dev lintian
DEB_TREE    := build/deb/tlsgate
DEB_SOURCES := Makefile README.md policy engine report milter etc contrib/man contrib/systemd \
               contrib/logrotate contrib/postfix contrib/sendmail
DEB_VERSION ?= $(shell dpkg-parsechangelog -l contrib/debian/changelog -S Version 2>/dev/null)
DEB_ARCH     = $(shell dpkg-architecture -q DEB_HOST_ARCH)

deb:
	$(call apt_install,$(DEPS) $(DEB_DEPS))
	rm -rf $(DEB_TREE)/debian $(addprefix $(DEB_TREE)/,$(DEB_SOURCES))
	mkdir -p $(DEB_TREE)
	cp -a --parents $(DEB_SOURCES) $(DEB_TREE)/
	cp -a contrib/debian $(DEB_TREE)/debian
	@if [ "$(DEB_VERSION)" != "$$(dpkg-parsechangelog -l contrib/debian/changelog -S Version)" ]; then \
	  { printf 'tlsgate (%s) unstable; urgency=medium\n\n  * Rebuilt as %s (make deb DEB_VERSION=%s).\n\n -- %s  %s\n\n' \
	      "$(DEB_VERSION)" "$(DEB_VERSION)" "$(DEB_VERSION)" \
	      "$$(dpkg-parsechangelog -l contrib/debian/changelog -S Maintainer)" "$$(date -R)"; \
	    cat contrib/debian/changelog; } >$(DEB_TREE)/debian/changelog; \
	fi
	cd $(DEB_TREE) && DEB_BUILD_OPTIONS=parallel=2 dpkg-buildpackage -us -uc -b -nc
	cp $(DEB_TREE)/../tlsgate_$(DEB_VERSION)_$(DEB_ARCH).deb .
	lintian --fail-on error,warning --info tlsgate_$(DEB_VERSION)_$(DEB_ARCH).deb

# The package on Debian 12 with systemd as PID 1 (a podman container): installed
# with apt beside Debian's Postfix and prometheus-node-exporter, then mail, metrics,
# reload, a socket in use, an upgrade and a purge (t/install/deb-container.sh).
check-deb: deb
	t/install/deb-container.sh tlsgate_$(DEB_VERSION)_$(DEB_ARCH).deb

# make install into a temporary DESTDIR and check the result: file list, modes, man
# page lint, systemd-analyze verify, logrotate -d, the Sendmail snippet through m4,
# a kept configuration, and an uninstall that leaves nothing.
check-install: $(BUILD)/tlsgate
	t/install/run.sh

# The installed unit under a real systemd (PID 1 of a podman container): start, the
# dropped privileges, reload, logrotate, a bad file, a unix socket, stop. Not yet part
# of `make check` (podman, an image build).
check-systemd: $(BUILD)/tlsgate
	t/install/systemd-container.sh

clean:
	rm -rf build build-asan build-tsan $(FUZZ_BUILD)

-include $(BUILD)/t/bench/lookup_bench.d $(BUILD)/t/bench/gen_networks.d $(BUILD)/t/bench/gen_partners.d $(BUILD)/t/bench/milter_load.d $(BUILD)/t/bench/metrics_bench.d $(POLICY_OBJ:.o=.d) $(ENGINE_OBJ:.o=.d) $(MILTER_OBJ:.o=.d) $(UNIT_OBJ:.o=.d)
-include $(REPORT_OBJ:.o=.d) $(BUILD)/t/bench/gen_accounting.d $(BUILD)/t/bench/csv_reader_bench.d
-include $(FUZZ_LIB_OBJ:.o=.d) $(FUZZ_SRC:%.cc=$(FUZZ_BUILD)/%.d)

