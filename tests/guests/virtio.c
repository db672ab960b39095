/*
 * virtio: a guest-side driver for the modern virtio-mmio transport (virtio 1.x,
 * register layout version 2), in 32-bit protected mode without paging.
 * Probes the machine's slots (0xd0000000 + 0x1000 * i) for the magic value,
 * negotiates VIRTIO_F_VERSION_1, sets up one split virtqueue per device through
 * QueueDescLow/High, QueueDriverLow/High and QueueDeviceLow/High, notifies and
 * polls the used ring. On virtio-blk it reads sector 0 (printing a checksum),
 * writes sector 1 and reads it back; on virtio-rng it asks for 16 bytes and
 * prints only how many arrived. The rng request completes through an
 * interrupt: slot i drives GSI 5 + i, which the guest routes through the
 * IOAPIC (edge, fixed, to the BSP's LAPIC) to a vector of its own, then sleeps
 * in HLT until the handler has seen the used buffer (a LAPIC timer one-shot
 * bounds the wait). QEMU's microvm slots have other GSIs: there it polls.
 */
#include <stdbool.h>

#include "guest.h"
#include "idt.h"

#define SLOT_BASE 0xd0000000u
#define SLOT_SIZE 0x1000u
#define SLOTS 18
/* QEMU's -M microvm puts its transports here instead (used when cabin's are absent). */
#define QEMU_SLOT_BASE 0xfeb00000u
#define QEMU_SLOT_SIZE 0x200u
#define QEMU_SLOTS 24

#define VIRTIO_MAGIC 0x74726976u
#define REG_MAGIC 0x000
#define REG_VERSION 0x004
#define REG_DEVICE_ID 0x008
#define REG_DEVICE_FEATURES 0x010
#define REG_DEVICE_FEATURES_SEL 0x014
#define REG_DRIVER_FEATURES 0x020
#define REG_DRIVER_FEATURES_SEL 0x024
#define REG_QUEUE_SEL 0x030
#define REG_QUEUE_NUM_MAX 0x034
#define REG_QUEUE_NUM 0x038
#define REG_QUEUE_READY 0x044
#define REG_QUEUE_NOTIFY 0x050
#define REG_INTERRUPT_STATUS 0x060
#define REG_INTERRUPT_ACK 0x064
#define REG_STATUS 0x070
#define REG_QUEUE_DESC_LOW 0x080
#define REG_QUEUE_DESC_HIGH 0x084
#define REG_QUEUE_DRIVER_LOW 0x090
#define REG_QUEUE_DRIVER_HIGH 0x094
#define REG_QUEUE_DEVICE_LOW 0x0a0
#define REG_QUEUE_DEVICE_HIGH 0x0a4
#define REG_CONFIG 0x100

#define STATUS_ACKNOWLEDGE 1
#define STATUS_DRIVER 2
#define STATUS_DRIVER_OK 4
#define STATUS_FEATURES_OK 8
#define STATUS_FAILED 128

#define ID_BLOCK 2
#define ID_RNG 4

#define QSIZE 8
#define DESC_F_NEXT 1
#define DESC_F_WRITE 2

#define IOAPIC 0xfec00000u
#define LAPIC 0xfee00000u
#define LAPIC_EOI (LAPIC + 0xb0)
#define LAPIC_SVR (LAPIC + 0xf0)
#define LAPIC_LVTT (LAPIC + 0x320)
#define LAPIC_TICR (LAPIC + 0x380)
#define LAPIC_TDCR (LAPIC + 0x3e0)
#define GSI_BASE 5 /* slot i of the machine interrupts on GSI 5 + i */
#define VEC_VIRTIO 0x2e
#define VEC_WATCHDOG 0x2f

#define BLK_T_IN 0
#define BLK_T_OUT 1
#define BLK_S_OK 0

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};
struct avail {
	uint16_t flags, idx;
	uint16_t ring[QSIZE];
	uint16_t used_event;
};
struct used_elem {
	uint32_t id, len;
};
struct used {
	uint16_t flags, idx;
	struct used_elem ring[QSIZE];
	uint16_t avail_event;
};

