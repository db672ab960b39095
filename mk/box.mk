# src/box: containers made from images (Docker's model) on the OCI runtime in src/ctr,
# the image store in src/img and the networks of src/net; `cabin container`, `cabin volume`.
OBJS += src/box/box.o
OBJS += src/box/monitor.o
OBJS += src/box/spec.o
OBJS += src/box/seccomp-default.o

# --init: PID 1 of such a container, bind-mounted from the host (static, libc only).
STATIC_PROGS += cabin-init
cabin-init: src/box/reaper.c
	$(E) "  CC      $@ (static)"
	$(Q)$(CC) -std=gnu11 -D_GNU_SOURCE -static -Os -s $(WARNINGS) -o $@ $<
UNIT_TESTS += tests/unit/test-box-user
