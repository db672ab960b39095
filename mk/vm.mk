# src/vm: the engine-neutral machine (memory, buses, interrupt lines, vCPU loop).
OBJS += src/vm/bus.o
OBJS += src/vm/machine.o
OBJS += src/vm/mem.o
OBJS += src/vm/vcpu.o
OBJS += src/vm/x86/boot.o
OBJS += src/vm/x86/mptable.o
OBJS += src/vm/x86/builtin-guest.o

# Pattern rule (not a plain one) so it never becomes the default goal.
src/vm/x86/%.o: src/vm/x86/%.S
	$(E) "  AS      $@"
	$(Q)$(CC) -c -o $@ $<
OBJS += src/vm/ctl.o

# VMM-path test firmware (tests/vm/guests): 64 KiB real-mode images, linked at 0.
VM_TEST_GUESTS := hello exit-dword exit-big halt triple-fault reset unclaimed regs echo smp string-io
TEST_PROGS += $(patsubst %,tests/vm/guests/%.bin,$(VM_TEST_GUESTS))
CLEAN_EXTRA += $(patsubst %,tests/vm/guests/%.elf,$(VM_TEST_GUESTS))

tests/vm/guests/%.bin: tests/vm/guests/%.S tests/vm/guests/guest16.h
	$(E) "  GUEST   $@"
	$(Q)$(CC) -m32 -c -Itests/vm/guests -o $(@:.bin=.o) $<
	$(Q)ld -m elf_i386 -Ttext=0 -e _start -o $(@:.bin=.elf) $(@:.bin=.o)
	$(Q)objcopy -O binary -j .text $(@:.bin=.elf) $@
	$(Q)rm -f $(@:.bin=.o)
UNIT_TESTS += tests/unit/test-bus
UNIT_TESTS += tests/unit/test-mem
UNIT_TESTS += tests/unit/test-boot

# Fake kernels that check the boot protocols from inside the guest: a bzImage
# (binary with a setup header), an ELF with a 64-bit entry, an ELF with a PVH note.
TEST_PROGS += tests/vm/guests/bzimage.bin tests/vm/guests/elf64.elf tests/vm/guests/pvh.elf
CLEAN_EXTRA += tests/vm/guests/bzimage.elf

tests/vm/guests/bzimage.bin: tests/vm/guests/bzimage.S tests/vm/guests/kernel64.h
	$(E) "  GUEST   $@"
	$(Q)$(CC) -c -Itests/vm/guests -o $(@:.bin=.o) $<
	$(Q)ld -Ttext=0 -e _start -o $(@:.bin=.elf) $(@:.bin=.o)
	$(Q)objcopy -O binary -j .text $(@:.bin=.elf) $@
	$(Q)rm -f $(@:.bin=.o)

tests/vm/guests/elf64.elf: tests/vm/guests/elf64.S tests/vm/guests/kernel64.h
	$(E) "  GUEST   $@"
	$(Q)$(CC) -c -Itests/vm/guests -o $(@:.elf=.o) $<
	$(Q)ld -N --no-warn-rwx-segments -Ttext=0x100000 -e _start -o $@ $(@:.elf=.o)
	$(Q)rm -f $(@:.elf=.o)

tests/vm/guests/pvh.elf: tests/vm/guests/pvh.S
	$(E) "  GUEST   $@"
	$(Q)$(CC) -c -o $(@:.elf=.o) $<
	$(Q)ld -N --no-warn-rwx-segments -Ttext=0x100000 -e _start -o $@ $(@:.elf=.o)
	$(Q)rm -f $(@:.elf=.o)
UNIT_TESTS += tests/unit/test-machine

# A fake Multiboot v1 kernel (ELF32), for `vm run --kernel` with --debug-exit.
TEST_PROGS += tests/vm/guests/multiboot.elf

tests/vm/guests/multiboot.elf: tests/vm/guests/multiboot.S
	$(E) "  GUEST   $@"
	$(Q)$(CC) -m32 -c -o $(@:.elf=.o) $<
	$(Q)ld -m elf_i386 -N --no-warn-rwx-segments -Ttext=0x200000 -e _start -o $@ $(@:.elf=.o)
	$(Q)rm -f $(@:.elf=.o)