/* One queue per device, each in its own 16 KiB of low RAM (identity-mapped, no paging). */
struct vq {
	uintptr_t base; /* transport registers */
	volatile struct desc *desc;
	volatile struct avail *avail;
	volatile struct used *used;
	uint16_t last_used;
};

struct blk_req {
	uint32_t type, reserved;
	uint64_t sector;
};

static inline uint32_t rd(uintptr_t base, uint32_t reg)
{
	return mmio_read32(base + reg);
}
static inline void wr(uintptr_t base, uint32_t reg, uint32_t v)
{
	mmio_write32(base + reg, v);
}

static volatile unsigned int virtio_irqs, watchdog_fired;
static volatile uint32_t irq_status;
static uintptr_t irq_base; /* transport whose interrupt is routed */

void trap(struct trap_frame *f)
{
	if (f->vector == VEC_VIRTIO) {
		/* Acknowledge at the device first, then at the LAPIC. */
		uint32_t st = rd(irq_base, REG_INTERRUPT_STATUS);
		irq_status |= st;
		wr(irq_base, REG_INTERRUPT_ACK, st);
		virtio_irqs++;
		mmio_write32(LAPIC_EOI, 0);
		return;
	}
	if (f->vector == VEC_WATCHDOG) {
		watchdog_fired = 1;
		mmio_write32(LAPIC_EOI, 0);
		return;
	}
	gprintf("unexpected vector %u err %x at %x:%x\n", f->vector, f->error, f->cs, f->ip);
	guest_exit(3);
}

static void ioapic_route(unsigned int pin, unsigned int vector)
{
	mmio_write32(IOAPIC, 0x10 + 2 * pin + 1);
	mmio_write32(IOAPIC + 0x10, 0); /* destination: APIC ID 0 */
	mmio_write32(IOAPIC, 0x10 + 2 * pin);
	mmio_write32(IOAPIC + 0x10, vector); /* fixed, physical, active high, edge, unmasked */
}

static uintptr_t find_device(uint32_t id)
{
	for (unsigned int i = 0; i < SLOTS; i++) {
		uintptr_t b = SLOT_BASE + i * SLOT_SIZE;
		if (rd(b, REG_MAGIC) == VIRTIO_MAGIC && rd(b, REG_DEVICE_ID) == id)
			return b;
	}
	for (unsigned int i = 0; i < QEMU_SLOTS; i++) {
		uintptr_t b = QEMU_SLOT_BASE + i * QEMU_SLOT_SIZE;
		if (rd(b, REG_MAGIC) == VIRTIO_MAGIC && rd(b, REG_DEVICE_ID) == id)
			return b;
	}
	return 0;
}

/* Device initialisation (virtio 1.x, 3.1.1) with one queue; returns 0 or a negative step. */
static int device_init(struct vq *q, uintptr_t base, uintptr_t mem)
{
	uint32_t hi;

	if (rd(base, REG_VERSION) != 2)
		return -1;	 /* legacy (version 1) transports are not handled */
	wr(base, REG_STATUS, 0); /* reset */
	if (rd(base, REG_STATUS) != 0)
		return -2;
	wr(base, REG_STATUS, STATUS_ACKNOWLEDGE);
	wr(base, REG_STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER);
	wr(base, REG_DEVICE_FEATURES_SEL, 1);
	hi = rd(base, REG_DEVICE_FEATURES);
	if (!(hi & 1)) /* VIRTIO_F_VERSION_1 is feature bit 32 */
		return -3;
	wr(base, REG_DRIVER_FEATURES_SEL, 0);
	wr(base, REG_DRIVER_FEATURES, 0);
	wr(base, REG_DRIVER_FEATURES_SEL, 1);
	wr(base, REG_DRIVER_FEATURES, 1);
	wr(base, REG_STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK);
	if (!(rd(base, REG_STATUS) & STATUS_FEATURES_OK))
		return -4;

	wr(base, REG_QUEUE_SEL, 0);
	if (rd(base, REG_QUEUE_READY) != 0)
		return -5;
	if (rd(base, REG_QUEUE_NUM_MAX) < QSIZE)
		return -6;
	q->base = base;
	q->desc = (volatile struct desc *)mem;
	q->avail = (volatile struct avail *)(mem + 0x1000);
	q->used = (volatile struct used *)(mem + 0x2000);
	q->last_used = 0;
	memset((void *)mem, 0, 0x3000);
	wr(base, REG_QUEUE_NUM, QSIZE);
	wr(base, REG_QUEUE_DESC_LOW, (uint32_t)(uintptr_t)q->desc);
	wr(base, REG_QUEUE_DESC_HIGH, 0);
	wr(base, REG_QUEUE_DRIVER_LOW, (uint32_t)(uintptr_t)q->avail);
	wr(base, REG_QUEUE_DRIVER_HIGH, 0);
	wr(base, REG_QUEUE_DEVICE_LOW, (uint32_t)(uintptr_t)q->used);
	wr(base, REG_QUEUE_DEVICE_HIGH, 0);
	wr(base, REG_QUEUE_READY, 1);
	wr(base, REG_STATUS,
	   STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK | STATUS_DRIVER_OK);
	if (rd(base, REG_STATUS) & STATUS_FAILED)
		return -7;
	return 0;
}

