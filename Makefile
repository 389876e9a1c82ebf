# zkfs — build, run and test.  Plain GNU make + pkg-config.
#
#   make          build bin/zkserver and bin/zkfs
#   make test     install missing Debian packages, build, run every test
#   make run      install, build, start a local cluster and show how to use it
#   make bench    install, build, run the benchmarks against zkserver and
#                 Apache ZooKeeper (~30 min), raw results + report in bench-out/
#                 (BENCH_QUICK=1 smoke run, BENCH_DOCS=1 also rewrites
#                 docs/benchmarks.md; see docs/benchmarks.md)
#   make clean

CC      ?= cc
PKGS    := glib-2.0 fuse3
CFLAGS_BASE := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -g \
               -Iinclude -Iserver $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LIBS    := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread
OPT     ?= -O2
SAN_FLAGS := -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

LIB_SRC    := $(wildcard lib/*.c)
SERVER_SRC := $(filter-out server/main.c,$(wildcard server/*.c))
ZKFS_SRC   := $(filter-out zkfs/main.c,$(wildcard zkfs/*.c))
UNIT_SRC   := $(wildcard test/unit/test_*.c)

OBJ        := build/obj
SANOBJ     := build/san
LIB_OBJ    := $(LIB_SRC:%.c=$(OBJ)/%.o)
SERVER_OBJ := $(SERVER_SRC:%.c=$(OBJ)/%.o)
ZKFS_OBJ   := $(ZKFS_SRC:%.c=$(OBJ)/%.o)
LIB_SANOBJ    := $(LIB_SRC:%.c=$(SANOBJ)/%.o)
SERVER_SANOBJ := $(SERVER_SRC:%.c=$(SANOBJ)/%.o)
ZKFS_SANOBJ   := $(ZKFS_SRC:%.c=$(SANOBJ)/%.o)

UNIT_BIN     := $(UNIT_SRC:test/unit/%.c=build/test/%)
UNIT_SAN_BIN := $(UNIT_SRC:test/unit/%.c=build/test-san/%)

PROGRAMS := bin/zkserver bin/zkbench $(if $(wildcard zkfs/main.c),bin/zkfs)

.PHONY: install all clean test unit unit-san integration deps run san bench bench-deps
all: $(PROGRAMS)

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

# Sanitizer build of the server, used by the integration tests under SAN=1.
bin/zkserver-san: $(SANOBJ)/server/main.o $(SERVER_SANOBJ) $(LIB_SANOBJ)
	@mkdir -p bin
	$(CC) $(SAN_FLAGS) -o $@ $^ $(LIBS)

build/test/%: $(OBJ)/test/unit/%.o $(SERVER_OBJ) $(ZKFS_OBJ) $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(OPT) -o $@ $^ $(LIBS) -lcmocka

build/test-san/%: $(SANOBJ)/test/unit/%.o $(SERVER_SANOBJ) $(ZKFS_SANOBJ) $(LIB_SANOBJ)
	@mkdir -p $(dir $@)
	$(CC) $(SAN_FLAGS) -o $@ $^ $(LIBS) -lcmocka

bin/zkfs-san: $(SANOBJ)/zkfs/main.o $(ZKFS_SANOBJ) $(LIB_SANOBJ)
	@mkdir -p bin
	$(CC) $(SAN_FLAGS) -o $@ $^ $(LIBS)

san: bin/zkserver-san bin/zkfs-san

# Install what is missing on a fresh Debian machine (idempotent, quiet when done).
deps:
	@./tools/install-deps.sh

unit: $(UNIT_BIN)
	@./test/run-units.sh build/test $(UNIT_BIN)

unit-san: $(UNIT_SAN_BIN)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ./test/run-units.sh build/test-san $(UNIT_SAN_BIN)

# The whole suite against bin/zkserver, then the tests that drive the most
# server code again against the ASan+UBSan build (the harness fails a test
# whose server log holds a sanitizer report).
integration: all bin/zkserver-san bin/zkfs-san
	@./test/run-integration.sh
	@SAN=1 ./test/run-integration.sh 'kazoo|hostile|durability|cli_mt|fulldisk|fourlw|diff|ensemble_failover|ensemble_sessions|zkfs_basic|zkfs_inotify|zkfs_tools|attack'

.SECONDARY:

test: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory unit-san
	@$(MAKE) --no-print-directory integration

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
	@$(MAKE) --no-print-directory all bin/zkload bin/fsyncfloor
	@/usr/bin/python3 tools/bench/bench.py --out $(BENCH_OUT)

# make install [PREFIX=/usr/local] [SBINDIR=/sbin] [DESTDIR=]: zkfs, its
# mount(8) helper and its manual page.
PREFIX ?= /usr/local
SBINDIR ?= /sbin
install: bin/zkfs bin/zkserver
	install -D -m 755 bin/zkfs $(DESTDIR)$(PREFIX)/bin/zkfs
	install -D -m 755 bin/zkserver $(DESTDIR)$(PREFIX)/bin/zkserver
	install -D -m 755 zkfs/mount.zkfs $(DESTDIR)$(SBINDIR)/mount.zkfs
	install -D -m 644 docs/zkfs.8 $(DESTDIR)$(PREFIX)/share/man/man8/zkfs.8
	ln -sf zkfs.8 $(DESTDIR)$(PREFIX)/share/man/man8/mount.zkfs.8

clean:
	rm -rf build bin

-include $(shell find build -name '*.d' 2>/dev/null)
