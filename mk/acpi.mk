# ACPI tables for x86 guests (src/vm/x86/acpi.c).
OBJS += src/vm/x86/acpi.o
OBJS += src/hw/acpi-pm.o
UNIT_TESTS += tests/unit/test-acpi

# Writes the tables to files, for `iasl -d` and for loading them into QEMU (tests/vm/test-acpi.sh).
TEST_PROGS += tests/vm/acpi-dump

tests/vm/acpi-dump: tests/vm/acpi-dump.c $(LIB)
	$(E) "  CC      $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $< $(LIB) $(LIBS) $(LDFLAGS)
