# src/virtio: virtqueues, the virtio-mmio transport and the device models.
OBJS += src/virtio/core.o
OBJS += src/virtio/mmio.o
OBJS += src/virtio/blk.o
OBJS += src/virtio/rng.o

UNIT_TESTS += tests/unit/test-virtio

# The same device tests with the device code built under ASan/UBSan: guest input
# must never make the VMM read or write out of bounds. The rest of libcabin.a is
# linked uninstrumented (the archive members for virtio are not pulled in again).
VIRTIO_SAN_SRCS = $(patsubst %.o,%.c,$(filter src/virtio/% src/net/%,$(OBJS)))
VIRTIO_SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
TEST_PROGS += tests/unit/test-virtio-asan

tests/unit/test-virtio-asan: tests/unit/test-virtio.c tests/unit/virtio-drv.h $(VIRTIO_SAN_SRCS) $(LIB)
	$(E) "  CC      $@"
	$(Q)$(CC) $(filter-out -MMD -MP,$(CFLAGS)) $(VIRTIO_SAN_FLAGS) -Itests -o $@ $< \
		$(VIRTIO_SAN_SRCS) $(LIB) $(LIBS) $(LDFLAGS)
