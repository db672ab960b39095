# ACPI tables for x86 guests (src/vm/x86/acpi.c).
OBJS += src/vm/x86/acpi.o
UNIT_TESTS += tests/unit/test-acpi
