# zkfs — build, run and test.  Plain GNU make + pkg-config.
#
#   make          build bin/zkserver, bin/zkfs, bin/zktool, bin/zkserverctl
#   make test     install missing Debian packages, build, run every test
#   make run      install, build, start a local cluster and show how to use it
#   make install  PREFIX=/usr/local (default), DESTDIR honoured
#   make deb      a Debian package in build/ (dpkg-deb)
#   make bench    install, build, run the benchmarks against zkserver and
#                 Apache ZooKeeper (~30 min), raw results + report in bench-out/
#                 (BENCH_QUICK=1 smoke run, BENCH_DOCS=1 also rewrites
#                 docs/benchmarks.md; see docs/benchmarks.md)
#   make fuzz     run every libFuzzer harness for FUZZ_SECONDS each (docs/security.md)
#   make fuzz-merge  merge what the last `make fuzz` found into test/fuzz/corpus
#   make clean

CC      ?= cc
PKGS    := glib-2.0 fuse3 libmicrohttpd json-glib-1.0 openssl
CFLAGS_BASE := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -g \
               -Iinclude -Iserver -Itools/zktool $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LIBS    := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread
OPT     ?= -O2
SAN_FLAGS := -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

LIB_SRC    := $(wildcard lib/*.c)
SERVER_SRC := $(filter-out server/main.c,$(wildcard server/*.c))
ZKFS_SRC   := $(filter-out zkfs/main.c,$(wildcard zkfs/*.c))
ZKTOOL_SRC := $(filter-out tools/zktool/main.c,$(wildcard tools/zktool/*.c))
UNIT_SRC   := $(wildcard test/unit/test_*.c)

OBJ        := build/obj
SANOBJ     := build/san
LIB_OBJ    := $(LIB_SRC:%.c=$(OBJ)/%.o)
SERVER_OBJ := $(SERVER_SRC:%.c=$(OBJ)/%.o)
ZKFS_OBJ   := $(ZKFS_SRC:%.c=$(OBJ)/%.o)
ZKTOOL_OBJ := $(ZKTOOL_SRC:%.c=$(OBJ)/%.o)
LIB_SANOBJ    := $(LIB_SRC:%.c=$(SANOBJ)/%.o)
SERVER_SANOBJ := $(SERVER_SRC:%.c=$(SANOBJ)/%.o)
ZKFS_SANOBJ   := $(ZKFS_SRC:%.c=$(SANOBJ)/%.o)
ZKTOOL_SANOBJ := $(ZKTOOL_SRC:%.c=$(SANOBJ)/%.o)

# Helpers linked into every unit test (files not named test_*.c).
UNIT_HELPERS := $(filter-out $(UNIT_SRC),$(wildcard test/unit/*.c))
UNIT_BIN     := $(UNIT_SRC:test/unit/%.c=build/test/%)
UNIT_SAN_BIN := $(UNIT_SRC:test/unit/%.c=build/test-san/%)

PROGRAMS := bin/zkserver bin/zkbench bin/zktool bin/zkserverctl $(if $(wildcard zkfs/main.c),bin/zkfs)

.PHONY: all clean test unit unit-san integration deps run san install uninstall deb bench bench-deps chaos fuzz-build fuzz fuzz-merge fuzz-smoke kazoo-upstream
all: $(PROGRAMS)

# libFuzzer harnesses (test/fuzz/fuzz_*.c), always with ASan+UBSan, built
# with clang (the normal build stays $(CC)); every project source is
# compiled again into build/fuzz with coverage instrumentation.
FUZZ_CC    ?= clang
FUZZ_FLAGS := -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined \
              -fno-omit-frame-pointer
FUZZOBJ    := build/fuzz/obj
FUZZ_SRC   := $(wildcard test/fuzz/fuzz_*.c)
FUZZ_BIN   := $(FUZZ_SRC:test/fuzz/%.c=build/fuzz/%)
FUZZ_COMMON_OBJ := $(patsubst %.c,$(FUZZOBJ)/%.o,$(LIB_SRC) $(SERVER_SRC) zkfs/map.c test/fuzz/common.c)
FUZZ_SECONDS ?= 180

$(FUZZOBJ)/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CFLAGS_BASE) $(FUZZ_FLAGS) -MMD -MP -c $< -o $@

build/fuzz/fuzz_%: $(FUZZOBJ)/test/fuzz/fuzz_%.o $(FUZZ_COMMON_OBJ)
	$(FUZZ_CC) -fsanitize=fuzzer,address,undefined -o $@ $^ $(LIBS)

fuzz-build: $(FUZZ_BIN)

# Every harness for FUZZ_SECONDS (corpus copied to a scratch dir), then a
# table of executions and coverage; `make fuzz-merge` keeps what it found.
fuzz: fuzz-build
	@FUZZ_SECONDS=$(FUZZ_SECONDS) ./test/fuzz/run.sh fuzz $(FUZZ_BIN)

fuzz-merge: fuzz-build
	@./test/fuzz/run.sh merge $(FUZZ_BIN)

# What make test runs: the committed corpus and every regression input
# through every harness, then a short fuzz of each.
fuzz-smoke: fuzz-build
	@FUZZ_SECONDS=$${FUZZ_SMOKE_SECONDS:-10} ./test/fuzz/run.sh smoke $(FUZZ_BIN)

$(OBJ)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(OPT) -MMD -MP -c $< -o $@

$(SANOBJ)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(SAN_FLAGS) -MMD -MP -c $< -o $@

bin/zkserver: $(OBJ)/server/main.o $(SERVER_OBJ) $(LIB_OBJ)
	@mkdir -p bin
	$(CC) $(OPT) -o $@ $^ $(LIBS)

bin/zkfs: $(OBJ)/zkfs/main.o $(ZKFS_OBJ) $(LIB_OBJ)
	@mkdir -p bin
	$(CC) $(OPT) -o $@ $^ $(LIBS)

# The data-directory tool uses the server's modules (log, snapshots, tree, txn) as a library.
bin/zktool: $(OBJ)/tools/zktool/main.o $(ZKTOOL_OBJ) $(SERVER_OBJ) $(LIB_OBJ)
	@mkdir -p bin
	$(CC) $(OPT) -o $@ $^ $(LIBS)

bin/zktool-san: $(SANOBJ)/tools/zktool/main.o $(ZKTOOL_SANOBJ) $(SERVER_SANOBJ) $(LIB_SANOBJ)
	@mkdir -p bin
	$(CC) $(SAN_FLAGS) -o $@ $^ $(LIBS)

bin/zkbench: $(OBJ)/tools/zkbench.o $(OBJ)/tools/bench/loadgen.o $(LIB_OBJ)
	@mkdir -p bin
	$(CC) $(OPT) -o $@ $^ $(LIBS)

# The independent load client: the same driver on the official Apache C
# client only (Debian libzookeeper-mt-dev), built without the project's
# include paths so none of its code can be linked in.
BENCH_CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -g $(OPT)
build/bench/%.o: tools/bench/%.c
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -MMD -MP -c $< -o $@

bin/zkload: build/bench/zkload.o build/bench/loadgen.o
	@mkdir -p bin
	$(CC) $(OPT) -o $@ $^ -lzookeeper_mt -lpthread

# The disk's floor: 4 KiB append + fdatasync latency.
bin/fsyncfloor: build/bench/fsyncfloor.o
	@mkdir -p bin
	$(CC) $(OPT) -o $@ $^

# The FUSE floor: the fastest read-only libfuse filesystem, for zkfs's figures.
build/bench/fusefloor.o: tools/bench/fusefloor.c
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) $(shell pkg-config --cflags fuse3) -MMD -MP -c $< -o $@

bin/fusefloor: build/bench/fusefloor.o
	@mkdir -p bin
	$(CC) $(OPT) -o $@ $^ $(shell pkg-config --libs fuse3)

# Sanitizer build of the server, used by the integration tests under SAN=1.
bin/zkserver-san: $(SANOBJ)/server/main.o $(SERVER_SANOBJ) $(LIB_SANOBJ)
	@mkdir -p bin
	$(CC) $(SAN_FLAGS) -o $@ $^ $(LIBS)

# Each unit binary links only what it tests: the project's objects go in
# as one static archive, from which the linker takes only the members the
# test (and what they call) needs.
UNIT_AR     := $(OBJ)/libunit.a
UNIT_SAN_AR := $(SANOBJ)/libunit.a
$(UNIT_AR): $(SERVER_OBJ) $(ZKFS_OBJ) $(ZKTOOL_OBJ) $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^
$(UNIT_SAN_AR): $(SERVER_SANOBJ) $(ZKFS_SANOBJ) $(ZKTOOL_SANOBJ) $(LIB_SANOBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

build/test/%: $(OBJ)/test/unit/%.o $(UNIT_HELPERS:%.c=$(OBJ)/%.o) $(UNIT_AR)
	@mkdir -p $(dir $@)
	$(CC) $(OPT) -o $@ $(filter %.o,$^) $(UNIT_AR) $(LIBS) -lcmocka

build/test-san/%: $(SANOBJ)/test/unit/%.o $(UNIT_HELPERS:%.c=$(SANOBJ)/%.o) $(UNIT_SAN_AR)
	@mkdir -p $(dir $@)
	$(CC) $(SAN_FLAGS) -o $@ $(filter %.o,$^) $(UNIT_SAN_AR) $(LIBS) -lcmocka

bin/zkfs-san: $(SANOBJ)/zkfs/main.o $(ZKFS_SANOBJ) $(LIB_SANOBJ)
	@mkdir -p bin
	$(CC) $(SAN_FLAGS) -o $@ $^ $(LIBS)

san: bin/zkserver-san bin/zkfs-san bin/zktool-san

# Apache's own data-directory tools, run by the zktool tests for comparison.
ZKTOOL_JAVA_CP := /usr/share/java/zookeeper.jar:/usr/share/java/zookeeper-jute.jar:/usr/share/java/slf4j-api.jar
build/java/ZkToolReference.class: test/integration/java/ZkToolReference.java
	@mkdir -p $(dir $@)
	javac -nowarn -d $(dir $@) -cp $(ZKTOOL_JAVA_CP) $<

# ---- installation --------------------------------------------------------
# /usr keeps configuration in /etc and state in /var; any other prefix
# keeps them under the prefix (GNU defaults).
PREFIX        ?= /usr/local
BINDIR        ?= $(PREFIX)/bin
MANDIR        ?= $(PREFIX)/share/man
DOCDIR        ?= $(PREFIX)/share/doc/zkfs
SYSCONFDIR    ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
LOCALSTATEDIR ?= $(if $(filter /usr,$(PREFIX)),/var,$(PREFIX)/var)
# mount.zkfs goes where mount(8) looks for helpers.
SBINDIR       ?= /sbin
SYSTEMDUNITDIR ?= $(if $(filter /usr,$(PREFIX)),/lib/systemd/system,$(PREFIX)/lib/systemd/system)
INSTALLED_PROGRAMS := bin/zkserver bin/zktool $(if $(wildcard zkfs/main.c),bin/zkfs)
paths_for = sed -e 's|@BINDIR@|$(1)|g' -e 's|@SYSCONFDIR@|$(2)|g' -e 's|@LOCALSTATEDIR@|$(3)|g'

# The control script of the build tree: finds zkserver next to itself.
bin/zkserverctl: packaging/zkserverctl.in
	@mkdir -p bin
	$(call paths_for,$(CURDIR)/bin,/etc,/var) $< > $@
	chmod 755 $@

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man8 \
	  $(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(SYSCONFDIR)/zkfs \
	  $(DESTDIR)$(SYSCONFDIR)/default $(DESTDIR)$(SYSCONFDIR)/logrotate.d
	install -m 755 $(INSTALLED_PROGRAMS) $(DESTDIR)$(BINDIR)/
	$(call paths_for,$(BINDIR),$(SYSCONFDIR),$(LOCALSTATEDIR)) packaging/zkserverctl.in > $(DESTDIR)$(BINDIR)/zkserverctl
	chmod 755 $(DESTDIR)$(BINDIR)/zkserverctl
	ln -sf zkserverctl $(DESTDIR)$(BINDIR)/zkServer.sh
	for u in zkserver.service zkserver@.service; do \
	  $(call paths_for,$(BINDIR),$(SYSCONFDIR),$(LOCALSTATEDIR)) packaging/systemd/$$u.in > $(DESTDIR)$(SYSTEMDUNITDIR)/$$u && \
	  chmod 644 $(DESTDIR)$(SYSTEMDUNITDIR)/$$u || exit 1; done
	install -D -m 755 zkfs/mount.zkfs $(DESTDIR)$(SBINDIR)/mount.zkfs
	install -m 644 docs/zkfs.8 $(DESTDIR)$(MANDIR)/man8/
	ln -sf zkfs.8 $(DESTDIR)$(MANDIR)/man8/mount.zkfs.8
	install -m 644 packaging/man/zktool.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 644 packaging/man/zkserver.8 packaging/man/zkserverctl.8 $(DESTDIR)$(MANDIR)/man8/
	ln -sf zkserverctl.8 $(DESTDIR)$(MANDIR)/man8/zkServer.sh.8
	install -m 644 packaging/zoo.cfg $(DESTDIR)$(DOCDIR)/examples/zoo.cfg
	install -m 644 README.md docs/*.md $(DESTDIR)$(DOCDIR)/
	$(call paths_for,$(BINDIR),$(SYSCONFDIR),$(LOCALSTATEDIR)) packaging/logrotate-zkfs.in > $(DESTDIR)$(SYSCONFDIR)/logrotate.d/zkfs
	@# Configuration is installed once, never overwritten.
	test -e $(DESTDIR)$(SYSCONFDIR)/zkfs/zoo.cfg || install -m 644 packaging/zoo.cfg $(DESTDIR)$(SYSCONFDIR)/zkfs/zoo.cfg
	test -e $(DESTDIR)$(SYSCONFDIR)/default/zkserver || install -m 644 packaging/default-zkserver $(DESTDIR)$(SYSCONFDIR)/default/zkserver

# Removes what install put there, except the configuration in SYSCONFDIR/zkfs and SYSCONFDIR/default.
uninstall:
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(notdir $(INSTALLED_PROGRAMS)) zkserverctl zkServer.sh)
	rm -f $(DESTDIR)$(SYSTEMDUNITDIR)/zkserver.service $(DESTDIR)$(SYSTEMDUNITDIR)/zkserver@.service
	rm -f $(DESTDIR)$(SBINDIR)/mount.zkfs
	rm -f $(DESTDIR)$(MANDIR)/man1/zktool.1 $(addprefix $(DESTDIR)$(MANDIR)/man8/,zkserver.8 zkserverctl.8 zkServer.sh.8 zkfs.8 mount.zkfs.8)
	rm -f $(DESTDIR)$(SYSCONFDIR)/logrotate.d/zkfs
	rm -rf $(DESTDIR)$(DOCDIR)

# A Debian binary package, build/zkfs_VERSION_ARCH.deb (packaging/build-deb.sh).
deb: all
	@./packaging/build-deb.sh

# Chaos-test tools (test/chaos/): the disk-fault shim (LD_PRELOAD), the
# NFQUEUE packet delayer and the C workload client.
CHAOS_TOOLS := build/chaos/libfaultfs.so build/chaos/nfq-delay build/chaos/chaos-client
# What the integration tests run (also built by make test's parallel build step).
INTEGRATION_DEPS := all bin/zkserver-san bin/zkfs-san bin/zktool-san build/java/ZkToolReference.class $(CHAOS_TOOLS) \
                    build/itest/tls_client
UNIT_SAN_ENV := ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
build/chaos/libfaultfs.so: test/chaos/faultfs.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) -O2 -fPIC -shared -o $@ $< -ldl

build/chaos/nfq-delay: test/chaos/nfq_delay.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) -O2 -o $@ $< $(shell pkg-config --libs libnetfilter_queue 2>/dev/null || echo -lnetfilter_queue)

# The client library over TLS, driven by test/integration/test_tls.sh.
build/itest/tls_client: $(OBJ)/test/integration/tls_client.o $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(OPT) -o $@ $^ $(LIBS)
# Its ASan+UBSan build: TLS_CLIENT=build/itest-san/tls_client SAN=1 ./test/run-integration.sh test_tls
build/itest-san/tls_client: $(SANOBJ)/test/integration/tls_client.o $(LIB_SANOBJ)
	@mkdir -p $(dir $@)
	$(CC) $(SAN_FLAGS) -o $@ $^ $(LIBS)

build/chaos/chaos-client: $(OBJ)/test/chaos/chaos_client.o $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(OPT) -o $@ $^ $(LIBS)

# Randomized fault schedules against a real ensemble in network namespaces
# (docs/chaos-testing.md), after the torn-tail test at every byte offset
# and every disk-fault scenario.  CHAOS_SECONDS (default 600) or
# CHAOS_SCHEDULES, CHAOS_SEED to replay one schedule (CHAOS_SKIP_FIXED=1
# skips the two fixed tests); CHAOS_SAN=1 uses bin/zkserver-san.  Then the
# Zab simulation's long sweep: ZAB_SIM_CHAOS_SEEDS random seeds (default
# 20000, ~5 minutes; make test runs 3000 plain and 1200 under ASan).
ZAB_SIM_CHAOS_SEEDS ?= 20000
chaos: all bin/zkserver-san $(CHAOS_TOOLS) build/test/test_zab_sim
	@if [ "$(CHAOS_SKIP_FIXED)" != 1 ]; then \
	  TORN_CUT_STEP=1 TORN_STEP=1 nice -n 10 bash test/integration/test_torn_tail.sh && \
	  DISK_FAULTS_ALL=1 nice -n 10 bash test/integration/test_disk_faults.sh; fi
	@nice -n 10 /usr/bin/python3 test/chaos/chaos.py
	@echo "zab sim: $(ZAB_SIM_CHAOS_SEEDS) random seeds (make test runs 3000)"
	@ZAB_SIM_SEEDS=$(ZAB_SIM_CHAOS_SEEDS) nice -n 10 build/test/test_zab_sim

# kazoo's own upstream test suite (python3-kazoo's kazoo/tests) against a
# zkserver ensemble started by kazoo's harness (tools/kazoo-upstream.sh);
# KAZOO_ARGS are pytest arguments (e.g. KAZOO_ARGS='-k TestReadOnlyMode'),
# IMPL=apache runs it against Apache 3.8.  Never part of make test (it
# takes 10-20 minutes).
kazoo-upstream: all
	@nice -n 5 ./tools/kazoo-upstream.sh $(KAZOO_ARGS)

# Install what is missing on a fresh Debian machine (idempotent, quiet when done).
deps:
	@./tools/install-deps.sh

unit: $(UNIT_BIN)
	@./test/run-units.sh build/test $(UNIT_BIN)

unit-san: $(UNIT_SAN_BIN)
	@$(UNIT_SAN_ENV) ./test/run-units.sh build/test-san $(UNIT_SAN_BIN)

# The whole suite against bin/zkserver, then the tests that drive the most
# server code again against the ASan+UBSan build (the harness fails a test
# whose server log holds a sanitizer report).
integration: $(INTEGRATION_DEPS)
	@./test/run-integration.sh
	@SAN=1 ./test/run-integration.sh '$(INTEGRATION_SAN_FILTER)'

.SECONDARY:

# make test: everything it needs is built first in one parallel make (the
# plain, ASan and fuzz builds are independent; CI calls plain `make test`,
# so the sub-make gets -j itself); then test/run-test.sh runs the
# integration tests (plain pass, then the ASan pass of INTEGRATION_SAN_FILTER)
# and, alongside at nice +10, the unit tests, the ASan unit tests and
# fuzz-smoke: the same tests as `make unit unit-san fuzz-smoke integration`.
TEST_JOBS ?= $(shell nproc 2>/dev/null || echo 2)
INTEGRATION_SAN_FILTER := kazoo|hostile|durability|cli_mt|fulldisk|fourlw|diff|ensemble_failover|ensemble_sessions|zkfs_basic|zkfs_inotify|zkfs_tools|zkfs_sessloss|attack|chaos

test: deps
	@$(MAKE) --no-print-directory -j$(TEST_JOBS) $(INTEGRATION_DEPS) $(UNIT_BIN) $(UNIT_SAN_BIN) $(FUZZ_BIN)
	@UNIT_BIN="$(UNIT_BIN)" UNIT_SAN_BIN="$(UNIT_SAN_BIN)" FUZZ_BIN="$(FUZZ_BIN)" \
	  UNIT_SAN_ENV="$(UNIT_SAN_ENV)" INTEGRATION_SAN_FILTER='$(INTEGRATION_SAN_FILTER)' ./test/run-test.sh

run: deps
	@$(MAKE) --no-print-directory all
	@./tools/run-cluster.sh

# Benchmarks (never part of make test): zkserver against Apache ZooKeeper
# 3.8 from Debian, standalone and 3-replica ensembles, with bin/zkbench and
# bin/zkload.  Output in $(BENCH_OUT) (raw CSV/JSON, plots, report); with
# BENCH_DOCS=1 the report also goes to docs/benchmarks.md + docs/bench/.
BENCH_OUT ?= bench-out
bench-deps: deps
	@./tools/install-deps.sh --bench

bench: bench-deps
	@$(MAKE) --no-print-directory all bin/zkload bin/fsyncfloor bin/fusefloor
	@/usr/bin/python3 tools/bench/bench.py --out $(BENCH_OUT)

clean:
	rm -rf build bin

-include $(shell find build -name '*.d' -type f 2>/dev/null)
