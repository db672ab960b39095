/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtio core, virtio-mmio, virtio-blk and virtio-rng with no CPU: the test is
 * the guest driver. Includes hostile descriptor chains, which must be refused
 * (DEVICE_NEEDS_RESET or an error status) without harming the process; the
 * -asan build of this file runs the same under AddressSanitizer/UBSan.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/error.h"
#include "unit/tap.h"
#include "unit/virtio-drv.h"
#include "virtio/virtio.h"

#define VERSION_1 (1ULL << VIRTIO_F_VERSION_1)
#define F_INDIRECT (1ULL << VIRTIO_RING_F_INDIRECT_DESC)
#define F_EVENT_IDX (1ULL << VIRTIO_RING_F_EVENT_IDX)
#define BLK_F_RO (1ULL << 5)
#define BLK_F_FLUSH (1ULL << 9)

#define QAREA 0x10000
#define HDR 0x100000	/* request header */
#define DATA 0x101000	/* data buffers */
#define STATUS 0x180000 /* status byte */
#define ITABLE 0x190000 /* indirect tables */
#define NUM 16
#define DISK_SECTORS 64

struct blk_hdr {
	uint32_t type, reserved;
	uint64_t sector;
};

static struct machine M;
static char disk_path[] = "/tmp/cabin-test-virtio.XXXXXX";
static int disk_fd = -1;
static char ro_path[] = "/tmp/cabin-test-virtio-ro.XXXXXX";
static int ro_fd = -1;

static void blk_setup(struct drv *d, uint64_t features)
{
	drv_init(d, features);
	drv_queue_setup(d, 0, NUM, QAREA);
	drv_driver_ok(d);
}

/* One blk request: header, optional data, status. Return: status byte (or 0xee if none). */
static int blk_req(struct drv *d, uint32_t type, uint64_t sector, uint32_t data_len, int data_write,
		   uint32_t *used_len)
{
	struct blk_hdr *h = gpa(d, HDR);
	uint8_t *st = gpa(d, STATUS);
	struct drv_buf b[3];
	unsigned int n = 0;
	uint32_t len = 0;

	h->type = type;
	h->reserved = 0;
	h->sector = sector;
	*st = 0xee;
	b[n++] = (struct drv_buf){ HDR, sizeof(*h), 0 };
	if (data_len)
		b[n++] = (struct drv_buf){ DATA, data_len, data_write ? VIRTQ_DESC_F_WRITE : 0 };
	b[n++] = (struct drv_buf){ STATUS, 1, VIRTQ_DESC_F_WRITE };
	drv_chain(d, 0, b, n);
	drv_kick(d, 0);
	if (!drv_used(d, 0, NULL, &len, 0))
		return -1;
	if (used_len)
		*used_len = len;
	return *st;
}

