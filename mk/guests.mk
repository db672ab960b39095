# tests/guests: freestanding firmware images (64 KiB, loaded at 0xF0000, entered at the
# reset vector) that `cabin vm run --firmware` and qemu -bios both run. See
# tests/guests/guest.ld for the layout and tests/vm/test-guests.sh for how they are checked.
G := tests/guests
# This fragment defines explicit targets before the Makefile's `all`: keep `all` the default.
.DEFAULT_GOAL := all
GUEST_CFLAGS := -ffreestanding -nostdlib -fno-pic -fno-stack-protector -fno-builtin \
	-fno-tree-loop-distribute-patterns -fno-asynchronous-unwind-tables -mgeneral-regs-only \
	-O2 -Wall -Wextra -Wno-unused-parameter -MMD -MP -I$(G) $(if $(filter 1,$(WERROR)),-Werror)
GUEST_CFLAGS32 := -m32 -fno-pie -march=i686 $(GUEST_CFLAGS)
GUEST_CFLAGS64 := -m64 -fpie -mno-red-zone -mcmodel=small $(GUEST_CFLAGS)
GUEST_LDFLAGS := -nostdlib -static --no-dynamic-linker -z noexecstack --build-id=none \
	-z max-page-size=4096 -T $(G)/guest.ld

GUEST_LIB32 := $(G)/entry32.g32.o $(G)/lib.g32.o $(G)/idt.g32.o $(G)/isr.g32.o
GUEST_LIB64 := $(G)/entry64.g64.o $(G)/lib.g64.o $(G)/idt.g64.o $(G)/isr.g64.o

# Iterations of the compute guest: COMPUTE_ITERS for the benchmark image, a small
# count for the image the test suite runs under slow (nested) KVM.
COMPUTE_ITERS ?= 20000000
COMPUTE_SMALL_ITERS := 2000
# Rounds of the second benchmark workload (compute2.h), 64-bit and 32-bit guests.
COMPUTE2_ROUNDS ?= 40

GUESTS := real16 prot32 paging32 paging32-pae swint32 task32 taskfault32 long64 timer smp2 smp3 smp4 virtio compute compute-small \
	compute2 compute2-32 iommu
