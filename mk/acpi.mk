# ACPI tables for x86 guests (src/vm/x86/acpi.c).
OBJS += src/vm/x86/acpi.o
OBJS += src/hw/acpi-pm.o
UNIT_TESTS += tests/unit/test-acpi

# Writes the tables to files, for `iasl -d` and for loading them into QEMU (tests/vm/test-acpi.sh).
TEST_PROGS += tests/vm/acpi-dump

tests/vm/acpi-dump: tests/vm/acpi-dump.c $(LIB)
	$(E) "  CC      $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $< $(LIB) $(LIBS) $(LDFLAGS)

# A fake bzImage that walks the ACPI tables from inside the guest (tests/vm/test-acpi-boot.sh).
TEST_PROGS += tests/vm/guests/acpi-check.bin
CLEAN_EXTRA += tests/vm/guests/acpi-check.elf

tests/vm/guests/acpi-check.bin: tests/vm/guests/acpi-check.S
	$(E) "  GUEST   $@"
	$(Q)$(CC) -c -o $(@:.bin=.o) $<
	$(Q)ld -Ttext=0 -e _start -o $(@:.bin=.elf) $(@:.bin=.o)
	$(Q)objcopy -O binary -j .text $(@:.bin=.elf) $@
	$(Q)rm -f $(@:.bin=.o)
