# src/virtio: virtqueues, the virtio-mmio transport and the device models.
OBJS += src/virtio/core.o
OBJS += src/virtio/mmio.o
OBJS += src/virtio/blk.o
OBJS += src/virtio/rng.o
OBJS += src/virtio/console.o
OBJS += src/virtio/net.o
OBJS += src/virtio/vsock.o

UNIT_TESTS += tests/unit/test-virtio
UNIT_TESTS += tests/unit/test-virtio-devs

# The same device tests with the device code built under ASan/UBSan: guest input
# must never make the VMM read or write out of bounds. The rest of libcabin.a is
# linked uninstrumented (the archive members for virtio are not pulled in again).
VIRTIO_SAN_SRCS = $(patsubst %.o,%.c,$(filter src/virtio/% src/net/%,$(OBJS)))
VIRTIO_SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
VIRTIO_ASAN_TESTS := tests/unit/test-virtio-asan tests/unit/test-virtio-devs-asan
TEST_PROGS += $(VIRTIO_ASAN_TESTS)

$(VIRTIO_ASAN_TESTS): tests/unit/%-asan: tests/unit/%.c tests/unit/virtio-drv.h $(VIRTIO_SAN_SRCS) $(LIB)
	$(E) "  CC      $@"
	$(Q)$(CC) $(filter-out -MMD -MP,$(CFLAGS)) $(VIRTIO_SAN_FLAGS) -Itests -o $@ $< \
		$(VIRTIO_SAN_SRCS) $(LIB) $(LIBS) $(LDFLAGS)

# libFuzzer target (clang); left out when clang or its libFuzzer runtime is missing,
# and tests/vm/test-fuzz.sh then skips.
FUZZ_CC ?= clang
ifndef HAVE_LIBFUZZER
HAVE_LIBFUZZER := $(shell echo 'int LLVMFuzzerTestOneInput(const char *d, long n) { return 0; }' | \
	$(FUZZ_CC) -fsanitize=fuzzer -x c -o /dev/null - >/dev/null 2>&1 && echo 1)
endif
ifeq ($(HAVE_LIBFUZZER),1)
TEST_PROGS += tests/fuzz/fuzz-virtio
TEST_PROGS += tests/fuzz/fuzz-iommu
endif

tests/fuzz/fuzz-virtio: tests/fuzz/fuzz-virtio.c $(VIRTIO_SAN_SRCS) $(LIB)
	$(E) "  FUZZ    $@"
	$(Q)$(FUZZ_CC) $(filter-out -MMD -MP,$(CFLAGS)) -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all -fno-omit-frame-pointer -o $@ $< $(VIRTIO_SAN_SRCS) \
		$(LIB) $(LIBS) $(LDFLAGS)

# The PCI host, edu and VT-d models (and the machine's DMA path) under the sanitizers.
IOMMU_SAN_SRCS = src/hw/pci.c src/hw/edu.c src/hw/intel-iommu.c src/vm/machine.c src/vm/mem.c src/vm/bus.c
tests/fuzz/fuzz-iommu: tests/fuzz/fuzz-iommu.c $(IOMMU_SAN_SRCS) $(LIB)
	$(E) "  FUZZ    $@"
	$(Q)$(FUZZ_CC) $(filter-out -MMD -MP,$(CFLAGS)) -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all -fno-omit-frame-pointer -o $@ $< $(IOMMU_SAN_SRCS) \
		$(LIB) $(LIBS) $(LDFLAGS)