/*
 * Publish the chain starting at descriptor 0, notify, and wait for its completion:
 * by polling, or with @irq by sleeping until the interrupt handler has run.
 */
static int submit(struct vq *q, uint32_t *len, bool irq)
{
	uint16_t idx = q->avail->idx;
	unsigned int spins = 0;

	q->avail->ring[idx % QSIZE] = 0;
	__asm__ volatile("" ::: "memory"); /* x86 keeps stores in order */
	q->avail->idx = (uint16_t)(idx + 1);
	__asm__ volatile("lock orl $0, (%%esp)" ::: "memory"); /* full barrier */
	wr(q->base, REG_QUEUE_NOTIFY, 0);
	if (irq) {
		/* STI; HLT cannot miss the wakeup; the watchdog ends a wait for nothing. */
		while (!virtio_irqs && !watchdog_fired)
			__asm__ volatile("sti; hlt; cli" ::: "memory");
		if (!virtio_irqs || !(irq_status & 1) || q->used->idx == q->last_used)
			return -2;
	}
	while (q->used->idx == q->last_used) {
		if (++spins > 10000000)
			return -1;
		__asm__ volatile("pause" ::: "memory");
	}
	*len = q->used->ring[q->last_used % QSIZE].len;
	q->last_used++;
	/* Polled: acknowledge the used-buffer interrupt all the same. */
	if (!irq)
		wr(q->base, REG_INTERRUPT_ACK, rd(q->base, REG_INTERRUPT_STATUS) & 3);
	return 0;
}

static int blk_rw(struct vq *q, uint32_t type, uint64_t sector, void *buf, uintptr_t scratch)
{
	struct blk_req *req = (struct blk_req *)scratch;
	volatile uint8_t *status = (volatile uint8_t *)(scratch + 64);
	uint32_t len;

	req->type = type;
	req->reserved = 0;
	req->sector = sector;
	*status = 0xff;
	q->desc[0].addr = (uintptr_t)req;
	q->desc[0].len = sizeof(*req);
	q->desc[0].flags = DESC_F_NEXT;
	q->desc[0].next = 1;
	q->desc[1].addr = (uintptr_t)buf;
	q->desc[1].len = 512;
	q->desc[1].flags = DESC_F_NEXT | (type == BLK_T_IN ? DESC_F_WRITE : 0);
	q->desc[1].next = 2;
	q->desc[2].addr = (uintptr_t)status;
	q->desc[2].len = 1;
	q->desc[2].flags = DESC_F_WRITE;
	q->desc[2].next = 0;
	if (submit(q, &len, false) < 0)
		return -1;
	return *status == BLK_S_OK ? 0 : -2;
}

#define BLK_QUEUE 0x40000
#define BLK_SCRATCH 0x43000
#define BLK_BUF0 0x44000
#define BLK_BUF1 0x45000
#define RNG_QUEUE 0x50000
#define RNG_BUF 0x53000

