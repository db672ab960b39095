# libFuzzer targets (clang): tests/fuzz/fuzz-*.c. Each is linked with the sources of the
# parsers it drives built under ASan/UBSan (and libFuzzer's coverage), the rest of
# libcabin.a uninstrumented (archive members whose symbols are already defined are not
# pulled in again). Left out when clang or its libFuzzer runtime is missing; the tests
# that run them (tests/vm/test-fuzz.sh, tests/func/test-fuzz-parsers.sh) then skip.
FUZZ_CC ?= clang
ifndef HAVE_LIBFUZZER
HAVE_LIBFUZZER := $(shell echo 'int LLVMFuzzerTestOneInput(const char *d, long n) { return 0; }' | \
	$(FUZZ_CC) -fsanitize=fuzzer -x c -o /dev/null - >/dev/null 2>&1 && echo 1)
endif
FUZZ_FLAGS := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# what each parser target instruments: its module and the library code it walks through
FUZZ_LIB_SRCS := src/lib/fs.c src/lib/resolve.c src/lib/strv.c src/lib/error.c
# each target's instrumented sources: FUZZ_SRCS_<target>
FUZZ_IMG_SRCS = $(patsubst %.o,%.c,$(filter src/img/%,$(OBJS))) $(FUZZ_LIB_SRCS)
FUZZ_SRCS_fuzz-layer = $(FUZZ_IMG_SRCS)
FUZZ_SRCS_fuzz-registry = $(FUZZ_IMG_SRCS)
FUZZ_SRCS_fuzz-boot = $(filter-out %builtin-guest.c,$(patsubst %.o,%.c,$(filter src/vm/x86/%,$(OBJS)))) \
	src/vm/mem.c src/vm/initrd.c $(FUZZ_LIB_SRCS)
FUZZ_SRCS_fuzz-user = src/box/spec.c src/img/layer.c $(FUZZ_LIB_SRCS)
FUZZ_SRCS_fuzz-spec = src/ctr/spec.c src/ctr/seccomp.c src/ctr/cgroup-validate.c src/ctr/caps.c \
	$(FUZZ_LIB_SRCS)

# tests/fuzz/fuzz-NAME: its .c, the headers it includes, and the sources it instruments
FUZZ_PARSERS := tests/fuzz/fuzz-layer tests/fuzz/fuzz-registry tests/fuzz/fuzz-boot \
	tests/fuzz/fuzz-user tests/fuzz/fuzz-spec
ifeq ($(HAVE_LIBFUZZER),1)
TEST_PROGS += $(FUZZ_PARSERS)
endif

tests/fuzz/fuzz-layer: $(FUZZ_SRCS_fuzz-layer) tests/fuzz/sandbox.h
tests/fuzz/fuzz-registry: $(FUZZ_SRCS_fuzz-registry)
tests/fuzz/fuzz-boot: $(FUZZ_SRCS_fuzz-boot)
tests/fuzz/fuzz-user: $(FUZZ_SRCS_fuzz-user) tests/fuzz/sandbox.h
tests/fuzz/fuzz-spec: $(FUZZ_SRCS_fuzz-spec)
$(FUZZ_PARSERS): %: %.c $(LIB)
	$(E) "  FUZZ    $@"
	$(Q)$(FUZZ_CC) $(filter-out -MMD -MP,$(CFLAGS)) $(FUZZ_FLAGS) -Itests -o $@ $< \
		$(FUZZ_SRCS_$(notdir $@)) $(LIB) $(LIBS) $(LDFLAGS)
