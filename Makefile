# litestream-c: one non-recursive GNU Makefile.
#
#   make          build build/litestream-c
#   make deps     install missing Debian packages (apt-get; sudo when not root)
#   make run      deps + build + the daemon on a demo database (./demo/)
#   make test     deps + build + every test (unit, then integration)
#   make check    the tests again under ASan+UBSan (objects in build/san/)
#   make crash-test  the crash-point loop in full (N up to 30 per point)
#   make soak     kill -9, S3 faults and restores for SOAK_SECONDS (600)
#   make fuzz     libFuzzer (clang) on each tests/fuzz target, FUZZ_SECONDS each
#   make install  PREFIX=/usr/local DESTDIR=: binary, example config, units
#   make clean
PREFIX     ?= /usr/local
BUILD      ?= build
PKG_CONFIG ?= pkg-config
DEPS       := sqlite3 libcurl libcrypto inih liblz4 expat libsystemd libmicrohttpd
CFLAGS     ?= -O2 -g
WARN       := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
              -Wmissing-prototypes -Wpointer-arith -Wformat=2
ifdef SANITIZE
SAN        := -fsanitize=$(SANITIZE) -fno-sanitize-recover=all -fno-omit-frame-pointer
endif
ALL_CFLAGS  = -std=c11 -D_GNU_SOURCE -I. $(WARN) $(CFLAGS) $(SAN) \
              $(shell $(PKG_CONFIG) --cflags $(DEPS) 2>/dev/null)
LIBS        = $(shell $(PKG_CONFIG) --libs $(DEPS) 2>/dev/null) -lpthread