static int needs_reset(struct drv *d)
{
	return !!(mr(d, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
}

static void test_registers(struct drv *d)
{
	uint64_t f = drv_device_features(d);
	uint32_t lo, hi;

	tap_ok(mr(d, VIRTIO_MMIO_MAGIC_VALUE) == 0x74726976, "magic value is `virt`");
	tap_ok(mr(d, VIRTIO_MMIO_VERSION) == 2, "virtio-mmio version 2");
	tap_ok(mr(d, VIRTIO_MMIO_DEVICE_ID) == VIRTIO_ID_BLOCK, "device id 2 (block)");
	tap_ok((f & VERSION_1) && (f & F_INDIRECT) && (f & F_EVENT_IDX) && (f & BLK_F_FLUSH) &&
		       !(f & BLK_F_RO),
	       "features: VERSION_1, INDIRECT_DESC, EVENT_IDX, FLUSH, not RO (%#llx)",
	       (unsigned long long)f);
	lo = mr(d, VIRTIO_MMIO_CONFIG);
	hi = mr(d, VIRTIO_MMIO_CONFIG + 4);
	tap_ok(lo == DISK_SECTORS && hi == 0, "config capacity is %u sectors (%u)", DISK_SECTORS,
	       lo);
	tap_ok(mr(d, VIRTIO_MMIO_CONFIG + 20) == 512, "config blk_size 512");
	tap_ok(mr(d, VIRTIO_MMIO_CONFIG + 0x80) == 0, "reads past the config space give 0");
	mw(d, VIRTIO_MMIO_SHM_SEL, 0);
	tap_ok(mr(d, VIRTIO_MMIO_SHM_LEN_LOW) == 0xffffffff &&
		       mr(d, VIRTIO_MMIO_SHM_LEN_HIGH) == 0xffffffff,
	       "no shared memory region (length -1)");
	tap_ok(!strcmp(M.devs[0].cmdline, "virtio_mmio.device=4K@0xd0000000:5"),
	       "cmdline fragment `%s`", M.devs[0].cmdline);
	mw(d, VIRTIO_MMIO_QUEUE_SEL, 0);
	tap_ok(mr(d, VIRTIO_MMIO_QUEUE_NUM_MAX) == VIRTQ_MAX_SIZE, "queue 0 max size %u",
	       VIRTQ_MAX_SIZE);
	mw(d, VIRTIO_MMIO_QUEUE_SEL, 1);
	tap_ok(mr(d, VIRTIO_MMIO_QUEUE_NUM_MAX) == 0, "queue 1 does not exist");
	tap_ok(!(drv_init(d, 0) & VIRTIO_STATUS_FEATURES_OK),
	       "FEATURES_OK refused without VERSION_1");
	tap_ok(!(drv_init(d, VERSION_1 | (1ULL << 40)) & VIRTIO_STATUS_FEATURES_OK),
	       "FEATURES_OK refused for a feature not offered");
	tap_ok(drv_init(d, VERSION_1) & VIRTIO_STATUS_FEATURES_OK, "FEATURES_OK with VERSION_1");
}

static void test_blk_io(struct drv *d)
{
	uint8_t *data = gpa(d, DATA), buf[1024];
	uint32_t used_len = 0;
	int st;

	blk_setup(d, VERSION_1 | BLK_F_FLUSH);
	for (int i = 0; i < 1024; i++)
		data[i] = (uint8_t)(i * 7 + 3);
	drv_irq_level[d->gsi] = 0;
	st = blk_req(d, 1, 2, 1024, 0, &used_len);
	tap_ok(st == 0 && used_len == 1,
	       "write 2 sectors at sector 2: status OK, used len 1 (%d %u)", st, used_len);
	tap_ok(drv_irq_level[d->gsi] == 1 && (mr(d, VIRTIO_MMIO_INTERRUPT_STATUS) & 1),
	       "used buffer raises the level interrupt");
	mw(d, VIRTIO_MMIO_INTERRUPT_ACK, 1);
	tap_ok(drv_irq_level[d->gsi] == 0 && mr(d, VIRTIO_MMIO_INTERRUPT_STATUS) == 0,
	       "InterruptACK lowers the line");
	tap_ok(pread(disk_fd, buf, 1024, 1024) == 1024 && !memcmp(buf, data, 1024),
	       "the image holds the written bytes");
	memset(data, 0, 1024);
	st = blk_req(d, 0, 2, 1024, 1, &used_len);
	tap_ok(st == 0 && used_len == 1025 && !memcmp(buf, data, 1024),
	       "read back: status OK, used len 1025, same bytes (%d %u)", st, used_len);
	tap_ok(blk_req(d, 4, 0, 0, 0, NULL) == 0, "flush: status OK");
	st = blk_req(d, 8, 0, 20, 1, &used_len);
	tap_ok(st == 0 && used_len == 21 && !memcmp(data, "cabin", 5), "get id: `%.20s`", data);
	tap_ok(blk_req(d, 99, 0, 0, 0, NULL) == 2, "unknown request type: UNSUPP");
	tap_ok(blk_req(d, 0, DISK_SECTORS, 512, 1, NULL) == 1, "read at capacity: IOERR");
	tap_ok(blk_req(d, 0, DISK_SECTORS - 1, 1024, 1, NULL) == 1, "read across the end: IOERR");
	tap_ok(blk_req(d, 1, 1ULL << 63, 512, 0, NULL) == 1, "write at sector 2^63: IOERR");
	tap_ok(blk_req(d, 0, UINT64_MAX, 512, 1, NULL) == 1, "read at sector 2^64-1: IOERR");
	tap_ok(blk_req(d, 0, 0, 100, 1, NULL) == 1, "read of a partial sector: IOERR");
	tap_ok(blk_req(d, 0, DISK_SECTORS - 1, 512, 1, NULL) == 0, "read of the last sector: OK");
	tap_ok(!needs_reset(d), "errors in requests do not break the device");
}

static void test_blk_indirect_event_idx(struct drv *d)
{
	struct virtq_desc *t = gpa(d, ITABLE);
	struct blk_hdr *h = gpa(d, HDR);
	uint8_t *data = gpa(d, DATA), *st = gpa(d, STATUS);
	uint16_t *used = gpa(d, QAREA + 0x2000);
	uint32_t len = 0;

	blk_setup(d, VERSION_1 | F_INDIRECT | F_EVENT_IDX);
	*h = (struct blk_hdr){ .type = 0, .sector = 2 };
	*st = 0xee;
	memset(data, 0, 1024);
	t[0] = (struct virtq_desc){ HDR, sizeof(*h), VIRTQ_DESC_F_NEXT, 1 };
	t[1] = (struct virtq_desc){ DATA, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2 };
	t[2] = (struct virtq_desc){ DATA + 512, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 3 };
	t[3] = (struct virtq_desc){ STATUS, 1, VIRTQ_DESC_F_WRITE, 0 };
	drv_chain(d, 0, &(struct drv_buf){ ITABLE, 4 * 16, VIRTQ_DESC_F_INDIRECT }, 1);
	drv_kick(d, 0);
	tap_ok(drv_used(d, 0, NULL, &len, 0) && *st == 0 && len == 1025 && data[0] == 3 &&
		       data[1] == 10,
	       "read through an indirect table of 4 descriptors");
	tap_ok(used[2 + 4 * NUM] == 1, "EVENT_IDX: avail_event follows the consumed index");
}

static void test_rng(struct machine *m)
{
	struct drv d;
	uint8_t *p;
	uint32_t len = 0;
	int nonzero = 0;

	drv_at(&d, m, 2);
	tap_ok(mr(&d, VIRTIO_MMIO_DEVICE_ID) == VIRTIO_ID_RNG, "rng: device id 4");
	drv_init(&d, VERSION_1);
	drv_queue_setup(&d, 0, NUM, 0x40000);
	drv_driver_ok(&d);
	p = gpa(&d, 0x50000);
	memset(p, 0, 256);
	drv_chain(&d, 0,
		  (struct drv_buf[]){ { 0x50000, 128, VIRTQ_DESC_F_WRITE },
				      { 0x50080, 128, VIRTQ_DESC_F_WRITE } },
		  2);
	drv_kick(&d, 0);
	tap_ok(drv_used(&d, 0, NULL, &len, 0) && len == 256, "rng: 256 bytes returned (%u)", len);
	for (int i = 0; i < 256; i++)
		nonzero += p[i] != 0;
	tap_ok(nonzero > 200, "rng: the buffer holds random bytes (%d of 256 non-zero)", nonzero);
	drv_chain(&d, 0, (struct drv_buf[]){ { 0x50000, 16, 0 } }, 1);
	drv_kick(&d, 0);
	tap_ok(drv_used(&d, 0, NULL, &len, 0) && len == 0, "rng: read-only buffer gets 0 bytes");
}

/* Each hostile case starts from a fresh, working device. */
static void hostile(struct drv *d, const char *what, void (*build)(struct drv *d), int expect_reset)
{
	uint32_t isr;

	blk_setup(d, VERSION_1 | F_INDIRECT);
	mw(d, VIRTIO_MMIO_INTERRUPT_ACK, 3);
	build(d);
	drv_kick(d, 0);
	isr = mr(d, VIRTIO_MMIO_INTERRUPT_STATUS);
	if (expect_reset)
		tap_ok(needs_reset(d) && (isr & VIRTIO_ISR_CONFIG),
		       "%s: refused with DEVICE_NEEDS_RESET and a config interrupt", what);
	else
		tap_ok(!needs_reset(d), "%s: handled without breaking the device", what);
	/* A broken device does nothing more until reset; reset brings it back. */
	if (expect_reset) {
		uint16_t used_before = ((uint16_t *)gpa(d, QAREA + 0x2000))[1];

		drv_kick(d, 0);
		if (((uint16_t *)gpa(d, QAREA + 0x2000))[1] != used_before)
			tap_ok(0, "%s: a broken device still consumed buffers", what);
	}
}

static void h_loop(struct drv *d)
{
	*drv_desc(d, 0, 0) = (struct virtq_desc){ HDR, 16, VIRTQ_DESC_F_NEXT, 1 };
	*drv_desc(d, 0, 1) = (struct virtq_desc){ DATA, 512, VIRTQ_DESC_F_NEXT, 0 };
	drv_publish(d, 0, 0);
}

static void h_self_loop(struct drv *d)
{
	*drv_desc(d, 0, 5) = (struct virtq_desc){ HDR, 16, VIRTQ_DESC_F_NEXT, 5 };
	drv_publish(d, 0, 5);
}

static void h_next_range(struct drv *d)
{
	*drv_desc(d, 0, 0) = (struct virtq_desc){ HDR, 16, VIRTQ_DESC_F_NEXT, 300 };
	drv_publish(d, 0, 0);
}

static void h_head_range(struct drv *d)
{
	drv_publish(d, 0, 1000);
}

static void h_outside_ram(struct drv *d)
{
	drv_chain(d, 0,
		  (struct drv_buf[]){ { 0xd0000000, 16, 0 }, { STATUS, 1, VIRTQ_DESC_F_WRITE } },
		  2);
}

static void h_past_ram_end(struct drv *d)
{
	drv_chain(d, 0,
		  (struct drv_buf[]){ { HDR, 16, 0 }, { DRV_RAM - 256, 512, VIRTQ_DESC_F_WRITE } },
		  2);
}

static void h_overflow(struct drv *d)
{
	drv_chain(d, 0,
		  (struct drv_buf[]){ { 0xfffffffffffff000ULL, 0x2000, 0 },
				      { STATUS, 1, VIRTQ_DESC_F_WRITE } },
		  2);
}

static void h_4gib(struct drv *d)
{
	drv_chain(d, 0,
		  (struct drv_buf[]){ { HDR, 16, 0 },
				      { DATA, 0xffffffffu, VIRTQ_DESC_F_WRITE },
				      { STATUS, 1, VIRTQ_DESC_F_WRITE } },
		  3);
}

static void h_avail_ahead(struct drv *d)
{
	uint16_t *avail = gpa(d, d->q[0].avail);

	avail[1] = 1000;
}

static void h_avail_ahead_wrapped(struct drv *d)
{
	uint16_t *avail = gpa(d, d->q[0].avail);

	avail[1] = 0xfff0;
}

static void h_indirect_len(struct drv *d)
{
	drv_chain(d, 0, &(struct drv_buf){ ITABLE, 17, VIRTQ_DESC_F_INDIRECT }, 1);
}

static void h_indirect_zero(struct drv *d)
{
	drv_chain(d, 0, &(struct drv_buf){ ITABLE, 0, VIRTQ_DESC_F_INDIRECT }, 1);
}

static void h_indirect_huge(struct drv *d)
{
	drv_chain(d, 0, &(struct drv_buf){ ITABLE, 0xfffffff0u, VIRTQ_DESC_F_INDIRECT }, 1);
}

static void h_indirect_outside(struct drv *d)
{
	drv_chain(d, 0, &(struct drv_buf){ DRV_RAM - 32, 64, VIRTQ_DESC_F_INDIRECT }, 1);
}

static void h_indirect_loop(struct drv *d)
{
	struct virtq_desc *t = gpa(d, ITABLE);

	t[0] = (struct virtq_desc){ HDR, 16, VIRTQ_DESC_F_NEXT, 1 };
	t[1] = (struct virtq_desc){ DATA, 16, VIRTQ_DESC_F_NEXT, 0 };
	drv_chain(d, 0, &(struct drv_buf){ ITABLE, 2 * 16, VIRTQ_DESC_F_INDIRECT }, 1);
}

static void h_indirect_next_range(struct drv *d)
{
	struct virtq_desc *t = gpa(d, ITABLE);

	t[0] = (struct virtq_desc){ HDR, 16, VIRTQ_DESC_F_NEXT, 2 };
	t[1] = (struct virtq_desc){ STATUS, 1, VIRTQ_DESC_F_WRITE, 0 };
	drv_chain(d, 0, &(struct drv_buf){ ITABLE, 2 * 16, VIRTQ_DESC_F_INDIRECT }, 1);
}

static void h_indirect_nested(struct drv *d)
{
	struct virtq_desc *t = gpa(d, ITABLE);

	t[0] = (struct virtq_desc){ ITABLE, 16, VIRTQ_DESC_F_INDIRECT, 0 };
	drv_chain(d, 0, &(struct drv_buf){ ITABLE, 16, VIRTQ_DESC_F_INDIRECT }, 1);
}

static void h_indirect_with_next(struct drv *d)
{
	struct virtq_desc *t = gpa(d, ITABLE);

	t[0] = (struct virtq_desc){ HDR, 16, 0, 0 };
	drv_chain(d, 0,
		  (struct drv_buf[]){ { ITABLE, 16, VIRTQ_DESC_F_INDIRECT },
				      { STATUS, 1, VIRTQ_DESC_F_WRITE } },
		  2);
}

static void h_read_after_write(struct drv *d)
{
	drv_chain(d, 0, (struct drv_buf[]){ { STATUS, 1, VIRTQ_DESC_F_WRITE }, { HDR, 16, 0 } }, 2);
}

static void h_zero_len(struct drv *d)
{
	struct blk_hdr *h = gpa(d, HDR);

	*h = (struct blk_hdr){ .type = 0, .sector = 0 };
	drv_chain(d, 0,
		  (struct drv_buf[]){ { HDR, 16, 0 },
				      { DATA, 0, VIRTQ_DESC_F_WRITE },
				      { 0, 0, VIRTQ_DESC_F_WRITE } },
		  3);
}

static void h_writable_header(struct drv *d)
{
	struct blk_hdr *h = gpa(d, HDR);

	*h = (struct blk_hdr){ .type = 1, .sector = 0 };
	*(uint8_t *)gpa(d, STATUS) = 0xee;
	drv_chain(d, 0,
		  (struct drv_buf[]){ { HDR, 16, VIRTQ_DESC_F_WRITE },
				      { STATUS, 1, VIRTQ_DESC_F_WRITE } },
		  2);
}

static void h_unaligned_ring(struct drv *d)
{
	drv_init(d, VERSION_1);
	mw(d, VIRTIO_MMIO_QUEUE_SEL, 0);
	mw(d, VIRTIO_MMIO_QUEUE_NUM, NUM);
	mw(d, VIRTIO_MMIO_QUEUE_DESC_LOW, QAREA + 8);
	mw(d, VIRTIO_MMIO_QUEUE_READY, 1);
	drv_driver_ok(d);
}

static void h_ring_outside(struct drv *d)
{
	drv_init(d, VERSION_1);
	mw(d, VIRTIO_MMIO_QUEUE_SEL, 0);
	mw(d, VIRTIO_MMIO_QUEUE_NUM, NUM);
	mw(d, VIRTIO_MMIO_QUEUE_DESC_LOW, 0);
	mw(d, VIRTIO_MMIO_QUEUE_DESC_HIGH, 0x10);
	mw(d, VIRTIO_MMIO_QUEUE_READY, 1);
	drv_driver_ok(d);
}

static void h_queue_size(struct drv *d)
{
	drv_init(d, VERSION_1);
	mw(d, VIRTIO_MMIO_QUEUE_SEL, 0);
	mw(d, VIRTIO_MMIO_QUEUE_NUM, 12);
	mw(d, VIRTIO_MMIO_QUEUE_READY, 1);
	drv_driver_ok(d);
}

static void h_mmio_junk(struct drv *d)
{
	uint8_t b = 0xff;
	uint64_t q = ~0ULL;

	bus_access(&d->m->bus, BUS_MMIO, d->base + VIRTIO_MMIO_STATUS, &b, 1, 1);
	bus_access(&d->m->bus, BUS_MMIO, d->base + VIRTIO_MMIO_QUEUE_NUM + 1, &b, 1, 1);
	bus_access(&d->m->bus, BUS_MMIO, d->base + 0xffc, &q, 4, 1);
	bus_access(&d->m->bus, BUS_MMIO, d->base + 0x100 + 30, &q, 8, 0);
	mw(d, VIRTIO_MMIO_QUEUE_SEL, 0xffffffff);
	mw(d, VIRTIO_MMIO_QUEUE_NUM, 0xffffffff);
	mw(d, VIRTIO_MMIO_QUEUE_READY, 1);
	mw(d, VIRTIO_MMIO_QUEUE_NOTIFY, 0xffffffff);
	mw(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0xffffffff);
	mr(d, VIRTIO_MMIO_DEVICE_FEATURES);
	mw(d, VIRTIO_MMIO_QUEUE_SEL, 0);
}

static void test_hostile(struct drv *d)
{
	uint8_t *st = gpa(d, STATUS);
	uint32_t len = 0;

	hostile(d, "descriptor loop", h_loop, 1);
	hostile(d, "descriptor pointing at itself", h_self_loop, 1);
	hostile(d, "next index out of range", h_next_range, 1);
	hostile(d, "head index out of range", h_head_range, 1);
	hostile(d, "buffer in the MMIO hole", h_outside_ram, 1);
	hostile(d, "buffer crossing the end of RAM", h_past_ram_end, 1);
	hostile(d, "addr+len overflowing 2^64", h_overflow, 1);
	hostile(d, "4 GiB buffer", h_4gib, 1);
	hostile(d, "avail idx 1000 ahead", h_avail_ahead, 1);
	hostile(d, "avail idx wrapped far ahead", h_avail_ahead_wrapped, 1);
	hostile(d, "indirect table of 17 bytes", h_indirect_len, 1);
	hostile(d, "empty indirect table", h_indirect_zero, 1);
	hostile(d, "4 GiB indirect table", h_indirect_huge, 1);
	hostile(d, "indirect table crossing the end of RAM", h_indirect_outside, 1);
	hostile(d, "loop inside an indirect table", h_indirect_loop, 1);
	hostile(d, "indirect next out of range", h_indirect_next_range, 1);
	hostile(d, "nested indirect table", h_indirect_nested, 1);
	hostile(d, "indirect descriptor with NEXT", h_indirect_with_next, 1);
	hostile(d, "readable descriptor after a writable one", h_read_after_write, 1);
	hostile(d, "misaligned descriptor table", h_unaligned_ring, 1);
	hostile(d, "ring outside guest RAM", h_ring_outside, 1);
	hostile(d, "queue size not a power of two", h_queue_size, 1);

	hostile(d, "zero-length buffers (no status byte)", h_zero_len, 0);
	tap_ok(drv_used(d, 0, NULL, &len, 0) && len == 0, "zero-length status: used len 0");
	hostile(d, "device-writable header", h_writable_header, 0);
	tap_ok(drv_used(d, 0, NULL, &len, 0) && *st == 1 && len == 1,
	       "device-writable header: IOERR in the status byte (%u)", *st);
	hostile(d, "odd-sized and out-of-range register accesses", h_mmio_junk, 0);

	blk_setup(d, VERSION_1);
	tap_ok(blk_req(d, 0, 0, 512, 1, NULL) == 0 && !needs_reset(d),
	       "after reset the device works again");
}

static void test_readonly(struct machine *m)
{
	uint8_t before[512], after[512];
	struct drv d;
	int ret;

	drv_at(&d, m, 1);
	tap_ok(drv_device_features(&d) & BLK_F_RO, "read-only disk offers VIRTIO_BLK_F_RO");
	blk_setup(&d, VERSION_1 | BLK_F_RO);
	if (pread(ro_fd, before, 512, 0) != 512)
		memset(before, 1, 512);
	memset(gpa(&d, DATA), 0x5a, 512);
	ret = blk_req(&d, 1, 0, 512, 0, NULL);
	if (pread(ro_fd, after, 512, 0) != 512)
		memset(after, 2, 512);
	tap_ok(ret == 1 && !memcmp(before, after, 512),
	       "write to a read-only disk: IOERR, image unchanged");
	tap_ok(blk_req(&d, 0, 0, 512, 1, NULL) == 0, "read from a read-only disk: OK");
}

static void test_attach_errors(struct machine *m)
{
	struct cabin_err *err = NULL;
	unsigned int devs = m->nr_devs, slot = m->next_mmio_slot, ranges = m->bus.nr[BUS_MMIO];
	int ret;

	ret = virtio_blk_attach(m, "/nonexistent/disk.img", 0, &err);
	tap_ok(ret < 0 && err && strstr(err->msg, "/nonexistent/disk.img"),
	       "missing image: error names it: %s", cabin_err_msg(err));
	cabin_err_release(&err);
	ret = virtio_blk_attach(m, "/dev/null", 0, &err);
	tap_ok(ret < 0 && err, "character device refused: %s", cabin_err_msg(err));
	cabin_err_release(&err);
	ret = virtio_blk_attach(m, disk_path, 0, &err);
	tap_ok(ret < 0 && err && strstr(err->msg, "lock"),
	       "image already in use read-write is refused: %s", cabin_err_msg(err));
	cabin_err_release(&err);
	tap_ok(m->nr_devs == devs && m->next_mmio_slot == slot && m->bus.nr[BUS_MMIO] == ranges,
	       "failed attaches leave nothing behind");
}

/* An accelerator with ioeventfd and irqfd, as KVM has: notifications bypass MMIO. */
static int fast_kick_fd[VIRTIO_MAX_QUEUES] = { -1, -1, -1, -1 };
static int fast_irq_fd = -1;
static unsigned int fast_irq_gsi;

static int fast_ioeventfd(struct machine *m, uint64_t addr, uint32_t len, uint64_t datamatch,
			  int has_datamatch, int fd)
{
	if (addr != MACHINE_MMIO_BASE + VIRTIO_MMIO_QUEUE_NOTIFY || len != 4 || !has_datamatch ||
	    datamatch >= VIRTIO_MAX_QUEUES)
		return -EINVAL;
	fast_kick_fd[datamatch] = fd;
	return 0;
}

static int fast_irqfd(struct machine *m, unsigned int gsi, int fd)
{
	fast_irq_fd = fd;
	fast_irq_gsi = gsi;
	return 0;
}

static const struct accel_ops fast_accel = {
	.name = "fast",
	.irq_line = drv_fake_irq_line,
	.ioeventfd = fast_ioeventfd,
	.irqfd = fast_irqfd,
};

static void test_ioeventfd_irqfd(void)
{
	struct cabin_err *err = NULL;
	struct machine m2;
	struct pollfd p;
	uint64_t one = 1, cnt = 0;
	uint32_t len = 0;
	unsigned int calls;
	struct drv d;
	int ret;

	if (drv_machine_init(&m2, DRV_RAM) < 0)
		abort();
	m2.accel = &fast_accel;
	calls = drv_irq_calls;
	ret = virtio_rng_attach(&m2, &err);
	tap_ok(ret == 0 && fast_kick_fd[0] >= 0 && fast_irq_fd >= 0 && fast_irq_gsi == 5,
	       "ioeventfd for queue 0 and irqfd for gsi 5 are wired at attach");
	drv_at(&d, &m2, 0);
	drv_init(&d, VERSION_1);
	drv_queue_setup(&d, 0, NUM, QAREA);
	drv_driver_ok(&d);
	drv_chain(&d, 0, (struct drv_buf[]){ { 0x50000, 64, VIRTQ_DESC_F_WRITE } }, 1);
	/* The guest's notify write lands in the eventfd, not on the bus. */
	if (write(fast_kick_fd[0], &one, sizeof(one)) != sizeof(one))
		abort();
	ret = drv_used(&d, 0, NULL, &len, 3000);
	tap_ok(ret && len == 64, "the worker thread serves a kick from the ioeventfd");
	p = (struct pollfd){ .fd = fast_irq_fd, .events = POLLIN };
	ret = poll(&p, 1, 3000);
	tap_ok(ret == 1 && read(fast_irq_fd, &cnt, sizeof(cnt)) == sizeof(cnt) && cnt >= 1 &&
		       (mr(&d, VIRTIO_MMIO_INTERRUPT_STATUS) & 1),
	       "the interrupt goes through the irqfd, InterruptStatus set");
	tap_ok(drv_irq_calls == calls, "the level line is left alone when irqfd is used");
	/* Teardown stops the worker thread (ASan/LSan would flag a leak or a use after free). */
	drv_machine_fini(&m2);
}

/* An accelerator that records what devices write behind the CPU's back (as the emulator needs). */
static struct {
	uint64_t gpa, len;
} written[32];
static unsigned int nr_written;

static void rec_mem_written(struct machine *m, uint64_t gpa, uint64_t len)
{
	if (nr_written < 32)
		written[nr_written].gpa = gpa, written[nr_written].len = len, nr_written++;
}

static const struct accel_ops notify_accel = {
	.name = "notify",
	.irq_line = drv_fake_irq_line,
	.mem_written = rec_mem_written,
};

/* Is [@gpa, @gpa + @len) inside one recorded write? */
static int was_written(uint64_t gpa, uint64_t len)
{
	for (unsigned int i = 0; i < nr_written; i++)
		if (gpa >= written[i].gpa && gpa + len <= written[i].gpa + written[i].len)
			return 1;
	return 0;
}

static void test_write_notify(void)
{
	struct cabin_err *err = NULL;
	struct machine m3;
	struct drv d;
	uint32_t len = 0;

	char path[] = "/tmp/cabin-test-virtio-notify.XXXXXX";
	int fd = mkstemp(path);

	if (fd < 0 || ftruncate(fd, DISK_SECTORS * 512) < 0 || drv_machine_init(&m3, DRV_RAM) < 0)
		abort();
	close(fd);
	m3.accel = &notify_accel;
	if (virtio_blk_attach(&m3, path, 0, &err) < 0 || virtio_rng_attach(&m3, &err) < 0) {
		fprintf(stderr, "%s\n", cabin_err_msg(err));
		abort();
	}
	drv_at(&d, &m3, 0);
	blk_setup(&d, VERSION_1);
	nr_written = 0;
	tap_ok(blk_req(&d, 0, 2, 1024, 1, &len) == 0 && was_written(DATA, 1024) &&
		       was_written(STATUS, 1),
	       "blk read: the data buffer and the status byte are reported written");
	tap_ok(!was_written(HDR, 16), "blk read: the device-readable header is not");
	nr_written = 0;
	tap_ok(blk_req(&d, 1, 2, 1024, 0, &len) == 0 && !was_written(DATA, 1) &&
		       was_written(STATUS, 1),
	       "blk write: only the status byte is reported written");
	drv_at(&d, &m3, 1);
	drv_init(&d, VERSION_1);
	drv_queue_setup(&d, 0, NUM, 0x40000);
	drv_driver_ok(&d);
	nr_written = 0;
	drv_chain(&d, 0, (struct drv_buf[]){ { 0x50000, 300, VIRTQ_DESC_F_WRITE } }, 1);
	drv_kick(&d, 0);
	tap_ok(drv_used(&d, 0, NULL, &len, 0) && was_written(0x50000, 300),
	       "rng: the filled buffer is reported written");
	drv_machine_fini(&m3);
	unlink(path);
}

int main(void)
{
	struct cabin_err *err = NULL;
	struct drv d;

	tap_plan(78);
	disk_fd = mkstemp(disk_path);
	if (disk_fd < 0 || ftruncate(disk_fd, DISK_SECTORS * 512) < 0) {
		perror("disk image");
		return 1;
	}
	if (drv_machine_init(&M, DRV_RAM) < 0)
		return 1;
	ro_fd = mkstemp(ro_path);
	if (ro_fd < 0 || ftruncate(ro_fd, DISK_SECTORS * 512) < 0) {
		perror("disk image");
		return 1;
	}
	if (virtio_blk_attach(&M, disk_path, 0, &err) < 0 ||
	    virtio_blk_attach(&M, ro_path, 1, &err) < 0 || virtio_rng_attach(&M, &err) < 0) {
		tap_diag("%s", cabin_err_msg(err));
		cabin_err_release(&err);
		return 1;
	}
	drv_at(&d, &M, 0);
	test_write_notify();
	test_registers(&d);
	test_blk_io(&d);
	test_blk_indirect_event_idx(&d);
	test_hostile(&d);
	test_readonly(&M);
	test_rng(&M);
	test_attach_errors(&M);
	drv_machine_fini(&M);
	test_ioeventfd_irqfd();
	unlink(disk_path);
	unlink(ro_path);
	return tap_done();
}