GUEST_BINS := $(addprefix $(G)/,$(addsuffix .bin,$(GUESTS)))
TEST_PROGS += $(GUEST_BINS)
TEST_PROGS += $(G)/compute-native $(G)/compute2-native
CLEAN_EXTRA += $(G)/*.elf

$(G)/%.g32.o: $(G)/%.c
	$(E) "  GCC32   $@"
	$(Q)$(CC) $(GUEST_CFLAGS32) -c -o $@ $<
$(G)/%.g32.o: $(G)/%.S
	$(E) "  AS32    $@"
	$(Q)$(CC) $(GUEST_CFLAGS32) -c -o $@ $<
$(G)/%.g64.o: $(G)/%.c
	$(E) "  GCC64   $@"
	$(Q)$(CC) $(GUEST_CFLAGS64) -c -o $@ $<
$(G)/%.g64.o: $(G)/%.S
	$(E) "  AS64    $@"
	$(Q)$(CC) $(GUEST_CFLAGS64) -c -o $@ $<

$(G)/smp2.g32.o $(G)/smp3.g32.o $(G)/smp4.g32.o: $(G)/smp%.g32.o: $(G)/smp.c
	$(E) "  GCC32   $@"
	$(Q)$(CC) $(GUEST_CFLAGS32) -DNCPUS=$* -c -o $@ $<
$(G)/paging32.g32.o: $(G)/prot32.c
	$(E) "  GCC32   $@"
	$(Q)$(CC) $(GUEST_CFLAGS32) -DPAGING=2 -c -o $@ $<
$(G)/taskfault32.g32.o: $(G)/task32.c
	$(E) "  GCC32   $@"
	$(Q)$(CC) $(GUEST_CFLAGS32) -DTASK_FAULTS -c -o $@ $<
$(G)/paging32-pae.g32.o: $(G)/prot32.c
	$(E) "  GCC32   $@"
	$(Q)$(CC) $(GUEST_CFLAGS32) -DPAGING=3 -c -o $@ $<
$(G)/compute.g64.o: $(G)/compute-guest.c $(G)/compute.h mk/guests.mk
	$(E) "  GCC64   $@"
	$(Q)$(CC) $(GUEST_CFLAGS64) -DCOMPUTE_ITERS=$(COMPUTE_ITERS) -c -o $@ $<
$(G)/compute-small.g64.o: $(G)/compute-guest.c $(G)/compute.h
	$(E) "  GCC64   $@"
	$(Q)$(CC) $(GUEST_CFLAGS64) -DCOMPUTE_ITERS=$(COMPUTE_SMALL_ITERS) -c -o $@ $<
$(G)/compute2.g64.o: $(G)/compute2-guest.c $(G)/compute2.h mk/guests.mk
	$(E) "  GCC64   $@"
	$(Q)$(CC) $(GUEST_CFLAGS64) -DCOMPUTE2_ROUNDS=$(COMPUTE2_ROUNDS) -c -o $@ $<
$(G)/compute2-32.g32.o: $(G)/compute2-guest.c $(G)/compute2.h mk/guests.mk
	$(E) "  GCC32   $@"
	$(Q)$(CC) $(GUEST_CFLAGS32) -DCOMPUTE2_ROUNDS=$(COMPUTE2_ROUNDS) -c -o $@ $<
$(G)/compute2-native: $(G)/compute2-native.c $(G)/compute2.h
	$(E) "  CC      $@"
	$(Q)$(CC) -O2 -Wall -Wextra -I$(G) -o $@ $<
$(G)/compute-native: $(G)/compute-native.c $(G)/compute.h
	$(E) "  CC      $@"
	$(Q)$(CC) -O2 -Wall -Wextra -I$(G) -o $@ $<

$(G)/real16.elf: $(G)/real16.g32.o $(G)/guest.ld
$(G)/prot32.elf: $(G)/prot32.g32.o $(GUEST_LIB32)
$(G)/paging32.elf: $(G)/paging32.g32.o $(GUEST_LIB32)
$(G)/paging32-pae.elf: $(G)/paging32-pae.g32.o $(GUEST_LIB32)
$(G)/swint32.elf: $(G)/swint32.g32.o $(GUEST_LIB32)
$(G)/task32.elf: $(G)/task32.g32.o $(GUEST_LIB32)
$(G)/taskfault32.elf: $(G)/taskfault32.g32.o $(GUEST_LIB32)
$(G)/timer.elf: $(G)/timer.g32.o $(GUEST_LIB32)
$(G)/smp2.elf: $(G)/smp2.g32.o $(G)/ap-trampoline.g32.o $(GUEST_LIB32)
$(G)/smp3.elf: $(G)/smp3.g32.o $(G)/ap-trampoline.g32.o $(GUEST_LIB32)
$(G)/smp4.elf: $(G)/smp4.g32.o $(G)/ap-trampoline.g32.o $(GUEST_LIB32)
$(G)/virtio.elf: $(G)/virtio.g32.o $(GUEST_LIB32)
$(G)/long64.elf: $(G)/long64.g64.o $(GUEST_LIB64)
$(G)/compute.elf: $(G)/compute.g64.o $(GUEST_LIB64)
$(G)/compute-small.elf: $(G)/compute-small.g64.o $(GUEST_LIB64)
$(G)/compute2.elf: $(G)/compute2.g64.o $(GUEST_LIB64)
$(G)/compute2-32.elf: $(G)/compute2-32.g32.o $(GUEST_LIB32)
$(G)/iommu.elf: $(G)/iommu.g64.o $(GUEST_LIB64)

# 32-bit and 64-bit objects link with the matching ld emulation.
$(G)/%.elf: $(G)/guest.ld
	$(E) "  LD      $@"
	$(Q)ld $(if $(filter %.g64.o,$^),-m elf_x86_64,-m elf_i386) $(GUEST_LDFLAGS) -o $@ \
		$(filter %.o,$^)

# The image must be exactly 64 KiB: 0xF0000..0xFFFFF with the reset vector at 0xFFFF0.
$(G)/%.bin: $(G)/%.elf
	$(E) "  IMAGE   $@"
	$(Q)objcopy -O binary -j .text -j .fixed -j .reset $< $@.tmp && \
		test "$$(stat -c %s $@.tmp)" = 65536 || { echo "$@: not 64 KiB" >&2; rm -f $@.tmp; exit 1; }
	$(Q)mv $@.tmp $@

.PRECIOUS: $(G)/%.elf $(G)/%.g32.o $(G)/%.g64.o
-include $(wildcard $(G)/*.d)
