# cabin: containers, microVMs and a software CPU from one binary.
#   make            build ./cabin
#   make demo       install what is missing, build, run a container and a microVM
#   make check      install what is missing, build, run every test
#   make V=1        show the commands; WERROR=0 turns off -Werror
ARCH ?= $(shell uname -m)
CC ?= cc
V ?= 0
WERROR ?= 1
SANITIZE ?= 0
# libcurl, libarchive, libcrypto, libnftables and libmnl are loaded on first use (src/lib/lazy-link.c)
LAZY_LIBS ?= $(if $(filter x86_64,$(ARCH)),1,0)

ifeq ($(V),1)
  Q :=
  E := @true
else
  Q := @
  E := @echo
  MAKEFLAGS += --no-print-directory
endif

PKGS := jansson libseccomp libcap
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# jansson, libseccomp and libcap are linked statically where their archives are installed
# (Debian's -dev packages ship them): each shared library costs every `cabin` process the
# loader's open, mmaps, relocations and symbol lookups, about 0.3 ms of CPU for these three,
# which is a tenth of what a container start costs. STATIC_LIBS=0 links them shared.
STATIC_LIBS ?= 1
ifeq ($(STATIC_LIBS),1)
  STATIC_ARCHIVES := $(foreach l,jansson seccomp cap,$(shell $(CC) -print-file-name=lib$(l).a 2>/dev/null))
  ifeq ($(filter-out /%,$(STATIC_ARCHIVES)),)
    PKG_LIBS := -Wl,-Bstatic $(PKG_LIBS) -Wl,-Bdynamic
  endif
endif

WARNINGS := -Wall -Wextra -Wformat=2 -Wmissing-prototypes -Wstrict-prototypes -Wshadow \
	-Wswitch-enum -Wvla -Wundef -Wwrite-strings -Werror=implicit-function-declaration \
	-Wno-unused-parameter
ifeq ($(WERROR),1)
  WARNINGS += -Werror
endif
OPT ?= -O2 -g
CFLAGS := -std=gnu11 -D_GNU_SOURCE -MMD -MP $(OPT) $(WARNINGS) -Isrc $(PKG_CFLAGS) $(EXTRA_CFLAGS)
LDFLAGS += $(EXTRA_LDFLAGS)
ifeq ($(SANITIZE),1)
  CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer
  LDFLAGS += -fsanitize=address,undefined
endif
LIBS := $(PKG_LIBS) -lpthread
ifeq ($(LAZY_LIBS),1)
  CFLAGS += -DCABIN_LAZY_LIBS
  # unit tests build their fixtures with these libraries directly (libarchive's writer)
  UNIT_LIBS := $(shell pkg-config --libs libcurl libarchive libcrypto libnftables 2>/dev/null)
endif

LIB := libcabin.a
PROG := cabin

# Each mk/<subsystem>.mk appends to these (one OBJS += per line):
#   OBJS        objects of libcabin.a        CLI_OBJS     objects of the cabin binary
#   UNIT_TESTS  tests/unit/test-* programs   STATIC_PROGS static programs built with `all`
#   TEST_PROGS  anything else the tests need (guests, fuzzers), built before `check`
#   CLEAN_EXTRA files `make clean` removes
OBJS :=
CLI_OBJS :=
UNIT_TESTS :=
STATIC_PROGS :=
TEST_PROGS :=
CLEAN_EXTRA :=
include $(sort $(wildcard mk/*.mk))
ALL_OBJS := $(OBJS) $(CLI_OBJS)
DEPS := $(ALL_OBJS:.o=.d) $(addsuffix .d,$(UNIT_TESTS))

all: $(PROG) $(STATIC_PROGS)

$(LIB): $(OBJS)
	$(E) "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

$(PROG): $(CLI_OBJS) $(LIB)
	$(E) "  LINK    $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $(CLI_OBJS) $(LIB) $(LIBS)

%.o: %.c
	$(E) "  CC      $@"
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(UNIT_TESTS): %: %.c $(LIB)
	$(E) "  CC      $@"
	$(Q)$(CC) $(CFLAGS) -Itests -o $@ $< $(LIB) $(LIBS) $(UNIT_LIBS) $(LDFLAGS)

# Dependencies: installs through apt whatever is missing (idempotent, quiet when all is there).
deps:
	$(Q)scripts/setup.sh

check: deps
	$(Q)$(MAKE) all unit-tests
	$(Q)tests/run.sh

check-unit: deps
	$(Q)$(MAKE) all unit-tests
	$(Q)tests/run.sh unit

check-func: deps
	$(Q)$(MAKE) all unit-tests
	$(Q)tests/run.sh func

check-vm: deps
	$(Q)$(MAKE) all unit-tests
	$(Q)tests/run.sh vm

unit-tests: $(UNIT_TESTS) $(TEST_PROGS)

demo: deps
	$(Q)$(MAKE) all
	$(Q)scripts/demo.sh

# Engines never include each other; device and boot code never see KVM.
check-deps:
	$(Q)scripts/check-deps.sh

# C sources only: the headers of the assembly test guests hold GNU as macros.
FORMAT_FILES = $$(git ls-files 'src/*.[ch]' 'tests/*.[ch]' ':!tests/vm/guests/*.h')
format:
	$(Q)clang-format -i $(FORMAT_FILES)

format-check:
	$(Q)clang-format --dry-run -Werror $(FORMAT_FILES)

syntax-check:
	$(Q)! git grep -nE '\<(sprintf|strcpy|strncpy)\(' -- 'src/*.[ch]' || \
		{ echo "syntax-check: use snprintf/xasprintf/memcpy"; exit 1; }
	$(Q)! git grep -nE '^\s*//|[;{}]\s*//' -- 'src/*.[ch]' || \
		{ echo "syntax-check: use /* */ comments"; exit 1; }

install: all
	install -D -m 0755 $(PROG) $(DESTDIR)/usr/local/bin/$(PROG)
	install -D -m 0755 cabin-init $(DESTDIR)/usr/local/libexec/cabin/cabin-init

clean:
	$(E) "  CLEAN"
	$(Q)rm -f $(PROG) $(LIB) $(ALL_OBJS) $(DEPS) $(UNIT_TESTS) $(STATIC_PROGS) $(TEST_PROGS) $(CLEAN_EXTRA)
	$(Q)find src tests -name '*.[od]' -delete

.PHONY: all deps check check-unit check-func check-vm unit-tests demo check-deps format \
	format-check syntax-check install clean
-include $(DEPS)