static int test_blk(void)
{
	struct vq q;
	uintptr_t base = find_device(ID_BLOCK);
	uint8_t *b0 = (uint8_t *)BLK_BUF0, *b1 = (uint8_t *)BLK_BUF1;
	uint32_t sum = 0, cap_lo, cap_hi;
	int ret;

	if (!base) {
		gprintf("virtio-blk: no device\n");
		return -1;
	}
	ret = device_init(&q, base, BLK_QUEUE);
	if (ret < 0) {
		gprintf("virtio-blk: init failed at step %d\n", -ret);
		return -1;
	}
	cap_lo = rd(base, REG_CONFIG);
	cap_hi = rd(base, REG_CONFIG + 4);
	gprintf("virtio-blk: version 2, capacity %u sectors%s\n", cap_lo, cap_hi ? " (+4G)" : "");

	if (blk_rw(&q, BLK_T_IN, 0, b0, BLK_SCRATCH) < 0) {
		gprintf("virtio-blk: read of sector 0 failed\n");
		return -1;
	}
	for (unsigned int i = 0; i < 512; i++)
		sum = sum * 31 + b0[i];
	gprintf("virtio-blk: sector 0 starts %02x %02x %02x %02x, checksum %08x\n", b0[0], b0[1],
		b0[2], b0[3], sum);

	for (unsigned int i = 0; i < 512; i++)
		b0[i] = (uint8_t)(0xa5 ^ i);
	memcpy(b0, "cabin virtio-blk write test", 27);
	if (blk_rw(&q, BLK_T_OUT, 1, b0, BLK_SCRATCH) < 0) {
		gprintf("virtio-blk: write of sector 1 failed\n");
		return -1;
	}
	memset(b1, 0, 512);
	if (blk_rw(&q, BLK_T_IN, 1, b1, BLK_SCRATCH) < 0) {
		gprintf("virtio-blk: read of sector 1 failed\n");
		return -1;
	}
	ret = memcmp(b0, b1, 512);
	gprintf("virtio-blk: sector 1 written and read back: %s\n", ret ? "differs" : "same");
	wr(base, REG_STATUS, 0);
	return ret ? -1 : 0;
}

static int test_rng(void)
{
	struct vq q;
	uintptr_t base = find_device(ID_RNG);
	uint32_t len = 0;
	bool irq;
	int ret;

	if (!base) {
		gprintf("virtio-rng: no device\n");
		return -1;
	}
	ret = device_init(&q, base, RNG_QUEUE);
	if (ret < 0) {
		gprintf("virtio-rng: init failed at step %d\n", -ret);
		return -1;
	}
	q.desc[0].addr = RNG_BUF;
	q.desc[0].len = 16;
	q.desc[0].flags = DESC_F_WRITE;
	q.desc[0].next = 0;
	irq = base >= SLOT_BASE && base < SLOT_BASE + SLOTS * SLOT_SIZE;
	if (irq) {
		irq_base = base;
		ioapic_route(GSI_BASE + (base - SLOT_BASE) / SLOT_SIZE, VEC_VIRTIO);
		mmio_write32(LAPIC_TDCR, 0xa);		/* divide by 128 */
		mmio_write32(LAPIC_LVTT, VEC_WATCHDOG); /* one-shot */
		mmio_write32(LAPIC_TICR, 20000000);	/* 2.56 s at KVM's 1 GHz bus */
	}
	ret = submit(&q, &len, irq);
	if (irq)
		mmio_write32(LAPIC_TICR, 0);
	if (ret < 0) {
		gprintf("virtio-rng: no %s\n", ret == -2 ? "interrupt" : "answer");
		return -1;
	}
	/* The bytes are random: only their number is part of the expected output. */
	gprintf("virtio-rng: got %u bytes\n", len);
	wr(base, REG_STATUS, 0);
	return len == 16 ? 0 : -1;
}

int guest_main(void)
{
	int fails = 0;

	gprintf("virtio: modern virtio-mmio driver\n");
	idt_init();
	outb(0x21, 0xff); /* the PIC stays masked: interrupts come through the IOAPIC */
	outb(0xa1, 0xff);
	mmio_write32(LAPIC_SVR, 0x1ff);
	fails += test_blk() < 0;
	fails += test_rng() < 0;
	gprintf("virtio: %s\n", fails ? "FAILED" : "done");
	guest_exit_clean(fails ? 1 : 0);
}
