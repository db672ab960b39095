# src/guest: PID 1 of a microVM (static), and the host-side initramfs builder.
OBJS += src/vm/initrd.o

STATIC_PROGS += src/guest/init
UNIT_TESTS += tests/unit/test-initrd
TEST_PROGS += tests/vm/mkinitrd

# The init runs inside the guest on its own: static, small, libc only.
src/guest/init: src/guest/init.c
	$(E) "  CC      $@ (static)"
	$(Q)$(CC) -std=gnu11 -D_GNU_SOURCE -static -Os -s $(WARNINGS) -o $@ $<

tests/vm/mkinitrd: tests/vm/mkinitrd.c $(LIB)
	$(E) "  CC      $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $< $(LIB) $(LIBS) $(LDFLAGS)