# Modules, leaf first.  The dependency direction is enforced twice: each
# unit test links only its module and what that module may use, and
# tests/lint.sh greps the includes.
objs        = $(patsubst %.c,$(BUILD)/%.o,$(sort $(wildcard $(1)/*.c)))
COMMON     := $(call objs,common)
WAL        := $(call objs,wal) $(COMMON)
S3         := $(call objs,s3) $(COMMON)
REPLICA    := $(call objs,replica) $(call objs,s3) $(COMMON)
RESTORE    := $(call objs,restore) $(REPLICA) $(call objs,wal)
DAEMON     := $(call objs,daemon) $(RESTORE)
PROGRAM    := $(BUILD)/main.o $(DAEMON)

BIN        := $(BUILD)/litestream-c
UNIT_SRC   := $(sort $(wildcard tests/unit/test_*.c))
UNIT       := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
# The same program with named crash points (common/crashpoint.h), for the
# recovery tests only; objects in $(BUILD)/crash/.
CRASH_BIN  := $(BUILD)/crash/litestream-c
TOOLS      := $(BUILD)/tests/walwriter $(CRASH_BIN)
# Fuzz harnesses tests/fuzz/fuzz_<module>_<what>.c; each corpus is
# replayed by `make test` through a gcc build (replay_<module>_<what>).
FUZZ_NAMES := $(patsubst tests/fuzz/fuzz_%.c,%,$(sort $(wildcard tests/fuzz/fuzz_*.c)))
REPLAY     := $(patsubst %,$(BUILD)/tests/replay_%,$(FUZZ_NAMES))
FUZZ_BUILD := build/fuzz
FUZZ_SECONDS ?= 60

all: $(BIN)

$(BIN): $(sort $(PROGRAM))
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

# A unit test named test_<module>_<what>.c links its module's closure only.
unit_deps   = $(sort $(BUILD)/tests/unit/$(1).o $(or \
              $(if $(filter test_common_%,$(1)),$(COMMON)), \
              $(if $(filter test_wal_%,$(1)),$(WAL)), \
              $(if $(filter test_s3_%,$(1)),$(S3)), \
              $(if $(filter test_replica_%,$(1)),$(REPLICA)), \
              $(if $(filter test_restore_%,$(1)),$(RESTORE)), \
              $(DAEMON)))
.SECONDEXPANSION:
$(BUILD)/tests/test_%: $$(call unit_deps,test_$$*)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

$(CRASH_BIN): $(patsubst $(BUILD)/%,$(BUILD)/crash/%,$(sort $(PROGRAM)))
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/crash/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -DLSC_CRASHPOINTS -MMD -MP -c -o $@ $<

# A harness links its module's closure, as a unit test does.
fuzz_deps   = $(sort $(or \
              $(if $(filter common_%,$(1)),$(COMMON)), \
              $(if $(filter wal_%,$(1)),$(WAL)), \
              $(if $(filter s3_%,$(1)),$(S3)), \
              $(if $(filter replica_%,$(1)),$(REPLICA)), \
              $(if $(filter restore_%,$(1)),$(RESTORE)), \
              $(DAEMON)))
$(BUILD)/tests/replay_%: $(BUILD)/tests/fuzz/fuzz_%.o \
    $(BUILD)/tests/fuzz/replay_main.o $$(call fuzz_deps,$$*)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)
$(BUILD)/tests/fuzz/replay_main.o: ALL_CFLAGS += \
    -DFUZZ_CORPUS_ROOT='"$(CURDIR)/tests/fuzz/corpus"'
# Kept, or make would delete and rebuild them as intermediates each time.
.SECONDARY: $(patsubst %,$(BUILD)/tests/fuzz/fuzz_%.o,$(FUZZ_NAMES))
# The libFuzzer binaries (make fuzz builds them in $(FUZZ_BUILD)).
$(BUILD)/fuzz_%: $(BUILD)/tests/fuzz/fuzz_%.o $$(call fuzz_deps,$$*)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -fsanitize=fuzzer -o $@ $^ $(LIBS)

$(BUILD)/tests/walwriter: $(BUILD)/tests/tools/walwriter.o
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

deps:
	@tests/deps.sh

unit: $(UNIT) $(REPLAY)
	@tests/unit/run.sh $(UNIT) $(REPLAY)

test: deps
	@$(MAKE) --no-print-directory all $(UNIT) $(TOOLS) $(REPLAY)
	@tests/run-all.sh $(BUILD)

# The bounded crash-point loops run in `make test` (N up to 2 per point,
# 1 on S3);
# this runs it in full, plus more kill -9 runs during spilling transactions.
crash-test: deps
	@$(MAKE) --no-print-directory all $(TOOLS)
	@CRASH_MAX_N=30 RUNS=30 TEST_TIMEOUT=7200 tests/integration/run.sh $(BUILD) t1300
	@CRASH_MAX_N=30 TEST_TIMEOUT=7200 tests/integration/run.sh $(BUILD) t1400
	@CRASH_MAX_N=10 TEST_TIMEOUT=7200 tests/integration/run.sh $(BUILD) t5260

# Not in `make test`: SOAK_SECONDS (default 600) of kill -9 at random, S3
# faults and model-checked restores (tests/integration/soak.sh).
soak: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(abspath $(BUILD)) sh tests/integration/soak.sh

# clang with libFuzzer, ASan and UBSan; objects apart in $(FUZZ_BUILD).
fuzz:
	@tests/deps.sh fuzz
	@$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=clang \
	    CFLAGS='-g -O1 -fsanitize=fuzzer-no-link' SANITIZE=address,undefined \
	    $(patsubst %,$(FUZZ_BUILD)/fuzz_%,$(FUZZ_NAMES))
	@tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_NAMES)

check: deps
	@$(MAKE) --no-print-directory BUILD=build/san SANITIZE=address,undefined test
	@tests/lint.sh

run:
	@tests/deps.sh build
	@$(MAKE) --no-print-directory all
	@tests/demo.sh $(BUILD)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/systemd/system \
	    $(DESTDIR)$(PREFIX)/share/doc/litestream-c
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/litestream-c
	install -m 644 litestream-c.ini $(DESTDIR)$(PREFIX)/share/doc/litestream-c/
	install -m 644 systemd/README.md $(DESTDIR)$(PREFIX)/share/doc/litestream-c/
	@# The units name /usr/local/bin/litestream-c: follow PREFIX.
	for u in litestream-c.service litestream-c-restore@.service \
	    litestream-c-drill@.service litestream-c-drill@.timer; do \
	    sed 's|/usr/local/|$(PREFIX)/|g' "systemd/$$u" > "$(DESTDIR)$(PREFIX)/lib/systemd/system/$$u" && \
	    chmod 644 "$(DESTDIR)$(PREFIX)/lib/systemd/system/$$u" || exit 1; done

clean:
	rm -rf build demo

.PHONY: all deps unit test crash-test soak check fuzz run install clean
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
