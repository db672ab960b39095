# src/emu: the software x86 CPU (accelerator "emu").
OBJS += src/emu/accel.o
OBJS += src/emu/alu.o
OBJS += src/emu/cpu.o
OBJS += src/emu/debug.o
OBJS += src/emu/decode.o
OBJS += src/emu/exec.o
OBJS += src/emu/exec-alu.o
OBJS += src/emu/exec-control.o
OBJS += src/emu/exec-fpu.o
OBJS += src/emu/fpu-x86.o
OBJS += src/emu/exec-mov.o
OBJS += src/emu/exec-stack.o
OBJS += src/emu/exec-string.o
OBJS += src/emu/exec-system.o
OBJS += src/emu/exec-sse.o
OBJS += src/emu/task.o
# SSE floating point: the host's own SSE unit under the guest MXCSR (a soft-float
# src/emu/ssefp-*.c with the same functions would serve other hosts)
ifeq ($(ARCH),x86_64)
OBJS += src/emu/ssefp-x86.o
# host code for decoded blocks (jit.h; other hosts run the threaded interpreter only)
OBJS += src/emu/jit-x86_64.o
endif
OBJS += src/emu/mmu.o
OBJS += src/emu/optab.o
OBJS += src/emu/arch/x86/apic.o
OBJS += src/emu/arch/x86/pic.o
# cli/cmd-vm.c refers to emu_accel_ops weakly (cabin builds without the emulator too):
# pull the emulator out of libcabin.a explicitly.
LDFLAGS += -Wl,-u,emu_accel_ops
UNIT_TESTS += tests/unit/test-emu-flags
UNIT_TESTS += tests/unit/test-emu-cpu
UNIT_TESTS += tests/unit/test-emu-sse
UNIT_TESTS += tests/unit/test-emu-prot
UNIT_TESTS += tests/unit/test-emu-lock
UNIT_TESTS += tests/unit/test-emu-jit
UNIT_TESTS += tests/unit/test-emu-jit-sse
UNIT_TESTS += tests/unit/test-emu-x2apic
UNIT_TESTS += tests/unit/test-emu-gate
UNIT_TESTS += tests/unit/test-emu-debug
UNIT_TESTS += tests/unit/test-emu-timer
UNIT_TESTS += tests/unit/test-emu-cycles
UNIT_TESTS += tests/unit/test-emu-string

# bench/emu.sh with BENCH_ITERS=N: the compute test guest built for N iterations.
EMU_BENCH_LIB64 := tests/guests/entry64.g64.o tests/guests/lib.g64.o tests/guests/idt.g64.o \
	tests/guests/isr.g64.o
CLEAN_EXTRA += build/emu-bench/compute-*.bin build/emu-bench/compute-*.elf build/emu-bench/compute-*.g64.o
build/emu-bench/compute-%.g64.o: tests/guests/compute-guest.c tests/guests/compute.h
	$(E) "  GCC64   $@"
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(GUEST_CFLAGS64) -DCOMPUTE_ITERS=$* -c -o $@ $<
build/emu-bench/compute-%.elf: build/emu-bench/compute-%.g64.o $(EMU_BENCH_LIB64) tests/guests/guest.ld
	$(E) "  LD      $@"
	$(Q)ld -m elf_x86_64 $(GUEST_LDFLAGS) -o $@ $(filter %.o,$^)
build/emu-bench/compute-%.bin: build/emu-bench/compute-%.elf
	$(E) "  IMAGE   $@"
	$(Q)objcopy -O binary -j .text -j .fixed -j .reset $< $@
.PRECIOUS: build/emu-bench/compute-%.elf build/emu-bench/compute-%.g64.o

# Differential fuzzer of the JIT against the interpreter (tests/fuzz/fuzz-emu.c), with
# the emulator's sources built for coverage and ASan/UBSan; left out without clang's
# libFuzzer (the probe is shared with mk/virtio.mk, whichever is read first makes it),
# and tests/vm/test-fuzz-emu.sh then skips.
FUZZ_CC ?= clang
ifndef HAVE_LIBFUZZER
HAVE_LIBFUZZER := $(shell echo 'int LLVMFuzzerTestOneInput(const char *d, long n) { return 0; }' | \
	$(FUZZ_CC) -fsanitize=fuzzer -x c -o /dev/null - >/dev/null 2>&1 && echo 1)
endif
EMU_SAN_SRCS = $(patsubst %.o,%.c,$(filter src/emu/%,$(OBJS)))
ifeq ($(ARCH),x86_64)
ifeq ($(HAVE_LIBFUZZER),1)
TEST_PROGS += tests/fuzz/fuzz-emu
endif
endif
UNIT_TESTS += tests/unit/test-emu-diff
tests/unit/test-emu-diff: tests/unit/emu-diff.h tests/unit/emu-machine.h

tests/fuzz/fuzz-emu: tests/fuzz/fuzz-emu.c tests/unit/emu-diff.h tests/unit/emu-machine.h \
		$(EMU_SAN_SRCS) $(LIB)
	$(E) "  FUZZ    $@"
	$(Q)$(FUZZ_CC) $(filter-out -MMD -MP,$(CFLAGS)) -Itests -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all -fno-omit-frame-pointer -o $@ $< $(EMU_SAN_SRCS) \
		$(LIB) $(LIBS) $(LDFLAGS)
